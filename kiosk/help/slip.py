"""The help slip (帮办求助单): printed when no server could be reached, so the resident can
take it to a window. No personal data on it."""

from __future__ import annotations

from datetime import datetime

from drivers.printer.document import Cut, Document, Feed, Rule
from kiosk.printing.layout import Layout, T, render

HELP_SLIP = Layout("help_slip", "帮办求助单", (
    T("帮办求助单", size=2, align="center", bold=True),
    Rule(),
    T("您在 {place} 需要帮助。"),
    T("请持此单到：{nearest_window}"),
    T("或拨打大厅电话：{phone}"),
    T("终端编号：{terminal}"),
    T("时间：{printed_at}"),
    Rule(),
    T("工作人员将优先为您办理。", align="center"),
    Feed(1),
    Cut(),
))


def help_slip(place: str, nearest_window: str, phone: str, terminal: str, *,
              printed_at: datetime | None = None, paper_width_mm: int = 58) -> Document:
    return render(HELP_SLIP, {
        "place": place, "nearest_window": nearest_window, "phone": phone,
        "terminal": terminal,
        "printed_at": (printed_at or datetime.now()).strftime("%Y-%m-%d %H:%M"),
    }, paper_width_mm=paper_width_mm)

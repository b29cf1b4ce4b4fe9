"""The progress slip (办件进度单) and the timeline rows the screen and the slip share."""

from __future__ import annotations

from datetime import datetime

from drivers.printer.document import Cut, Document, Feed, Rule
from kiosk.codes.progress import Application
from kiosk.printing.layout import Each, Layout, Q, T, render

PROGRESS_SLIP = Layout("progress_slip", "办件进度单", (
    T("办件进度单", size=2, align="center", bold=True),
    T("（演示样例数据）", align="center", when="sample"),
    T("{item}", align="center", bold=True),
    T("办件编号：{handling_number}"),
    T("受理日期：{accepted_on}"),
    T("当前环节：{current_step}", bold=True),
    Rule(),
    Each("steps", (T("{item[mark]} {item[name]}  {item[when]}"),)),
    Rule(),
    T("承诺办结：{promised_on}"),
    T("结果领取：{pickup_place}"),
    T("本终端可自助出件", when="self_pickup"),
    Q("{follow_url}", module_size=5, when="follow_url"),
    T("手机扫码，随时查看办件进度", align="center", when="follow_url"),
    T("打印时间：{printed_at}", align="right"),
    Feed(1),
    Cut(),
))


def timeline(app: Application) -> list[dict[str, str]]:
    """One row per step: ``state`` done / current / pending, ``when`` the date or "" ."""
    rows = []
    current_seen = False
    for step in app.steps:
        if step.done_on:
            state = "done"
        elif not current_seen:
            state, current_seen = "current", True
        else:
            state = "pending"
        rows.append({"name": step.name, "when": step.done_on, "state": state,
                     "mark": {"done": "●", "current": "◎", "pending": "○"}[state]})
    return rows


def progress_slip(app: Application, *, printed_at: datetime | None = None,
                  paper_width_mm: int = 58) -> Document:
    """No personal data on it: the handling number and the item only."""
    steps = [dict(row, when=row["when"] or ("进行中" if row["state"] == "current" else "待办"))
             for row in timeline(app)]
    return render(PROGRESS_SLIP, {
        "sample": "1" if app.sample else "", "item": app.item,
        "handling_number": app.handling_number, "accepted_on": app.accepted_on,
        "current_step": app.current_step, "steps": steps, "promised_on": app.promised_on,
        "pickup_place": app.pickup_place, "self_pickup": "1" if app.self_pickup else "",
        "follow_url": app.follow_url,
        "printed_at": (printed_at or datetime.now()).strftime("%Y-%m-%d %H:%M"),
    }, paper_width_mm=paper_width_mm)

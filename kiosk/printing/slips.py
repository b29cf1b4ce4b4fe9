"""What the kiosk prints: slip data (with masked reprs) and builders returning Documents.

Masking rule per slip (drivers.privacy): the queue ticket shows a checked-in appointment holder
as ``张*``; the resident code slip shows ``张*`` and ``3701**********1234`` (the QR is the code
itself, the reason the slip exists); a proof carries the holder's full name and ID number
because the certifying body requires them (``mask_holder=True`` masks them too), and any phone
or ID number that slips into its free-text fields is masked.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from PIL import Image, ImageDraw

from drivers.printer.document import Document
from drivers.printer.encoder import PAPER_DOTS
from drivers.privacy import mask_id_number, mask_name, scrub
from kiosk.printing.layout import COLUMNS, render
from kiosk.printing.layouts import CODE_SLIP, PROOF, QUEUE_TICKET, SERVICE_GUIDE, TEST_PAGE

TIME_FORMAT = "%Y-%m-%d %H:%M"


def _when(value: datetime | date | None) -> str:
    if value is None:
        value = datetime.now()
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    return value.strftime("%Y-%m-%d")


def wait_text(minutes: int | None) -> str:
    """``约 25 分钟``, ``约 1 小时 20 分钟``; unknown → a plain instruction."""
    if minutes is None:
        return "请留意叫号"
    if minutes <= 0:
        return "即将叫号"
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"约 {rest} 分钟"
    return f"约 {hours} 小时" + (f" {rest} 分钟" if rest else "")


# -- queue ticket ----------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueTicket:
    hall_name: str
    number: str  # "A005"
    service: str
    people_ahead: int
    estimated_wait_min: int | None
    issued_at: datetime
    follow_url: str = ""  # opens the queue progress page on a phone
    holder_name: str = field(default="", repr=False)  # appointment check-in only

    def __repr__(self) -> str:
        return (f"QueueTicket({self.number!r}, {self.service!r}, ahead={self.people_ahead}, "
                f"holder={mask_name(self.holder_name)!r})")


def queue_ticket(ticket: QueueTicket, *, paper_width_mm: int = 58,
                 logo_png: bytes | None = None) -> Document:
    return render(QUEUE_TICKET, {
        "logo": logo_png,
        "hall_name": ticket.hall_name,
        "number": ticket.number,
        "service": ticket.service,
        "holder": mask_name(ticket.holder_name),
        "people_ahead": max(0, ticket.people_ahead),
        "estimated_wait": wait_text(ticket.estimated_wait_min),
        "issued_at": _when(ticket.issued_at),
        "follow_url": ticket.follow_url,
    }, paper_width_mm)


# -- service guide ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Material:
    name: str
    detail: str = ""  # "原件 1 份，复印件 1 份"


@dataclass(frozen=True)
class ServiceGuide:
    item_name: str
    item_code: str = ""
    department: str = ""
    conditions: tuple[str, ...] = ()
    materials: tuple[Material, ...] = ()
    time_limit: str = ""  # "法定 20 个工作日，承诺 5 个工作日"
    fees: str = "不收费"
    location: str = ""
    hours: str = ""
    hotline: str = ""
    guide_url: str = ""


def service_guide(guide: ServiceGuide, *, printed_at: datetime | None = None,
                  paper_width_mm: int = 58) -> Document:
    return render(SERVICE_GUIDE, {
        "item_name": guide.item_name,
        "item_code": guide.item_code,
        "department": guide.department,
        "conditions": list(guide.conditions),
        "materials": [{"name": m.name, "detail": m.detail} for m in guide.materials],
        "time_limit": guide.time_limit or "即时办结",
        "fees": guide.fees,
        "location": guide.location,
        "hours": guide.hours,
        "hotline": guide.hotline,
        "guide_url": guide.guide_url,
        "printed_at": _when(printed_at),
    }, paper_width_mm)


# -- resident / enterprise code --------------------------------------------------------------
@dataclass(frozen=True)
class CodeSlip:
    kind: Literal["resident", "enterprise"]
    holder_name: str  # person (masked on the slip) or enterprise name (printed)
    code: str  # opaque payload from the platform, printed as the QR
    valid_until: datetime
    holder_id: str = ""  # ID number (masked) or unified social credit code (printed)

    def __repr__(self) -> str:
        holder = mask_name(self.holder_name) if self.kind == "resident" else self.holder_name
        return f"CodeSlip({self.kind}, {holder!r}, code=<{len(self.code)} chars>)"


def code_slip(slip: CodeSlip, *, printed_at: datetime | None = None,
              paper_width_mm: int = 58) -> Document:
    if slip.kind == "resident":
        name, holder, holder_id = ("居民码", mask_name(slip.holder_name),
                                   mask_id_number(slip.holder_id) if slip.holder_id else "")
    else:
        name, holder = "企业码", slip.holder_name
        holder_id = f"统一社会信用代码：{slip.holder_id}" if slip.holder_id else ""
    return render(CODE_SLIP, {
        "code_name": name, "holder": holder, "holder_id": holder_id, "code": slip.code,
        "valid_until": _when(slip.valid_until), "printed_at": _when(printed_at),
    }, paper_width_mm)


# -- proof -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Proof:
    title: str  # "参保缴费证明"
    holder_name: str
    holder_id: str
    verify_url: str
    issuer: str
    issued_at: date
    fields: tuple[tuple[str, str], ...] = ()  # ("参保险种", "企业职工基本养老保险")
    rows_header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    statement: str = ""
    verify_code: str = ""
    document_no: str = ""

    def __repr__(self) -> str:
        return (f"Proof({self.title!r}, holder={mask_name(self.holder_name)!r}, "
                f"{len(self.fields)} fields, {len(self.rows)} rows)")


def proof(doc: Proof, *, mask_holder: bool = False, paper_width_mm: int = 58) -> Document:
    return render(PROOF, {
        "title": doc.title,
        "document_no": doc.document_no,
        "holder": mask_name(doc.holder_name) if mask_holder else doc.holder_name,
        "holder_id": mask_id_number(doc.holder_id) if mask_holder else doc.holder_id,
        "fields": [(label, scrub(value)) for label, value in doc.fields],
        "rows_header": doc.rows_header,
        "rows": [tuple(scrub(c) for c in row) for row in doc.rows],
        "statement": scrub(doc.statement),
        "issuer": doc.issuer,
        "issued_at": _when(doc.issued_at),
        "verify_url": doc.verify_url,
        "verify_code": doc.verify_code,
    }, paper_width_mm)


# -- technician test page --------------------------------------------------------------------
RARE_SAMPLE = "䶮 堃 㛃 喆 犇"  # outside GB2312 / GBK: exercises the raster fallback


@dataclass(frozen=True)
class TestPage:
    terminal_id: str
    printer: str  # "escpos tcp://10.0.0.8:9100"
    paper_width_mm: int = 58
    encoding: str = "gb18030"
    status: str = ""
    printed_at: datetime | None = None

    __test__ = False  # not a pytest test class


def ruler_png(dots: int, height: int = 40) -> bytes:
    """A full-width ruler: a tick every mm (8 dots at 203 dpi), longer every 5 and 10 mm,
    and a bar at both edges, so a technician sees whether the whole width prints."""
    image = Image.new("L", (dots, height), 255)
    draw = ImageDraw.Draw(image)
    draw.line((0, 0, dots - 1, 0), fill=0, width=2)
    for x in range(0, dots, 8):
        mm = x // 8
        length = height if mm % 10 == 0 else height * 2 // 3 if mm % 5 == 0 else height // 3
        draw.line((x, 0, x, length - 1), fill=0, width=2 if mm % 10 == 0 else 1)
    draw.rectangle((dots - 3, 0, dots - 1, height - 1), fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_page(page: TestPage, *, rare: str = RARE_SAMPLE) -> Document:
    dots = PAPER_DOTS[page.paper_width_mm]
    printed_at = page.printed_at or datetime.now()
    columns = COLUMNS[page.paper_width_mm]
    return render(TEST_PAGE, {
        "terminal_id": page.terminal_id,
        "printer": page.printer,
        "paper_width_mm": page.paper_width_mm,
        "dots": dots,
        "encoding": page.encoding,
        "status": page.status,
        "printed_at": _when(printed_at),
        "rare": rare,
        "ruler_digits": ("1234567890" * 10)[:columns],
        "ruler": ruler_png(dots),
        "qr_payload": f"KIOSK-TEST:{page.terminal_id}:{printed_at:%Y%m%d%H%M%S}",
    }, page.paper_width_mm)


__all__ = [
    "CodeSlip", "Material", "Proof", "QueueTicket", "ServiceGuide", "TestPage", "code_slip",
    "proof", "queue_ticket", "ruler_png", "service_guide", "test_page", "wait_text"]

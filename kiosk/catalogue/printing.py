"""An item's guide as a printable checklist (the ``service_guide`` slip of kiosk.printing).

The guide screen calls :func:`guide_document` and hands the Document to the printer on a
worker thread. The slip lists the conditions, a □ checklist of materials with originals,
copies and whether an electronic licence replaces them, time limits, fees, where to go and a
QR code to continue on the phone. Sample catalogues print 示例数据 after the item name, so a
demo slip is never mistaken for an official guide. No personal data is involved.
"""

from __future__ import annotations

from datetime import datetime

from drivers.printer.document import Document
from kiosk.catalogue.model import Item
from kiosk.printing import Material, ServiceGuide, service_guide

ASK_AT_WINDOW = "请咨询窗口工作人员"
SAMPLE_MARK = "（示例数据）"


def guide_slip(item: Item, *, sample_data: bool = False, hotline: str = "") -> ServiceGuide:
    """The slip's fields for ``item`` (``sample_data``: the catalogue is marked sample)."""
    guide = item.guide
    where = item.where
    sample = sample_data or (guide is not None and guide.sample)
    name = item.name + (SAMPLE_MARK if sample else "")
    if guide is None:
        return ServiceGuide(item_name=name, item_code=item.code,
                            department=item.implementing_body,
                            time_limit=ASK_AT_WINDOW, fees=ASK_AT_WINDOW,
                            location=where.text() if where else ASK_AT_WINDOW,
                            hours=where.hours if where else "",
                            hotline=(where.phone if where else "") or hotline,
                            guide_url=item.online_url)
    materials = tuple(Material(m.name, m.detail()) for m in guide.materials)
    return ServiceGuide(
        item_name=name, item_code=item.code, department=item.implementing_body,
        conditions=guide.conditions, materials=materials,
        time_limit=guide.time_limit.text(), fees=guide.fees.describe(),
        location=where.text() if where else ASK_AT_WINDOW,
        hours=where.hours if where else "",
        hotline=(where.phone if where else "") or hotline,
        guide_url=item.online_url)


def guide_document(item: Item, *, sample_data: bool = False, hotline: str = "",
                   printed_at: datetime | None = None, paper_width_mm: int = 58) -> Document:
    """The printable checklist of ``item``'s guide."""
    return service_guide(guide_slip(item, sample_data=sample_data, hotline=hotline),
                         printed_at=printed_at, paper_width_mm=paper_width_mm)

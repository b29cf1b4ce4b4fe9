"""kiosk.printing: layouts as data, the renderer, slip builders and their masking."""

from __future__ import annotations

from datetime import datetime

import pytest

from drivers.printer.document import Barcode, Cut, Document, Image, QrCode, Rule, Text
from drivers.printer.fake import render_text
from kiosk.printing import LAYOUTS, code_slip, proof, queue_ticket, render, wait_text
from kiosk.printing.layout import Each, Layout, Q, T, Table, fill, pad
from kiosk.printing.samples import (
    ENTERPRISE_CODE,
    GUIDE,
    PROOF,
    RESIDENT_CODE,
    TICKET,
    all_documents,
)


def texts(doc: Document) -> str:
    return "\n".join(b.text for b in doc.blocks if isinstance(b, Text))


def qr_payloads(doc: Document) -> list[str]:
    return [b.data for b in doc.blocks if isinstance(b, QrCode)]


def test_fill_tolerates_missing_fields() -> None:
    assert fill("{a}-{b}-{c[x]}", {"a": 1, "c": {"x": "y"}}) == "1--y"
    assert fill("{item[name]}", {}) == ""


def test_pad_counts_cjk_as_two_columns() -> None:
    assert pad("年月", 6) == "年月  "
    assert pad("社会保障卡", 5) == "社会 "


def test_render_skips_when_and_empty_and_repeats_each() -> None:
    layout = Layout("t", "测试", (
        T("{a}", when="flag"), T("   "), Each("xs", (T("{index}:{item}"),)),
        Q("{url}"), Table("rows", header=("甲", "乙")), Rule(), Cut()))
    doc = render(layout, {"a": "A", "xs": ["x", "y"], "url": "", "rows": [("1", "2")]})
    assert doc.title == "测试"
    assert texts(doc).splitlines() == ["1:x", "2:y", "甲              乙", "1               2"]
    assert not qr_payloads(doc)
    assert isinstance(doc.blocks[-1], Cut)
    with_flag = render(layout, {"a": "A", "flag": True})
    assert texts(with_flag).startswith("A")


def test_wait_text() -> None:
    assert wait_text(None) == "请留意叫号"
    assert wait_text(0) == "即将叫号"
    assert wait_text(25) == "约 25 分钟"
    assert wait_text(80) == "约 1 小时 20 分钟"
    assert wait_text(120) == "约 2 小时"


def test_queue_ticket_contents() -> None:
    doc = queue_ticket(TICKET)
    body = texts(doc)
    for expected in ("济南市历下区政务服务中心", "A005", "社会保障卡申领", "前方等待：3 人",
                     "预计等候：约 15 分钟", "取号时间：2025-03-18 09:42", "好差评"):
        assert expected in body
    assert qr_payloads(doc) == [TICKET.follow_url]
    big = [b for b in doc.blocks if isinstance(b, Text) and b.text == "A005"]
    assert big and big[0].size == 4 and big[0].align == "center"
    assert isinstance(doc.blocks[-1], Cut)
    assert doc.title == "排队小票"


def test_queue_ticket_masks_appointment_holder_and_takes_a_logo() -> None:
    ticket = TICKET.__class__(**{**TICKET.__dict__, "holder_name": "张三丰"})
    doc = queue_ticket(ticket, logo_png=b"\x89PNG fake")
    assert "预约人：张**" in texts(doc) and "三丰" not in texts(doc)
    assert isinstance(doc.blocks[0], Image)
    assert "三丰" not in repr(ticket)


def test_service_guide_lists() -> None:
    doc = all_documents()["service_guide"]
    body = texts(doc)
    assert "1. 具有本市户籍或在本市参加社会保险的人员" in body
    assert "□ 2. 近期一寸免冠白底彩色照片" in body and "1 张，可现场拍照" in body
    assert "法定 20 个工作日" in body and "不收费" in body and "咨询电话：12345" in body
    assert qr_payloads(doc) == [GUIDE.guide_url]


def test_resident_code_slip_is_masked_but_carries_the_code() -> None:
    doc = code_slip(RESIDENT_CODE, printed_at=datetime(2025, 3, 18, 9, 42))
    body = texts(doc)
    assert "居民码" in body and "张**" in body and "3701**********123X" in body
    assert "张三丰" not in body and RESIDENT_CODE.holder_id not in body
    assert qr_payloads(doc) == [RESIDENT_CODE.code]
    assert "有效期至：2025-03-18 09:47" in body
    assert "张三丰" not in repr(RESIDENT_CODE) and RESIDENT_CODE.code not in repr(RESIDENT_CODE)


def test_enterprise_code_slip_prints_the_company() -> None:
    body = texts(code_slip(ENTERPRISE_CODE))
    assert "企业码" in body and "济南示例科技有限公司" in body
    assert "统一社会信用代码：91370102MA3C000X0A" in body


def test_proof_requires_identity_but_scrubs_the_rest() -> None:
    doc = proof(PROOF)
    body = texts(doc)
    assert "姓名：龚䶮" in body and f"证件号码：{PROOF.holder_id}" in body
    assert "13812345678" not in body and "138****5678" in body
    assert "年月" in body and "2025-02" in body
    assert qr_payloads(doc) == [PROOF.verify_url]
    assert "验证码：K7Q2-9M4D" in body
    masked = texts(proof(PROOF, mask_holder=True))
    assert "姓名：龚*" in masked and PROOF.holder_id not in masked
    assert "龚䶮" not in repr(PROOF)


@pytest.mark.parametrize("width", [58, 80])
def test_test_page_has_everything(width: int) -> None:
    doc = all_documents(width)["test_page"]
    sizes = {b.size for b in doc.blocks if isinstance(b, Text)}
    aligns = {b.align for b in doc.blocks if isinstance(b, Text)}
    assert sizes == {1, 2, 3, 4} and aligns == {"left", "center", "right"}
    assert any(isinstance(b, Barcode) and b.data == "JN-LX-0001" for b in doc.blocks)
    assert qr_payloads(doc) == ["KIOSK-TEST:JN-LX-0001:20250318094200"]
    assert any(isinstance(b, Image) for b in doc.blocks)
    assert ("1234567890" * 5)[:{58: 32, 80: 48}[width]] in texts(doc)
    assert "终端编号：JN-LX-0001" in texts(doc)


def test_every_layout_is_registered_and_renders_as_text() -> None:
    assert set(LAYOUTS) == {"queue_ticket", "service_guide", "code_slip", "proof", "test_page"}
    for name, doc in all_documents().items():
        assert doc.title, name
        assert render_text(doc).endswith("[CUT]"), name


def test_queue_ticket_job_is_under_2_kb_with_native_qr() -> None:
    from drivers.printer.encoder import EncoderOptions, EscposEncoder

    for width in (58, 80):
        data = EscposEncoder(EncoderOptions(paper_width_mm=width)).encode(
            queue_ticket(TICKET, paper_width_mm=width))
        assert len(data) < 2048

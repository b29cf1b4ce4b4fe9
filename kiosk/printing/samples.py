"""Sample slips with made-up data (demo terminal, previews, tests). No real person's data."""

from __future__ import annotations

from datetime import date, datetime

from drivers.printer.document import Document
from kiosk.printing.slips import (
    CodeSlip,
    Material,
    Proof,
    QueueTicket,
    ServiceGuide,
    TestPage,
    code_slip,
    proof,
    queue_ticket,
    service_guide,
    test_page,
)

AT = datetime(2025, 3, 18, 9, 42)

TICKET = QueueTicket(
    hall_name="济南市历下区政务服务中心", number="A005", service="社会保障卡申领",
    people_ahead=3, estimated_wait_min=15, issued_at=AT,
    follow_url="https://queue.example.invalid/t/370102-A005?d=20250318")

GUIDE = ServiceGuide(
    item_name="社会保障卡申领", item_code="370100-SB-0001", department="济南市人力资源和社会保障局",
    conditions=("具有本市户籍或在本市参加社会保险的人员", "未申领过社会保障卡或原卡已注销"),
    materials=(Material("居民身份证", "原件 1 份"), Material("近期一寸免冠白底彩色照片",
                                                              "1 张，可现场拍照"),
               Material("户口簿", "未成年人申领时提供，原件 1 份")),
    time_limit="法定 20 个工作日，承诺即时办结", fees="不收费",
    location="历下区政务服务中心一楼 社保综合窗口 5-8 号", hours="周一至周五 9:00-17:00",
    hotline="12345", guide_url="https://guide.example.invalid/item/370100-SB-0001")

RESIDENT_CODE = CodeSlip(
    kind="resident", holder_name="张三丰", holder_id="37010219900101123X",
    code="RC1:3701:8f3a9c2e7d114b6a9e0c5d2f1a7b3c4d", valid_until=datetime(2025, 3, 18, 9, 47))

ENTERPRISE_CODE = CodeSlip(
    kind="enterprise", holder_name="济南示例科技有限公司", holder_id="91370102MA3C000X0A",
    code="EC1:91370102MA3C000X0A:5b1e", valid_until=datetime(2025, 3, 18, 10, 42))

PROOF = Proof(
    title="参保缴费证明", holder_name="龚䶮", holder_id="37010219900101123X",
    verify_url="https://verify.example.invalid/p/SD2025031800001", verify_code="K7Q2-9M4D",
    issuer="济南市社会保险事业中心", issued_at=date(2025, 3, 18), document_no="SD2025031800001",
    fields=(("参保险种", "企业职工基本养老保险"), ("参保状态", "正常参保"),
            ("联系电话", "13812345678")),
    rows_header=("年月", "缴费基数", "状态"),
    rows=(("2025-01", "5000.00", "已缴"), ("2025-02", "5000.00", "已缴")),
    statement="兹证明上述人员在本单位参保缴费情况属实。")


def test_page_sample(paper_width_mm: int = 58) -> TestPage:
    return TestPage(terminal_id="JN-LX-0001", printer="escpos tcp://127.0.0.1:9100",
                    paper_width_mm=paper_width_mm, status="正常", printed_at=AT)


def all_documents(paper_width_mm: int = 58, logo_png: bytes | None = None
                  ) -> dict[str, Document]:
    """Every layout filled with sample data."""
    return {
        "queue_ticket": queue_ticket(TICKET, paper_width_mm=paper_width_mm, logo_png=logo_png),
        "service_guide": service_guide(GUIDE, printed_at=AT, paper_width_mm=paper_width_mm),
        "resident_code": code_slip(RESIDENT_CODE, printed_at=AT, paper_width_mm=paper_width_mm),
        "enterprise_code": code_slip(ENTERPRISE_CODE, printed_at=AT,
                                     paper_width_mm=paper_width_mm),
        "proof": proof(PROOF, paper_width_mm=paper_width_mm),
        "test_page": test_page(test_page_sample(paper_width_mm)),
    }

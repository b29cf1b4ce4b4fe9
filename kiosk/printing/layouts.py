"""The slips the kiosk prints, as data. Fields are prepared (and masked) by ``slips.py``."""

from __future__ import annotations

from drivers.printer.document import Cut, Feed, Rule
from kiosk.printing.layout import B, Each, Img, Layout, Q, T, Table

QUEUE_TICKET = Layout("queue_ticket", "排队小票", (
    Img("logo", when="logo"),
    T("{hall_name}", align="center", bold=True),
    T("排队取号凭条", align="center"),
    Rule(),
    T("{number}", size=4, align="center", bold=True),
    T("{service}", size=2, align="center"),
    T("预约人：{holder}", align="center", when="holder"),
    Rule(),
    T("前方等待：{people_ahead} 人"),
    T("预计等候：{estimated_wait}"),
    T("取号时间：{issued_at}"),
    T("请留意叫号屏幕和语音提示，过号请重新取号。"),
    Q("{follow_url}", module_size=5, when="follow_url"),
    T("手机扫码，随时查看排队进度", align="center", when="follow_url"),
    Rule(),
    T("办理结束后，请您对本次服务作出评价（好差评），您的评价是我们改进的动力。"),
    Feed(1),
    Cut(),
))

SERVICE_GUIDE = Layout("service_guide", "办事指南", (
    T("办事指南", size=2, align="center", bold=True),
    T("{item_name}", align="center", bold=True),
    T("事项编码：{item_code}", when="item_code"),
    T("实施主体：{department}", when="department"),
    Rule(),
    T("【办理条件】", bold=True, when="conditions"),
    Each("conditions", (T("{index}. {item}"),)),
    T("【申请材料】", bold=True, when="materials"),
    Each("materials", (T("□ {index}. {item[name]}"),
                       T("    {item[detail]}"),)),
    T("【办理时限】", bold=True),
    T("{time_limit}"),
    T("【收费标准】", bold=True),
    T("{fees}"),
    T("【办理地点】", bold=True),
    T("{location}"),
    T("办公时间：{hours}", when="hours"),
    T("咨询电话：{hotline}", when="hotline"),
    Rule(),
    Q("{guide_url}", module_size=4, when="guide_url"),
    T("扫码查看图文版、视频版指南或在线办理", align="center", when="guide_url"),
    T("打印时间：{printed_at}", align="right"),
    Feed(1),
    Cut(),
))

CODE_SLIP = Layout("code_slip", "码证凭条", (
    T("{code_name}", size=2, align="center", bold=True),
    T("{holder}", align="center"),
    T("{holder_id}", align="center", when="holder_id"),
    Q("{code}", module_size=7, ec="Q"),
    T("有效期至：{valid_until}", align="center"),
    Rule(),
    T("本凭条仅限本人办事使用，请妥善保管，勿交他人。"),
    T("打印时间：{printed_at}"),
    Feed(1),
    Cut(),
))

PROOF = Layout("proof", "证明材料", (
    T("{title}", size=2, align="center", bold=True),
    T("编号：{document_no}", align="center", when="document_no"),
    Rule(),
    T("姓名：{holder}"),
    T("证件号码：{holder_id}"),
    Each("fields", (T("{item[0]}：{item[1]}"),)),
    Table("rows", when="rows"),
    Rule(),
    T("{statement}", when="statement"),
    T("出具单位：{issuer}", align="right"),
    T("出具日期：{issued_at}", align="right"),
    Q("{verify_url}", module_size=4, ec="M"),
    T("验证码：{verify_code}", align="center", bold=True, when="verify_code"),
    T("扫码或登录爱山东核验真伪", align="center"),
    Feed(1),
    Cut(),
))

TEST_PAGE = Layout("test_page", "打印机测试页", (
    T("打印机测试页", size=2, align="center", bold=True),
    T("终端编号：{terminal_id}"),
    T("打印机：{printer}"),
    T("纸宽：{paper_width_mm} mm（{dots} 点）  编码：{encoding}"),
    T("状态：{status}", when="status"),
    T("时间：{printed_at}"),
    Rule("="),
    T("1 号字 字号 ABC123", size=1),
    T("2 号字 ABC", size=2),
    T("3 号 A1", size=3),
    T("4号A", size=4),
    T("粗体 Bold 字样", bold=True),
    T("左对齐 left"),
    T("居中 center", align="center"),
    T("右对齐 right", align="right"),
    T("生僻字：{rare}", when="rare"),
    Rule(),
    T("{ruler_digits}"),
    Img("ruler"),
    Rule(),
    Q("{qr_payload}", module_size=6),
    B("{terminal_id}"),
    T("二维码、条码均应能被扫码枪识读。", align="center"),
    Feed(1),
    Cut(),
))

LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (
    QUEUE_TICKET, SERVICE_GUIDE, CODE_SLIP, PROOF, TEST_PAGE)}

"""Words for what the operators see: terminal states, device kinds, reasons, region names.

Every label here is a Chinese msgid; ``fleet/console/i18n/en.json`` has its English.
"""

from __future__ import annotations

from typing import Any

STATES = ("online", "offline", "stale", "alarm")
STATE_LABELS = {"online": "在线", "offline": "离线", "stale": "数据过期", "alarm": "告警中",
                "unknown": "未知"}

DEVICE_STATE_LABELS = {"ready": "正常", "unavailable": "离线", "starting": "启动中",
                       "stopped": "已停止", "disabled": "未启用", "unknown": "未知"}
PAPER_LABELS = {"ok": "纸张正常", "low": "纸将用尽", "near_end": "纸将用尽", "out": "缺纸",
                "end": "缺纸", "unknown": "纸张状态未知"}

DEVICE_LABELS = {"idcard": "身份证阅读器", "smartcard": "社保卡读卡器", "printer": "打印机",
                 "scanner": "扫码器", "camera": "摄像头", "ratingpad": "评价器"}

SERVICE_LABELS = {"queue": "取号", "guide": "办事指南", "code": "亮码", "proof": "证明打印",
                  "progress": "进度查询", "rating": "好差评", "help": "帮办"}

LEVEL_LABELS = {"very_satisfied": "非常满意", "satisfied": "满意", "basic": "基本满意",
                "dissatisfied": "不满意", "very_dissatisfied": "非常不满意"}
LEVELS = tuple(LEVEL_LABELS)
BAD_LEVELS = ("dissatisfied", "very_dissatisfied")

CASE_STATE_LABELS = {"pending": "待核实", "verified": "已核实", "rectifying": "整改中",
                     "rectified": "已整改", "explained": "已解释", "appealed": "申诉中",
                     "not_rectified": "未整改", "closed": "已办结", "callback": "已回访",
                     "invalid": "无效差评", "assigned": "已指派", "in_progress": "处理中",
                     "resolved": "已解决", "reopened": "重新打开"}

ALARM_STATE_LABELS = {"active": "未确认", "acknowledged": "已确认", "cleared": "已清除"}
SEVERITY_LABELS = {"critical": "严重", "major": "重要", "minor": "次要", "warning": "提示",
                   "info": "信息"}
ALARM_TYPE_LABELS = {"offline": "终端离线", "flapping": "频繁掉线", "paper_out": "缺纸",
                     "paper_low": "纸将用尽", "device_unavailable": "设备故障",
                     "outbox_backlog": "待发数据积压", "disk_low": "磁盘空间不足",
                     "clock_skew": "时钟偏差", "invalid_data": "上报数据无效",
                     "bad_ratings": "差评集中", "case_overdue": "差评整改超期",
                     "stale": "数据过期", "error": "终端报错"}

COMMAND_LABELS = {"restart": "重启应用", "reload_config": "重新加载配置",
                  "maintenance_on": "进入维护模式", "maintenance_off": "退出维护模式",
                  "maintenance": "维护模式", "print_test_page": "打印测试页",
                  "screenshot": "截屏", "set_log_level": "设置日志级别",
                  "flush_outbox": "立即补发数据"}
COMMAND_STATUS_LABELS = {"pending": "待执行", "done": "已完成", "ok": "已完成",
                         "refused": "被拒绝", "failed": "失败", "unsupported": "不支持",
                         "expired": "已过期"}

PREFECTURES = {"3701": "济南市", "3702": "青岛市", "3703": "淄博市", "3704": "枣庄市",
               "3705": "东营市", "3706": "烟台市", "3707": "潍坊市", "3708": "济宁市",
               "3709": "泰安市", "3710": "威海市", "3711": "日照市", "3713": "临沂市",
               "3714": "德州市", "3715": "聊城市", "3716": "滨州市", "3717": "菏泽市"}
DISTRICTS = {"370102": "历下区", "370103": "市中区", "370104": "槐荫区", "370105": "天桥区",
             "370112": "历城区", "370113": "长清区", "370114": "章丘区", "370115": "济阳区",
             "370116": "莱芜区", "370117": "钢城区", "370124": "平阴县", "370126": "商河县",
             "370202": "市南区", "370203": "市北区", "370211": "黄岛区", "370212": "崂山区",
             "370213": "李沧区", "370214": "城阳区", "370215": "即墨区"}


def region_label(code: str | None) -> str:
    """``370102`` → ``济南市历下区``; unknown codes are shown as they are."""
    code = code or ""
    city = PREFECTURES.get(code[:4], "")
    district = DISTRICTS.get(code, "")
    if city and district:
        return f"{city}{district}"
    if city:
        return f"{city}（{code}）" if len(code) > 4 else city
    return code or "—"


Reason = tuple[str, dict[str, str]]  # a msgid and the msgids to fill into it


def device_reasons(health: dict[str, Any]) -> list[Reason]:
    """The problems a health record shows, in words: ``("{device}离线", {"device": "打印机"})``."""
    out: list[Reason] = []
    devices = health.get("devices") or {}
    for kind, dev in sorted(devices.items()):
        label = DEVICE_LABELS.get(kind, kind)
        state = dev.get("state")
        paper = (dev.get("paper") or "").lower()
        if state == "unavailable":
            out.append(("{device}离线", {"device": label}))
        if paper in ("out", "end", "empty", "paper_out"):
            out.append(("缺纸", {}))
        elif paper in ("low", "near_end", "near-end"):
            out.append(("纸将用尽", {}))
    disk = health.get("disk") or {}
    used = disk.get("used_percent")
    if isinstance(used, int | float) and used >= 95:
        out.append(("磁盘将满", {}))
    outbox = health.get("outbox") or {}
    if outbox.get("alarm"):
        out.append(("待发数据积压", {}))
    return out

EVENT_LABELS = {"session": "办件", "call_staff": "呼叫帮办", "error": "错误", "alarm": "终端告警",
                "maintenance": "维护", "startup": "启动", "shutdown": "关闭"}
OUTCOME_LABELS = {"completed": "完成", "abandoned": "放弃", "timeout": "超时",
                  "failed": "失败", "cancelled": "取消"}


def event_text(data: dict[str, Any], t: Any = lambda x: x) -> str:
    """A one-line summary of an event's data (already free of personal data: the terminal
    scrubs free text before sending)."""
    inner = data.get("data") if isinstance(data.get("data"), dict) else data
    parts = []
    for key in ("flow", "outcome", "duration_s", "message", "source", "kind", "reason"):
        value = inner.get(key)
        if value not in (None, ""):
            if key == "outcome":
                value = t(OUTCOME_LABELS.get(str(value), str(value)))
            if key == "flow":
                value = t(SERVICE_LABELS.get(str(value), str(value)))
            if key == "duration_s" and isinstance(value, int | float):
                value = f"{value:.0f} s"
            parts.append(str(value))
    return " · ".join(parts)[:200] if parts else ""

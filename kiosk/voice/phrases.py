"""What the kiosk says on each screen (its main instruction). Chinese only: the voice is
Mandarin. Nothing personal: the only personal value ever spoken is a masked name (张*)."""

from __future__ import annotations

SCREEN_PHRASES: dict[str, str] = {
    "attract": "欢迎使用爱山东自助终端，请触摸屏幕开始",
    "home": "请选择您要办理的业务",
    "identify": "请将身份证放在读卡区，或插入社保卡，或出示居民码",
    "queue": "请选择业务类别取号",
    "guide": "请输入事项名称或拼音首字母，查找办事指南",
    "guide_detail": "这是办事指南，可以打印或扫码带走",
    "code": "请选择出示居民码或企业码",
    "proof": "请选择要打印的证明",
    "progress": "请点选要查看的办件，或输入办件编号查询",
    "progress_detail": "这是办件的进度，可以打印进度单或扫码在手机上查看",
    "help": "正在为您呼叫工作人员，请稍候",
    "evaluate": "请输入办件编号或扫描回执上的二维码进行评价",
    "rating": "请对本次服务进行评价",
    "thanks": "感谢您的使用，再见",
    "out_of_service": "本终端暂停服务，请到窗口办理",
}


def screen_phrase(screen: str) -> str:
    """The instruction of ``screen`` ("" for screens that say nothing, e.g. maintenance)."""
    return SCREEN_PHRASES.get(screen, "")

"""The identify step: "请将身份证放在感应区", then the masked identity and "继续"."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from screens.base import KioskScreen


def identify_prompt(idcard: bool, sscard: bool, scanner: bool) -> tuple[str, str]:
    """(main prompt, alternatives line) for the readers that work."""
    if idcard:
        others = {(True, True): "也可以插入社保卡，或出示居民码", (True, False): "也可以插入社保卡",
                  (False, True): "也可以出示居民码", (False, False): ""}
        return "请将身份证放在感应区", others[(sscard, scanner)]
    if sscard:
        return "请插入社保卡", ("身份证阅读器暂时无法使用，也可以出示居民码" if scanner
                            else "身份证阅读器暂时无法使用")
    if scanner:
        return "请出示居民码", "身份证阅读器暂时无法使用"
    return "暂时无法核验身份", "请前往人工窗口办理，给您带来不便，敬请谅解。"


class IdentifyScreen(KioskScreen):
    identified = BooleanProperty(False)
    flow_title = StringProperty("")
    masked_name = StringProperty("")
    masked_id = StringProperty("")
    expired = BooleanProperty(False)

    #: what to ask for, from which readers work now (msgids)
    prompt = StringProperty("请将身份证放在感应区")
    alternatives = StringProperty("也可以插入社保卡，或出示居民码")

    def prepare(self) -> None:
        self.refresh_identity()
        self.refresh_readers()

    def refresh_readers(self) -> None:
        """Offer the ways that work: a reader that is down is not asked for."""
        if self.controller is None:
            return
        health = self.controller.kiosk.devices.health()

        def works(kind: str) -> bool:
            item = health.get(kind)
            return item is not None and item.available

        idcard, sscard = works("idcard"), works("smartcard")
        scanner = works("scanner") or works("camera")
        self.prompt, self.alternatives = identify_prompt(idcard, sscard, scanner)

    def on_enter(self, *_: Any) -> None:
        self.ids.spinner.start()

    def on_leave(self, *_: Any) -> None:
        self.ids.spinner.stop()

    def refresh_identity(self) -> None:
        identity = self.controller.machine.identity if self.controller else None
        self.identified = identity is not None
        self.masked_name = identity.masked_name if identity else ""
        self.masked_id = identity.masked_id if identity else ""
        self.expired = bool(identity and identity.expired)

    def clear_personal(self) -> None:
        self.identified = False
        self.masked_name = self.masked_id = ""
        self.expired = False

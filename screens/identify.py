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


def tr(msgid: str) -> str:
    """Marks a msgid for ``python -m kiosk.i18n check`` (translated where it is shown)."""
    return msgid


#: why a scanned code is refused (kiosk.codes.refusals.MESSAGES_ZH, plus the fallback of
#: IdentifyService.code_refused), shown through ``refusal``; English in code.po
REFUSAL_MSGIDS = (
    tr("此码无效，无法识别。请在“爱山东”App中刷新居民码后重新出示，或刷身份证。"),
    tr("此码已过期。请在“爱山东”App中刷新居民码后重新出示。"),
    tr("这不是“爱山东”居民码。请出示“爱山东”App中的居民码，或刷身份证。"),
    tr("这是企业码，不能用于确认本人身份。请出示本人居民码，或刷身份证。"),
    tr("暂时无法核验此码，请稍后再试，或刷身份证办理。"),
    tr("此码无法识别"),
)


class IdentifyScreen(KioskScreen):
    identified = BooleanProperty(False)
    flow_title = StringProperty("")
    masked_name = StringProperty("")
    masked_id = StringProperty("")
    expired = BooleanProperty(False)
    #: identified by a scanned resident code (no ID number to show)
    by_code = BooleanProperty(False)
    #: why the last scanned code was refused (msgid; "" when there is nothing to say)
    refusal = StringProperty("")

    #: what to ask for, from which readers work now (msgids)
    prompt = StringProperty("请将身份证放在感应区")
    alternatives = StringProperty("也可以插入社保卡，或出示居民码")

    def on_controller(self, _screen: Any, controller: Any) -> None:
        identify = getattr(getattr(controller, "kiosk", None), "identify", None)
        if identify is not None and not getattr(self, "_listening", False):
            self._listening = True
            identify.on_refusal(self._on_refusal)

    def _on_refusal(self, message: str) -> None:
        """IdentifyService: a scanned code was refused ("" when that is over). UI thread."""
        self.refusal = message

    def dismiss_refusal(self) -> None:
        """"重新出示": back to the prompt; the next code (even the same one) or card is read."""
        self.refusal = ""
        identify = self.controller.kiosk.identify if self.controller else None
        if identify is not None:
            identify.clear_refusal()

    def prepare(self) -> None:
        self.refresh_identity()
        self.refresh_readers()
        identify = self.controller.kiosk.identify if self.controller else None
        self.refusal = identify.refusal if identify is not None else ""

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
        self.by_code = bool(identity and identity.source == "code")
        if identity is not None:
            self.refusal = ""

    def clear_personal(self) -> None:
        self.identified = False
        self.masked_name = self.masked_id = ""
        self.expired = self.by_code = False
        self.refusal = ""

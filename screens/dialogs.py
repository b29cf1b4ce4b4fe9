"""Modal dialogs: "need more time?" and the maintenance PIN pad (styled in dialogs.kv)."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.modalview import ModalView

from screens.widgets import refresh_lazy_text


class _Dialog(ModalView):
    def on_pre_open(self) -> None:
        refresh_lazy_text(self)


class IdlePrompt(_Dialog):
    controller = ObjectProperty(None, allownone=True)
    seconds_left = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(auto_dismiss=False, **kwargs)


class PinPad(_Dialog):
    """Numeric PIN entry; digits are shown as dots and never logged."""

    controller = ObjectProperty(None, allownone=True)
    entered = StringProperty("")
    message = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(auto_dismiss=False, **kwargs)

    def reset(self) -> None:
        self.entered = ""
        self.message = ""

    def press(self, key: str) -> None:
        if key == "del":
            self.entered = self.entered[:-1]
        elif key == "ok":
            pin, self.entered = self.entered, ""
            if self.controller is not None:
                self.message = ""
                self.controller.check_pin(pin, self._show_result)
        elif len(self.entered) < 12:
            self.entered += key

    def _show_result(self, message: str) -> None:
        self.message = message

    def cancel(self) -> None:
        self.reset()
        self.dismiss(animation=False)


class PrintDialog(_Dialog):
    """"正在打印…", then the outcome: done (with the slip's picture in the demo) or a refusal
    with another way to get the result (a QR code to the phone) and, when it may help, retry."""

    controller = ObjectProperty(None, allownone=True)
    state = StringProperty("printing")  # printing | done | failed
    reason = StringProperty("")
    retryable = BooleanProperty(False)
    preview = ObjectProperty(None, allownone=True)  # texture of the printed slip (demo only)
    phone_url = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(auto_dismiss=False, **kwargs)
        self.on_retry: Any = None

    def show_printing(self) -> None:
        self.state, self.reason, self.preview = "printing", "", None
        if self.parent is None:
            self.open(animation=False)

    def show_outcome(self, ok: bool, reason: str = "", retryable: bool = False,
                     preview: bytes = b"") -> None:
        self.state = "done" if ok else "failed"
        self.reason, self.retryable = reason, retryable
        self.preview = _texture_from_png(preview) if preview else None

    def close(self) -> None:
        self.preview = None
        self.phone_url = ""
        self.dismiss(animation=False)


def _texture_from_png(png: bytes) -> Any:
    import io

    from kivy.core.image import Image as CoreImage

    return CoreImage(io.BytesIO(png), ext="png").texture

"""Modal dialogs: "need more time?" and the maintenance PIN pad (styled in dialogs.kv)."""

from __future__ import annotations

from typing import Any

from kivy.properties import NumericProperty, ObjectProperty, StringProperty
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

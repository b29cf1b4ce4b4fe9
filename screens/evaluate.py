"""评价: rate a service by its handling number (办件编号) — a first evaluation of something done
at a window, or a supplementary one within the window of working days (鲁政办发〔2020〕10号)."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from screens.base import KioskScreen
from screens.flow_screens import FlowScreenSpec

KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "A", "B", "C", "D", "E", "F", "G",
        "H", "-")
MAX_LENGTH = 32


class EvaluateScreen(KioskScreen):
    number = StringProperty("")
    message = StringProperty("")
    message_is_error = BooleanProperty(False)
    busy = BooleanProperty(False)

    def on_kv_post(self, base_widget: Any) -> None:
        from screens.widgets import KButton

        grid = self.ids.keypad
        for key in (*KEYS, "del"):
            button = KButton(kind="secondary", test_id=f"key_{key}",
                             text="删除" if key == "del" else key)
            button.size_hint_x = 1
            button.bind(on_release=lambda _b, k=key: self.press(k))
            grid.add_widget(button)

    def prepare(self) -> None:
        self.number = self.message = ""
        self.message_is_error = self.busy = False

    def press(self, key: str) -> None:
        if key == "del":
            self.number = self.number[:-1]
        elif len(self.number) < MAX_LENGTH:
            self.number += key
        self.message = ""

    def on_scan(self, payload: str) -> None:
        """A receipt's QR code scanned at this screen fills in the number."""
        text = payload.strip().upper()
        if 3 <= len(text) <= MAX_LENGTH and all(ch.isalnum() or ch == "-" for ch in text):
            self.number = text
            self.message = ""

    def submit(self) -> None:
        controller = self.controller
        number = self.number.strip()
        if controller is None or self.busy:
            return
        if len(number) < 3:
            self._say(controller.app.tr("请输入完整的办件编号", controller.app.lang), True)
            return
        self.busy = True
        controller.kiosk.handoff.run_in_worker(
            controller.kiosk.ratings.lookup, number, on_done=self._looked_up,
            on_error=lambda exc: self._failed(str(exc)))

    def _looked_up(self, lookup: Any) -> None:
        controller = self.controller
        self.busy = False
        if controller is None or controller.manager.current != self.name:
            return
        tr, lang = controller.app.tr, controller.app.lang
        if not lookup.allowed:
            self._say(tr("该办件已评价，补充评价期限已过（截止 {date}）", lang).format(
                date=lookup.deadline.isoformat()), True)
            return
        session = controller.machine.session
        session.handling_number = lookup.handling_number
        session.first_rated_at = lookup.first_at
        controller.complete_flow()

    def _failed(self, detail: str) -> None:
        self.busy = False
        if self.controller is not None:
            self._say(self.controller.app.tr("暂时无法查询，请稍后再试", self.controller.app.lang),
                      True)

    def _say(self, text: str, error: bool) -> None:
        self.message, self.message_is_error = text, error

    def clear_personal(self) -> None:
        self.number = self.message = ""


FLOW_SCREEN = FlowScreenSpec("rating", "evaluate", EvaluateScreen, "evaluate.kv")

"""帮办: call a member of staff, and say only what is true.

"正在呼叫…" while the call goes out; "已通知工作人员" once a server accepted it (the hall
queue server or the fleet broker); "工作人员正在赶来" once staff acknowledged it on their page;
when nothing could be reached, that is said plainly, with what works instead: the hall's phone
number, the nearest window and a printed help slip.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from screens.base import KioskScreen
from screens.flow_screens import FlowScreenSpec

#: state → (message msgid, spoken)
MESSAGES = {
    "calling": "正在呼叫工作人员，请稍候…",
    "accepted": "已通知工作人员，请在此稍候",
    "acknowledged": "工作人员正在赶来，请在此稍候",
    "done": "工作人员已处理您的求助",
    "unreachable": "暂时无法联系到工作人员",
}


class HelpScreen(KioskScreen):
    state = StringProperty("calling")
    by = StringProperty("")
    phone = StringProperty("")
    window = StringProperty("")
    slip_printed = StringProperty("")

    def prepare(self) -> None:
        controller = self.controller
        self.state, self.by, self.slip_printed = "calling", "", ""
        if controller is None:
            return
        settings = controller.kiosk.config.help
        self.phone, self.window = settings.phone, settings.nearest_window
        if controller.kiosk.help is None:
            self.state = "unreachable"
            return
        controller.kiosk.help.start("", self._update)

    def _update(self, call: Any) -> None:
        controller = self.controller
        if controller is None or controller.manager.current != self.name:
            return
        self.by = call.by
        self.state = call.state.value
        controller.say(MESSAGES[self.state])

    def print_slip(self) -> None:
        from kiosk.core import paper_width_mm
        from kiosk.help.slip import help_slip

        controller = self.controller
        if controller is None:
            return
        config = controller.kiosk.config
        place = config.help.place or f"{config.terminal.site} {config.terminal.name}"
        document = help_slip(place, config.help.nearest_window, config.help.phone,
                             config.terminal.id, paper_width_mm=paper_width_mm(config))
        controller.print_document(document, on_printed=lambda: setattr(
            self, "slip_printed", "1"))

    def call_again(self) -> None:
        self.prepare()

    def on_leave(self, *_: object) -> None:
        controller = self.controller
        if controller is not None and controller.kiosk.help is not None:
            controller.kiosk.help.cancel()  # staff still see the call; we stop following it

    def clear_personal(self) -> None:
        self.state, self.by, self.slip_printed = "calling", "", ""


FLOW_SCREEN = FlowScreenSpec("help", "help", HelpScreen, "help.kv")

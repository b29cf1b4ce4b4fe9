"""进度查询: identify (ID card, social security card, resident code) or type / scan a handling
number; the applications; a timeline for each; a progress slip and a QR to follow on the phone.

Pages: ``start`` (card or number), ``loading``, ``list``, ``detail``, ``problem`` (nothing
found, a wrong number, the platform unreachable: each with what to do next). The rating
screen follows only when an application was actually shown; otherwise "完成" goes home.
Look-ups run on a worker thread; this screen only shows their results.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from screens.base import KioskScreen
from screens.flow_screens import FlowScreenSpec

log = logging.getLogger(__name__)

KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "A", "B", "C", "D", "E", "F", "S",
        "P", "-")
MAX_LENGTH = 40


class ApplicationRow(ButtonBehavior, BoxLayout):
    """One application in the list."""

    screen = ObjectProperty(None, allownone=True)
    index = StringProperty("")
    item = StringProperty("")
    meta = StringProperty("")
    step = StringProperty("")
    finished = BooleanProperty(False)

    @property
    def test_id(self) -> str:
        return f"application_{self.index}"


class TimelineRow(BoxLayout):
    """One step of the timeline: done (✓ with its date), current, pending."""

    name = StringProperty("")
    when = StringProperty("")
    state = StringProperty("pending")


class ProgressScreen(KioskScreen):
    page = StringProperty("start")
    number = StringProperty("")
    masked_name = StringProperty("")
    problem = StringProperty("")  # msgid
    applications = ListProperty()  # of kiosk.codes.progress.Application
    current = ObjectProperty(None, allownone=True)  # the application shown in detail
    printed = BooleanProperty(False)
    viewed = BooleanProperty(False)  # something was done: the rating screen may follow
    busy = BooleanProperty(False)

    def on_kv_post(self, base_widget: Any) -> None:
        from screens.widgets import KButton

        grid = self.ids.keypad
        for key in (*KEYS, "del"):
            button = KButton(kind="secondary", test_id=f"pkey_{key}",
                             text="删除" if key == "del" else key)
            button.size_hint_x = 1
            button.bind(on_release=lambda _b, k=key: self.press(k))
            grid.add_widget(button)

    # -- lifecycle -----------------------------------------------------------------------------
    def prepare(self) -> None:
        self._reset()
        controller = self.controller
        if controller is None:
            return
        if controller.machine.identity is not None:
            self.identity_changed()
        else:
            controller.kiosk.identify.arm()  # a card or a resident code identifies here

    def _reset(self) -> None:
        self.page, self.number, self.problem, self.masked_name = "start", "", "", ""
        self.applications, self.current = [], None
        self.printed = self.viewed = self.busy = False
        self.ids.list_box.clear_widgets()
        self.ids.timeline.clear_widgets()

    def clear_personal(self) -> None:
        self._reset()

    # -- identify ------------------------------------------------------------------------------
    def identity_changed(self) -> None:
        """An identity arrived (card read or resident code) while this screen waits."""
        controller = self.controller
        identity = controller.machine.identity if controller else None
        if identity is None or self.busy or self.page not in ("start", "problem"):
            return
        controller.kiosk.identify.disarm()
        self.masked_name = identity.masked_name
        from kiosk.progress import lookup_person

        self._look_up(lookup_person, controller.kiosk.codes, identity)

    # -- handling number -----------------------------------------------------------------------
    def press(self, key: str) -> None:
        if key == "del":
            self.number = self.number[:-1]
        elif len(self.number) < MAX_LENGTH:
            self.number += key
        self.problem = "" if self.page == "start" else self.problem

    def on_scan(self, payload: str) -> None:
        """A receipt's QR scanned here: its handling number (resident codes identify)."""
        text = payload.strip().upper()
        if self.page in ("start", "problem") and 8 <= len(text) <= MAX_LENGTH and all(
                ch.isalnum() or ch == "-" for ch in text):
            self.number = text
            self.search_number()

    def search_number(self) -> None:
        controller = self.controller
        if controller is None or self.busy or not self.number:
            return
        from kiosk.progress import lookup_number

        self._look_up(lookup_number, controller.kiosk.codes, self.number)

    def _look_up(self, fn: Any, *args: Any) -> None:
        controller = self.controller
        self.busy = True
        self.page = "loading"
        controller.kiosk.handoff.run_in_worker(fn, *args, on_done=self._found,
                                               on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        log.warning("progress look-up failed: %s", type(exc).__name__)
        from kiosk.progress import ProgressLookup

        self._found(ProgressLookup(problem="unavailable",
                                   message="暂时无法连接服务平台，请稍后再试或到窗口咨询"))

    def _found(self, lookup: Any) -> None:
        self.busy = False
        controller = self.controller
        if controller is None or controller.manager.current != self.name:
            return  # the resident left meanwhile
        if not lookup.ok:
            self.problem = lookup.message
            self.page = "problem"
            controller.say(lookup.message)
            return
        self.applications = list(lookup.applications)
        if len(self.applications) == 1:
            self.show(0)
            return
        box = self.ids.list_box
        box.clear_widgets()
        for index, app in enumerate(self.applications):
            box.add_widget(ApplicationRow(
                screen=self, index=str(index), item=app.item, step=app.current_step,
                finished=app.finished,
                meta=f"{app.handling_number} · {app.accepted_on}"))
        self.page = "list"
        controller.say(f"查到 {len(self.applications)} 件办件，请点选查看")

    # -- detail --------------------------------------------------------------------------------
    def show(self, index: int) -> None:
        from kiosk.progress import timeline

        app = self.applications[index]
        self.current = app
        box = self.ids.timeline
        box.clear_widgets()
        for row in timeline(app):
            box.add_widget(TimelineRow(name=row["name"], when=row["when"], state=row["state"]))
        self.viewed = True
        self.printed = False
        self.page = "detail"
        controller = self.controller
        if controller is not None:
            controller.machine.session.handling_number = app.handling_number
            controller.say(f"{app.item}，当前环节：{app.current_step}")
        self.ids.detail_scroll.scroll_y = 1

    def back_to_list(self) -> None:
        self.page = "list" if len(self.applications) > 1 else "start"

    def print_slip(self) -> None:
        from kiosk.core import paper_width_mm
        from kiosk.progress import progress_slip

        controller, app = self.controller, self.current
        if controller is None or app is None:
            return
        document = progress_slip(app, paper_width_mm=paper_width_mm(controller.kiosk.config))

        controller.print_document(document, phone_url=app.follow_url,
                                  on_printed=lambda: setattr(self, "printed", True))

    def try_again(self) -> None:
        self.problem = ""
        self.page = "start"
        if self.controller is not None and self.controller.machine.identity is None:
            self.controller.kiosk.identify.arm()

    def finish(self) -> None:
        """"完成": the rating screen only when something was done, home otherwise."""
        controller = self.controller
        if controller is None:
            return
        controller.kiosk.identify.disarm()
        if self.viewed:
            controller.complete_flow()
        else:
            controller.go_home()


FLOW_SCREEN = FlowScreenSpec("progress", "progress", ProgressScreen, "progress.kv")

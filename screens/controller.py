"""The UI controller: the one object ``.kv`` files call, and the one that follows the session.

``.kv`` handlers call exactly one controller method per action (``controller.open_flow("code")``);
the controller asks the plain-Python :class:`~kiosk.session.machine.SessionMachine` to change
phase and switches screens when the machine says the phase changed. Runs on the UI thread only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kivy.clock import Clock
from kivy.uix.screenmanager import ScreenManager

from config.pin import verify_pin
from drivers.base import DeviceEvent, DeviceStateChanged
from drivers.idcard.interface import IdCardRead
from drivers.ratingpad.interface import RatingKeyPressed
from drivers.scanner.interface import CodeScanned
from drivers.smartcard.interface import SsCardInserted, SsCardRead
from kiosk.ratings.levels import Level, RatingRecord
from kiosk.session.flows import FLOW_BY_ID
from kiosk.session.machine import (
    IdentityChanged,
    IdleCountdown,
    IdlePromptDismissed,
    IdlePromptShown,
    Phase,
    PhaseChanged,
    RatingTimedOut,
    SessionEnded,
    SessionEvent,
)
from kiosk.voice.phrases import screen_phrase

if TYPE_CHECKING:
    from drivers.printer.document import Document
    from kiosk.core import Kiosk
    from screens.dialogs import IdlePrompt, PinPad, PrintDialog

log = logging.getLogger(__name__)

#: device events that mean a resident did something (they keep the session alive)
RESIDENT_ACTIONS = (IdCardRead, SsCardInserted, SsCardRead, CodeScanned, RatingKeyPressed)

#: printer paper levels as the maintenance screen shows them (msgids)
PAPER_LABELS = {"ok": "正常", "near_end": "即将用完", "out": "已用完", "unknown": "未知"}


PHASE_SCREENS = {
    Phase.ATTRACT: "attract",
    Phase.HOME: "home",
    Phase.RATING: "rating",
    Phase.END: "thanks",
    Phase.OUT_OF_SERVICE: "out_of_service",
    Phase.MAINTENANCE: "maintenance",
}


class UiController:
    def __init__(self, kiosk: Kiosk, manager: ScreenManager, app: Any) -> None:
        self.kiosk = kiosk
        self.machine = kiosk.machine
        self.manager = manager
        self.app = app
        self.idle_prompt: IdlePrompt | None = None
        self.pin_pad: PinPad | None = None
        self.print_dialog: PrintDialog | None = None
        self.pin_guard = _pin_guard(kiosk.config)
        #: every screen and dialog is built (the app builds them in idle frames after start-up)
        self.warmed = False
        #: flow id → the screen that shows it (every flow has one: screens/<flow>.py)
        self.flow_screens: dict[str, str] = {}
        #: the resident pressed the speaker button: speak every screen until the session ends
        self.voice_requested = False
        manager.bind(current=self._on_screen_changed)
        self.machine.subscribe(self._on_session_event)
        kiosk.devices.subscribe(self._on_device_event)

    # -- actions called from .kv -----------------------------------------------------------
    def start_session(self) -> None:
        if self.machine.phase is Phase.ATTRACT and self.serving():
            self.machine.start()

    def serving(self) -> bool:
        """Outside its opening hours a hosted terminal starts no session (24-hour zones
        ignore hours); ``wall_now`` is replaceable for tests."""
        from kiosk.hours import serves

        terminal = self.kiosk.config.terminal
        return serves(terminal, self.wall_now(terminal.tzinfo))

    @staticmethod
    def wall_now(tz: Any) -> Any:
        from datetime import datetime

        return datetime.now(tz)

    def open_flow(self, flow_id: str) -> None:
        self.machine.open_flow(flow_id)

    def go_home(self) -> None:
        if self.machine.phase in (Phase.FLOW, Phase.HOME):
            self.kiosk.identify.disarm()
            self.machine.back_home()

    def end_session(self) -> None:
        self.machine.end_session("user")

    def identity_confirmed(self) -> None:
        """"继续" on the identify step: the flow proper starts with the identity attached."""
        self.kiosk.identify.disarm()
        self._show(self.flow_screens[self.machine.flow or ""])

    def complete_flow(self) -> None:
        flow = self.machine.flow or ""
        spec = FLOW_BY_ID.get(flow)
        self.kiosk.identify.disarm()
        if spec is not None and not spec.rated:
            self.machine.back_home()
            return
        self.machine.complete(flow)

    def submit_rating(self, level: str, reasons: list[str]) -> str:
        """Record the rating; returns "" or, when it cannot be recorded, the message to show
        (a bad rating without a reason, a full outbox). Nothing is half-recorded."""
        from kiosk.outbox import OutboxFull
        from kiosk.ratings.records import RatingError

        chosen = Level(level)
        if chosen.is_bad and not reasons:
            return self.app.tr("请选择不满意的原因（必选）", self.app.lang)
        session = self.machine.session
        try:
            self.kiosk.ratings.record(RatingRecord(session.completed_item, chosen, tuple(reasons)),
                                      handling_number=session.handling_number,
                                      identity=session.identity,
                                      first_at=session.first_rated_at)
        except RatingError as exc:
            log.error("rating refused: %s", exc)
            return str(exc)
        except OutboxFull:
            log.error("rating not stored: the outbox is full")
            return self.app.tr("评价暂时无法保存，请联系工作人员", self.app.lang)
        self.machine.rated()
        return ""

    def skip_rating(self) -> None:
        self._record_not_rated(self.machine.session.completed_item)
        self.machine.skip_rating()

    def _record_not_rated(self, item: str) -> None:
        from kiosk.outbox import OutboxFull

        try:
            self.kiosk.ratings.record(RatingRecord(item, None),
                                      handling_number=self.machine.session.handling_number)
        except OutboxFull:
            log.error("'not rated' not stored: the outbox is full")

    def finish(self) -> None:
        if self.machine.phase is Phase.END:
            self.machine.finish()

    def extend_time(self) -> None:
        self.machine.extend()

    def toggle_elder(self) -> None:
        self.app.theme.elder = not self.app.theme.elder
        self.machine.activity()
        if self.voice_active:
            self.say(screen_phrase(self.manager.current))
        elif self.kiosk.voice is not None:
            self.kiosk.voice.stop()

    # -- voice (适老化) -------------------------------------------------------------------------
    @property
    def voice_active(self) -> bool:
        """Speak now: elder mode (when ``voice.elder_auto``) or the speaker was pressed."""
        if self.kiosk.voice is None:
            return False
        return self.voice_requested or (self.app.theme.elder
                                        and self.kiosk.config.voice.elder_auto)

    def say(self, text: str) -> None:
        """Speak a step's result (a fixed phrase, at most a masked name) when the voice is on.
        Returns at once: synthesis and playback run on the voice thread."""
        if self.voice_active and text:
            self.kiosk.voice.say(text)

    def speak_screen(self) -> None:
        """The speaker button: read this screen's instruction, and keep speaking."""
        self.machine.activity()
        if self.kiosk.voice is None:
            return
        self.voice_requested = True
        self.say(screen_phrase(self.manager.current))

    def _on_screen_changed(self, _manager: Any, name: str) -> None:
        voice = self.kiosk.voice
        if voice is None or not self.warmed:
            return
        voice.stop()  # what the previous screen said is cut off
        if self.voice_active:
            self.say(screen_phrase(name))

    def toggle_language(self) -> None:
        self.app.lang = "en" if self.app.lang == "zh_CN" else "zh_CN"
        self.machine.activity()

    # -- printing ----------------------------------------------------------------------------
    def print_document(self, document: Document, phone_url: str = "",
                       on_printed: Callable[[], None] | None = None,
                       preview: Document | None = None) -> None:
        """Print with "printing…" feedback; on a refusal offer the phone QR (``phone_url``).
        ``preview``: the masked version the on-screen preview shows instead of the paper."""
        if self.print_dialog is None:
            self.build_dialogs()
        dialog = self.print_dialog
        assert dialog is not None
        dialog.phone_url = phone_url
        printing = self.kiosk.printing
        self.machine.activity()
        if not printing.available:
            dialog.show_printing()
            dialog.show_outcome(False, printing.unavailable_reason(), retryable=False)
            return

        def done(outcome: Any) -> None:
            self.machine.activity()
            if dialog.parent is None:  # the session ended meanwhile
                return
            dialog.show_outcome(outcome.ok, outcome.reason, retryable=not outcome.refused,
                                preview=outcome.preview)
            self.say("打印完成，请取走凭条" if outcome.ok else outcome.reason)
            if outcome.ok and on_printed is not None:
                on_printed()

        def submit() -> None:
            dialog.show_printing()
            printing.submit(document, done, preview_doc=preview)

        dialog.on_retry = submit
        submit()

    def print_test_page(self) -> None:
        """Maintenance: the technician test page (fonts, sizes, QR, barcode, ruler, id)."""
        from kiosk.core import paper_width_mm
        from kiosk.printing import TestPage, test_page

        config = self.kiosk.config
        printer = config.devices.printer
        page = TestPage(terminal_id=config.terminal.id,
                        printer=f"{printer.type} {printer.url}".strip(),
                        paper_width_mm=paper_width_mm(config))
        self.print_document(test_page(page))

    # -- maintenance -------------------------------------------------------------------------
    def build_dialogs(self) -> None:
        """Create the dialogs up front so that opening one never builds widgets mid-session."""
        from screens.dialogs import IdlePrompt, PinPad, PrintDialog

        self.app.load_kv_once("dialogs.kv")
        self.idle_prompt = IdlePrompt(controller=self)
        self.pin_pad = PinPad(controller=self)
        self.print_dialog = PrintDialog(controller=self)

    def request_maintenance(self) -> None:
        """The hidden corner was long-pressed: ask for the PIN."""
        if self.pin_pad is None:
            self.build_dialogs()
        assert self.pin_pad is not None
        self.pin_pad.reset()
        self.pin_pad.open(animation=False)

    def check_pin(self, pin: str, on_result: Callable[[str], None]) -> None:
        """Verify the PIN off the UI thread (PBKDF2 takes ~0.2 s); ``on_result(message)`` gets
        "" when accepted, else the text for the PIN pad, back on the UI thread."""
        settings = self.kiosk.config.maintenance
        wait = self.pin_guard.before_attempt()
        if wait > 0:
            on_result(self.app.tr("错误次数过多，请 {seconds} 秒后再试", self.app.lang).format(
                seconds=int(wait) + 1))
            return

        def done(accepted: bool) -> None:
            on_result(self._pin_checked(accepted))

        self.kiosk.handoff.run_in_worker(verify_pin, pin, settings.pin_hash, on_done=done,
                                         on_error=lambda _exc: done(False))

    def _pin_checked(self, accepted: bool) -> str:
        settings = self.kiosk.config.maintenance
        delay = self.pin_guard.record(accepted)
        if accepted:
            log.info("maintenance mode entered")
            if self.pin_pad is not None:
                self.pin_pad.dismiss(animation=False)
            self.machine.enter_maintenance()
            return ""
        log.warning("wrong maintenance PIN (%d of %d)", self.pin_guard.failures,
                    settings.max_attempts)
        if delay > 0:
            return self.app.tr("错误次数过多，请 {seconds} 秒后再试", self.app.lang).format(
                seconds=int(delay))
        return self.app.tr("密码错误", self.app.lang)

    def exit_maintenance(self) -> None:
        self.machine.exit_maintenance()

    def device_health(self) -> list[dict[str, str]]:
        from kiosk.devices.health import KIND_LABELS, STATE_LABELS

        rows = []
        for kind, item in self.kiosk.devices.health().items():
            reason = self.app.tr(item.reason, self.app.lang) if item.reason else ""
            paper = item.detail.get("paper")
            if kind == "printer" and paper:
                paper_text = self.app.tr(PAPER_LABELS.get(str(paper), str(paper)), self.app.lang)
                reason = f"{reason} · {self.app.tr('纸张', self.app.lang)}: {paper_text}"
                reason = reason.strip(" ·")
            rows.append({"label": KIND_LABELS.get(kind, kind), "type": item.type,
                         "state": item.state.value, "state_label": STATE_LABELS[item.state],
                         "reason": reason})
        return rows

    # -- machine → screens -------------------------------------------------------------------
    def _on_session_event(self, event: SessionEvent) -> None:
        if isinstance(event, PhaseChanged):
            self._on_phase(event)
        elif isinstance(event, IdlePromptShown):
            self._open_idle_prompt(event.seconds_left)
        elif isinstance(event, IdleCountdown):
            if self.idle_prompt is not None:
                self.idle_prompt.seconds_left = event.seconds_left
        elif isinstance(event, IdlePromptDismissed):
            self._close_idle_prompt()
        elif isinstance(event, IdentityChanged):
            self.manager.get_screen("identify").refresh_identity()
            current = self.manager.current_screen
            if hasattr(current, "identity_changed"):
                current.identity_changed()  # a flow screen that identifies by itself
            if self.machine.identity is not None and self.manager.current == "identify":
                self.say(self.app.tr("您好，{name}", "zh_CN").format(
                    name=self.machine.identity.masked_name))
        elif isinstance(event, SessionEnded):
            self._wipe_ui()
        elif isinstance(event, RatingTimedOut):
            self._record_not_rated(event.item)

    def _on_phase(self, event: PhaseChanged) -> None:
        self._close_idle_prompt()
        rating_pad = self.kiosk.devices.get("ratingpad")
        if rating_pad is not None:
            if event.new is Phase.RATING:
                rating_pad.arm()
            else:
                rating_pad.disarm()
        if event.new is Phase.FLOW:
            spec = FLOW_BY_ID[event.flow or ""]
            self.manager.get_screen("identify").flow_title = spec.title
            if spec.needs_identity and self.machine.identity is None:
                self.kiosk.identify.arm()
                self._show("identify")
            else:
                self._show(self.flow_screens[spec.id])
            return
        self._show(PHASE_SCREENS[event.new])

    def _show(self, name: str) -> None:
        screen = self.manager.get_screen(name)
        screen.prepare()
        self.manager.current = name

    def _on_device_event(self, event: DeviceEvent) -> None:
        # only what a resident does counts as activity: a reader's "card gone" after a read, a
        # status poll or a reconnect must not keep an abandoned session alive
        if self.machine.in_session and isinstance(event, RESIDENT_ACTIONS):
            self.machine.activity()
        if isinstance(event, RatingKeyPressed) and self.machine.phase is Phase.RATING:
            self.manager.get_screen("rating").select(event.level)
        elif isinstance(event, CodeScanned) and self.manager.current in ("evaluate", "progress"):
            self.manager.current_screen.on_scan(event.payload)
        elif isinstance(event, DeviceStateChanged) and self.manager.current == "identify":
            self.manager.get_screen("identify").refresh_readers()

    # -- dialogs -------------------------------------------------------------------------------
    def _open_idle_prompt(self, seconds: int) -> None:
        if self.idle_prompt is None:
            self.build_dialogs()
        assert self.idle_prompt is not None
        self.idle_prompt.seconds_left = seconds
        if self.idle_prompt.parent is None:
            self.idle_prompt.open(animation=False)

    def _close_idle_prompt(self) -> None:
        if self.idle_prompt is not None and self.idle_prompt.parent is not None:
            self.idle_prompt.dismiss(animation=False)

    def _wipe_ui(self) -> None:
        """Session over: every screen forgets what it showed; mode and language reset.

        Spread over three frames (issue 17): this one wipes the screens and closes the
        dialogs; the next resets elder mode (every widget of every screen follows the theme);
        the one after resets the language. Done in one frame, the three made the slowest frame
        of a session. A resident who taps the attract screen within those frames gets the
        defaults all the same."""
        self.kiosk.identify.disarm()
        for screen in self.manager.screens:
            screen.clear_personal()
        if self.pin_pad is not None and self.pin_pad.parent is not None:
            self.pin_pad.dismiss(animation=False)
        if self.print_dialog is not None and self.print_dialog.parent is not None:
            self.print_dialog.close()
        self.voice_requested = False
        if self.kiosk.voice is not None:
            self.kiosk.voice.stop()
        ui = self.kiosk.config.ui
        Clock.schedule_once(lambda _dt: self._reset_look(ui.elder_mode, ui.language))

    def _reset_look(self, elder: bool, language: str) -> None:
        self.app.theme.elder = elder
        if self.app.lang != language:
            Clock.schedule_once(lambda _dt: setattr(self.app, "lang", language))


def _pin_guard(config: Any) -> Any:
    """The PIN guard of this terminal: its state in data_dir, its audit in log_dir."""
    from pathlib import Path

    from kiosk.pinguard import PinGuard

    storage = config.storage
    return PinGuard(Path(storage.data_dir).expanduser() / "pin-guard.json",
                    Path(storage.log_dir).expanduser() / "audit.log",
                    max_attempts=config.maintenance.max_attempts,
                    lockout_s=config.maintenance.lockout_s)

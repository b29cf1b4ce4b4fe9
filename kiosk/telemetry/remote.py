"""Remote commands from the fleet, after the reporter has verified them (signature, expiry,
nonce): what each does on this terminal.

The handler runs on the telemetry thread. Anything that touches the UI is handed to the UI
thread and waited for (bounded); the UI registers its actions with :meth:`attach_ui`.
A screenshot (and maintenance on) is refused while a resident's session is on screen: that is
checked on the UI thread, right before the action, since a session can start in between.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from kiosk.mainthread import MainThreadHandoff
from kiosk.telemetry.commands import Command, CommandResult
from kiosk.telemetry.echo import COMMAND as ECHO_COMMAND
from kiosk.telemetry.echo import EchoBoard

log = logging.getLogger(__name__)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class UiActions(Protocol):
    def enter_maintenance(self) -> None: ...

    def exit_maintenance(self) -> None: ...

    def print_test_page(self) -> None: ...

    def screenshot(self) -> str: ...

    def restart(self) -> None: ...


class RemoteCommands:
    def __init__(self, machine: Any, handoff: MainThreadHandoff, ui_timeout_s: float = 10.0
                 ) -> None:
        self._machine = machine
        self._handoff = handoff
        self._ui: UiActions | None = None
        self.ui_timeout_s = ui_timeout_s
        self.echoes = EchoBoard()  # the maintenance self-test's fleet round trips

    def attach_ui(self, ui: UiActions) -> None:
        self._ui = ui

    def handle(self, command: Command) -> CommandResult | None:
        name, args = command.name, dict(command.args)
        log.info("remote command %s (%s)", name, command.id)
        if name == ECHO_COMMAND:
            return self.echoes.deliver(command)
        if name == "set_log_level":
            level = str(args.get("level", "")).upper()
            if level not in LOG_LEVELS:
                return CommandResult("failed", f"level must be one of {', '.join(LOG_LEVELS)}")
            logging.getLogger().setLevel(level)
            return CommandResult("ok", f"log level {level}")
        ui = self._ui
        if ui is None:
            return CommandResult("failed", "the UI is not running")
        if name in ("restart", "reload_config"):
            self._handoff.post(ui.restart)
            return CommandResult("ok", "restarting (the supervisor starts the kiosk again)")
        if name == "maintenance":
            on = bool(args.get("on", True))
            return self._on_ui(ui.enter_maintenance if on else ui.exit_maintenance,
                               "maintenance " + ("on" if on else "off"),
                               refuse_in_session="refused: a resident is using the terminal; "
                               "try again when the session has ended" if on else None)
        if name == "print_test_page":
            return self._on_ui(ui.print_test_page, "test page sent to the printer")
        if name == "screenshot":
            return self._on_ui(ui.screenshot, "screenshot taken",
                               refuse_in_session="refused: a resident's session is on screen")
        return None  # unsupported

    def _on_ui(self, action: Callable[[], Any], detail: str,
               refuse_in_session: str | None = None) -> CommandResult:
        """Run ``action`` on the UI thread and wait for it (bounded). ``refuse_in_session``:
        refuse with this text if a session is on when the UI thread gets to it."""
        done = threading.Event()
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                if refuse_in_session is not None and self._machine.in_session:
                    outcome["error"] = refuse_in_session
                    return
                outcome["value"] = action()
            except Exception as exc:  # reported to the fleet, not raised in the UI
                outcome["error"] = exc
            finally:
                done.set()

        self._handoff.post(run)
        if not done.wait(self.ui_timeout_s):
            return CommandResult("failed", f"the UI did not answer within {self.ui_timeout_s} s")
        if "error" in outcome:
            return CommandResult("failed", str(outcome["error"]))
        value = outcome.get("value")
        return CommandResult("ok", detail, {"path": value} if isinstance(value, str) else {})

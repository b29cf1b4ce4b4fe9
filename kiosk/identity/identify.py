"""The identify step used by flows: card or code events become the session's identity.

While no flow is waiting (``armed`` is False) card reads are ignored: a card left on the
reader at the attract screen identifies nobody. ``IdCardRemoved`` does not end an identity
that was read: a real SAM reader halts a card after reading it and reports "removed" about one
poll later with the card still in place, so the event means "this presentation is over". The
identity lives until the session ends (idle, exit, completion) and is wiped then. A social
security card taken out of its PC/SC reader while the identify step is still open (before
"继续") takes its identity with it: PC/SC reports real removal.
Runs on the UI thread (events arrive through :class:`kiosk.devices.manager.DeviceManager`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from drivers.base import DeviceEvent
from drivers.idcard.interface import IdCardRead, IdCardRemoved
from drivers.smartcard.interface import SsCardRead, SsCardRemoved
from kiosk.identity.person import Identity
from kiosk.session.machine import SessionMachine

log = logging.getLogger(__name__)


class IdentifyService:
    def __init__(self, machine: SessionMachine,
                 today: Callable[[], dt.date] = dt.date.today) -> None:
        self._machine = machine
        self._today = today
        self.armed = False
        #: a scanned resident code, verified by the service platform (kiosk.codes)
        self.scanner: Any = None
        #: the last refusal of a scanned code (plain Chinese), for the identify screen
        self.refusal = ""
        self._listeners: list[Callable[[str], None]] = []

    def attach_scanner(self, scan_identifier: Any) -> None:
        self.scanner = scan_identifier

    def on_refusal(self, listener: Callable[[str], None]) -> None:
        """``listener(message)`` when a scanned code is refused ("" when the refusal clears)."""
        self._listeners.append(listener)

    def arm(self) -> None:
        """A flow shows "请将身份证放在感应区": the next card read (or resident code scanned)
        identifies the resident."""
        self.armed = True
        self._refuse("")
        if self.scanner is not None:
            self.scanner.arm()

    def disarm(self) -> None:
        self.armed = False
        if self.scanner is not None:
            self.scanner.disarm()

    def code_identified(self, identity: Identity) -> None:
        """A verified resident code (UI thread, from the scan identifier)."""
        self._refuse("")
        self._accept(lambda: identity)

    def code_refused(self, refusal: Any) -> None:
        log.info("scanned code refused: %s", getattr(refusal, "reason", "?"))
        self._refuse(getattr(refusal, "message_zh", "") or "此码无法识别")

    def clear_refusal(self) -> None:
        """The resident will show a code again: forget the refusal, and let the same code be
        read again (it would otherwise be a duplicate within the suppression window)."""
        self._refuse("")
        gate = getattr(self.scanner, "gate", None)
        if gate is not None:
            gate.duplicates.forget()

    def _refuse(self, message: str) -> None:
        self.refusal = message
        for listener in list(self._listeners):
            listener(message)

    def on_device_event(self, event: DeviceEvent) -> None:
        if isinstance(event, IdCardRead):
            self._accept(lambda: Identity.from_idcard(event.data, self._today()))
        elif isinstance(event, SsCardRead):
            self._accept(lambda: Identity.from_sscard(event.data))
        elif isinstance(event, SsCardRemoved):
            # PC/SC knows a card really left; taken out before "继续", the identity goes too
            identity = self._machine.identity
            if self.armed and identity is not None and identity.source == "sscard":
                self._machine.forget_identity()
        elif isinstance(event, IdCardRemoved):
            log.debug("ID card presentation over")

    def _accept(self, build: Callable[[], Identity]) -> None:
        if not (self.armed and self._machine.in_session):
            log.info("card read ignored: no flow is waiting for an identity")
            return
        identity = build()
        log.info("identified by %s as %s", identity.source, identity.masked_name)
        self._machine.identify(identity)

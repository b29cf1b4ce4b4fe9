"""The self-test's round trip through the fleet, terminal side.

The terminal publishes a ``selftest`` event with a random nonce on its ``event`` topic; the
fleet ingest stores it and answers on the terminal's ``cmd`` topic with a signed
``selftest_echo`` command carrying the same nonce (``fleet/selftest_echo.py``). The command is
verified like every other (signature with ``fleet.command_keys``, expiry, replay), so a
passing round trip proves: the broker takes the terminal's uplink under its ACL, the fleet
ingest runs and stores it, and the fleet's signed downlink reaches the terminal.

:class:`EchoBoard` pairs the echoes with the self-tests waiting for them. The kiosk app has
one (``RemoteCommands.echoes``: the reporter's verified commands reach it); the command-line
self-test makes its own with its own MQTT client (``provisioning/selftest.py``).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

from drivers.privacy import scrub
from kiosk.telemetry.commands import Command, CommandResult

EVENT = "selftest"
COMMAND = "selftest_echo"


def new_nonce() -> str:
    """32 lower-case hex digits (the schemas' nonce pattern) that the privacy filter of event
    data leaves alone (a run of digits can look like a phone or ID number and be masked)."""
    while True:
        nonce = secrets.token_hex(16)
        if scrub(nonce) == nonce:
            return nonce


class EchoBoard:
    """Self-tests waiting for their echo, by nonce. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting: dict[str, threading.Event] = {}
        self._arrived: dict[str, float] = {}

    def expect(self, nonce: str) -> None:
        with self._lock:
            self._waiting[nonce] = threading.Event()

    def deliver(self, command: Command) -> CommandResult:
        """A verified ``selftest_echo``: wake the self-test that sent its nonce."""
        nonce = str(command.args.get("nonce", ""))
        with self._lock:
            event = self._waiting.get(nonce)
            if event is None:
                return CommandResult("ok", "echo of a self-test no longer waiting")
            self._arrived[nonce] = self._clock()
        event.set()
        return CommandResult("ok", "self-test echo received")

    def wait(self, nonce: str, timeout_s: float) -> float | None:
        """Block until the echo arrives (its arrival time, on the board's clock) or None."""
        with self._lock:
            event = self._waiting.get(nonce)
        if event is None:
            raise KeyError(f"no self-test expects nonce {nonce}")
        event.wait(timeout_s)
        with self._lock:
            self._waiting.pop(nonce, None)
            return self._arrived.pop(nonce, None)

    def forget(self, nonce: str) -> None:
        with self._lock:
            self._waiting.pop(nonce, None)
            self._arrived.pop(nonce, None)


def no_answer_detail(timeout_s: float) -> str:
    """What the technician reads when the fleet stayed silent, and what to look at."""
    return (f"fleet did not answer within {timeout_s:.0f} s: check that `kiosk-fleet serve` "
            "(or `kiosk-fleet ingest`) runs and is connected to the broker, that its "
            "command_key_file is set, and that fleet.command_keys here holds its public key "
            "(kiosk-provision enrol installs it)")

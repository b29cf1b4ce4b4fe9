"""systemd's notify protocol: ``READY=1`` once, then ``WATCHDOG=1`` from the UI loop.

The unit (``deploy/aishandong-kiosk.service``) has ``Type=notify`` and ``WatchdogSec=``;
systemd passes ``NOTIFY_SOCKET`` (a unix datagram socket, ``@`` = abstract namespace) and
``WATCHDOG_USEC``. The keep-alive is sent by a callback of the Kivy clock, so it stops when the
UI loop hangs (a blocking call, a deadlock) and systemd restarts the kiosk. No Kivy import here:
the app schedules :meth:`Notifier.keepalive` (``screens/app.py``).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Datagrams to the supervisor's notify socket; every send failure is logged, never raised
    (the kiosk must not die because the supervisor went away)."""

    def __init__(self, address: str, watchdog_usec: int = 0) -> None:
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.watchdog_usec = watchdog_usec
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.sent = 0
        self._failed = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Notifier | None:
        """The notifier systemd asked for, or None when not run under ``Type=notify``."""
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        if not address:
            return None
        try:
            usec = int(env.get("WATCHDOG_USEC", "0"))
        except ValueError:
            usec = 0
        pid = env.get("WATCHDOG_PID", "")
        if pid and pid != str(os.getpid()):
            usec = 0  # the watchdog is meant for another process
        return cls(address, usec)

    @property
    def interval_s(self) -> float:
        """How often to send the keep-alive: half the watchdog time (0 = no watchdog)."""
        return self.watchdog_usec / 2_000_000 if self.watchdog_usec > 0 else 0.0

    def notify(self, message: str) -> bool:
        try:
            self._socket.sendto(message.encode("utf-8"), self.address)
        except OSError as exc:
            if not self._failed:
                log.warning("cannot notify the supervisor at %s: %s", self.address, exc)
                self._failed = True
            return False
        self._failed = False
        self.sent += 1
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def keepalive(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def close(self) -> None:
        self._socket.close()

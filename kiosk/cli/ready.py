"""Tell the supervisor that the terminal is ready: the attract screen accepts a touch.

systemd's ``Type=notify`` protocol (``READY=1`` as a datagram to ``$NOTIFY_SOCKET``), spoken
directly so that no package is needed; the cold-start benchmark and the recovery tests listen
on that socket the same way systemd does. The time since the process started is logged.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

log = logging.getLogger(__name__)


def process_age_s() -> float:
    """Seconds since this process was started by the kernel (Linux ``/proc``)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat, counted after the command name
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def notify_ready(notifier: Any = None) -> float:
    """Log and announce readiness; returns the seconds since process start. With the app's
    watchdog ``notifier`` (:class:`kiosk.watchdog.Notifier`) the announcement goes through it,
    so that the supervisor hears READY=1 once, from one socket."""
    age = process_age_s()
    log.info("ready: the attract screen accepts touches %.2f s after process start", age)
    if notifier is not None:
        notifier.ready(f"attract screen after {age:.2f} s")
        return age
    address = os.environ.get("NOTIFY_SOCKET", "")
    if address:
        if address.startswith("@"):  # abstract namespace
            address = "\0" + address[1:]
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(address)
                sock.sendall(f"READY=1\nSTATUS=attract screen after {age:.2f} s\n"
                             f"MONOTONIC_USEC={int(time.monotonic() * 1e6)}".encode())
        except OSError as exc:
            log.warning("could not notify the supervisor at NOTIFY_SOCKET: %s", exc)
    return age

"""The systemd notify protocol over a real unix datagram socket."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from kiosk.watchdog import Notifier


@pytest.fixture
def supervisor(tmp_path: Path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify.sock")
    sock.bind(path)
    sock.settimeout(5)
    yield path, sock
    sock.close()


def test_from_environ_reads_systemds_variables(supervisor) -> None:
    path, sock = supervisor
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "3000000",
                                      "WATCHDOG_PID": str(os.getpid())})
    assert notifier is not None and notifier.interval_s == 1.5
    assert notifier.ready("serving") and notifier.keepalive() and notifier.stopping()
    assert [sock.recv(256) for _ in range(3)] == [b"READY=1\nSTATUS=serving", b"WATCHDOG=1",
                                                 b"STOPPING=1"]
    notifier.close()


def test_no_socket_means_no_notifier_and_another_pid_means_no_watchdog(supervisor) -> None:
    path, _ = supervisor
    assert Notifier.from_environ({}) is None
    other = Notifier.from_environ({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "3000000",
                                   "WATCHDOG_PID": "1"})
    assert other is not None and other.interval_s == 0.0
    other.close()


def test_abstract_namespace_sockets_work() -> None:
    name = f"kiosk-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    try:
        notifier = Notifier("@" + name, 1_000_000)
        assert notifier.keepalive()
        assert sock.recv(64) == b"WATCHDOG=1"
        notifier.close()
    finally:
        sock.close()


def test_a_vanished_supervisor_is_logged_not_raised(tmp_path: Path) -> None:
    notifier = Notifier(str(tmp_path / "gone.sock"), 1_000_000)
    assert notifier.keepalive() is False
    assert notifier.sent == 0
    notifier.close()

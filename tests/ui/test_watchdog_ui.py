"""The keep-alive comes from the UI loop: it stops while the loop hangs, and comes back."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from kiosk.watchdog import Notifier


def _drain(sock: socket.socket) -> list[bytes]:
    sock.setblocking(False)
    got = []
    try:
        while True:
            got.append(sock.recv(256))
    except BlockingIOError:
        return got
    finally:
        sock.setblocking(True)


def test_keepalives_stop_while_the_ui_loop_hangs(ui, tmp_path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify.sock")
    sock.bind(path)
    app = ui.app
    try:
        app.start_watchdog(Notifier(path, watchdog_usec=200_000))  # keep-alive every 0.1 s
        sock.settimeout(5)
        assert sock.recv(256).startswith(b"READY=1")
        # the loop runs: keep-alives arrive while frames are pumped
        heard = []
        ui.wait_for(lambda: heard.extend(_drain(sock)) or heard.count(b"WATCHDOG=1") >= 3,
                    timeout_s=10, what="three keep-alives")

        # the loop hangs (a blocking call on the UI thread): for ten keep-alive intervals a
        # listener on another thread hears nothing at all
        _drain(sock)
        during_hang: list[bytes] = []

        def listen() -> None:
            sock.settimeout(1.0)  # 10 intervals
            try:
                during_hang.append(sock.recv(256))
            except TimeoutError:
                pass

        listener = threading.Thread(target=listen)
        listener.start()
        listener.join()  # the UI thread is blocked here, as in a hang
        assert during_hang == []

        # the loop runs again: so do the keep-alives
        sock.settimeout(None)
        heard.clear()
        ui.wait_for(lambda: heard.extend(_drain(sock)) or b"WATCHDOG=1" in heard,
                    timeout_s=10, what="keep-alive after the hang")
    finally:
        app.stop_watchdog()
        sock.close()

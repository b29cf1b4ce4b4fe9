"""`kiosk-provision discover` against the SAM and printer emulators on pseudo-terminals, the
printer on TCP, a silent port and a port that answers garbage; settings left as found."""

from __future__ import annotations

import json
import os
import random
import select
import subprocess
import sys
import termios
import threading
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.idcard.emulator import PtyEmulator, SamEmulator
from drivers.idcard.frames import Command
from drivers.printer.emulator import PrinterEmulator
from provisioning.discover import probe_port

pytestmark = pytest.mark.timeout(120)
BIN = Path(sys.executable).parent


class NoisyPty:
    """A pseudo-terminal; with ``noise`` every write to it is answered with random bytes."""

    def __init__(self, noise: bool) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.noise = noise
        self.received = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        rng = random.Random(7)
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                continue
            self.received += len(data)
            if self.noise:
                os.write(self.master, bytes(rng.randrange(256) for _ in range(len(data) * 3)))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def sam_pty() -> Iterator[PtyEmulator]:
    server = PtyEmulator(SamEmulator())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def printer() -> Iterator[PrinterEmulator]:
    with PrinterEmulator() as emulator:
        emulator.start_tcp()
        emulator.start_pty()
        yield emulator


def _attrs(path: str) -> list:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        return termios.tcgetattr(fd)
    finally:
        os.close(fd)


def test_finds_the_sam_reader_on_a_pty_and_restores_its_settings(sam_pty) -> None:
    before = _attrs(sam_pty.path)
    found = probe_port(sam_pty.path)
    assert (found.kind, found.type, found.baudrate) == ("idcard", "sam", 115200)
    assert "SAM id" in found.detail
    assert _attrs(sam_pty.path) == before
    assert sam_pty.emulator.stats.commands[Command.STATUS] == 1  # asked once, at 115200


def test_finds_the_printer_on_a_pty_and_on_tcp_without_printing(printer) -> None:
    before = _attrs(printer.pty_path)
    on_pty = probe_port(printer.pty_path)
    assert (on_pty.kind, on_pty.type, on_pty.baudrate) == ("printer", "escpos", 9600)
    assert "paper ok" in on_pty.detail
    assert _attrs(printer.pty_path) == before
    on_tcp = probe_port(printer.tcp_url)
    assert (on_tcp.kind, on_tcp.type, on_tcp.baudrate) == ("printer", "escpos", None)
    assert printer.jobs == []  # status queries only: nothing was printed


def test_a_silent_port_is_an_unknown_serial_device_and_left_unchanged() -> None:
    port = NoisyPty(noise=False)
    try:
        before = _attrs(port.path)
        found = probe_port(port.path, time_limit_s=10)
        assert found.kind == "unknown" and "no answer" in found.detail
        assert port.received > 0  # it was asked
        assert _attrs(port.path) == before
    finally:
        port.close()


def test_a_port_answering_garbage_is_neither_reader_nor_printer() -> None:
    port = NoisyPty(noise=True)
    try:
        before = _attrs(port.path)
        found = probe_port(port.path, time_limit_s=10)
        assert found.kind == "unknown" and found.type == ""
        assert "not understood" in found.detail
        assert _attrs(port.path) == before
    finally:
        port.close()


def test_a_missing_port_is_reported_not_raised(tmp_path: Path) -> None:
    found = probe_port(str(tmp_path / "ttyUSB9"))
    assert found.kind == "unavailable" and found.detail


def test_the_command_lists_everything_as_json(sam_pty, printer) -> None:
    silent = NoisyPty(noise=False)
    try:
        result = subprocess.run(
            [str(BIN / "kiosk-provision"), "discover", "--only", "--json",
             "--port", sam_pty.path, "--port", printer.tcp_url, "--port", silent.path],
            capture_output=True, text=True, timeout=90)
    finally:
        silent.close()
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["port"], r["kind"], r["type"]) for r in rows] == [
        (sam_pty.path, "idcard", "sam"), (printer.tcp_url, "printer", "escpos"),
        (silent.path, "unknown", "")]
    assert all(set(r) == {"port", "kind", "type", "baudrate", "detail"} for r in rows)
    assert f"… {sam_pty.path}: SAM status at 115200" in result.stderr  # progress is shown

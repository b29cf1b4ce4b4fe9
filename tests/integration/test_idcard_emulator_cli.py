"""The emulator as a technician runs it: ``python -m drivers.idcard.emulator``."""

from __future__ import annotations

import io
import os
import queue
import re
import subprocess
import sys
import threading
import time

import pytest

from drivers.idcard import samples
from provisioning.check_idcard import run

pytestmark = pytest.mark.timeout(60)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Emulator:
    """The emulator in a subprocess; its output lines are collected by a thread."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "drivers.idcard.emulator", *args], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def line(self, timeout: float = 10.0) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("the emulator printed nothing in time") from None

    def wait_for(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.line(max(0.01, deadline - time.monotonic())))
            if match:
                return match

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def stop(self) -> int:
        try:
            self.send("quit")
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self._reader.join(timeout=5)


def _check(url: str) -> tuple[int, str]:
    out = io.StringIO()
    return run(url, False, 1.0, out=out), out.getvalue()


def test_tcp_emulator_from_the_command_line() -> None:
    emulator = Emulator("--tcp", "127.0.0.1:0", "--card", "foreigner_2017")
    try:
        url = emulator.wait_for(r"(socket://127\.0\.0\.1:\d+)").group(1)
        code, text = _check(url)
        assert code == 0 and samples.FOREIGNER_2017.masked_id in text
        emulator.send("put expired")
        emulator.wait_for(r"^ok$")
        code, text = _check(url)
        assert code == 0 and "EXPIRED" in text
        emulator.send("lift")
        emulator.wait_for(r"^ok$")
        code, text = _check(url)
        assert code == 1 and "no card on the reader" in text
        emulator.send("put nobody")
        emulator.wait_for(r"cannot do that")
    finally:
        assert emulator.stop() == 0


def test_pty_emulator_prints_its_path() -> None:
    emulator = Emulator("--pty", "--card", "hmt")
    try:
        path = emulator.wait_for(r"on (/dev/\S+)").group(1)
        assert os.path.exists(path)
        code, text = _check(path)
        assert code == 0 and samples.HMT_RESIDENCE.masked_id in text
    finally:
        assert emulator.stop() == 0

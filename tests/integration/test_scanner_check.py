"""``check_scanner.run``: one scan through a real pty / FIFO, as a function and a subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading

import pytest

from drivers.scanner.emulator import PtyScannerEmulator, WedgeEmulator
from kiosk.codes.embedded import EmbeddedCodePlatform
from kiosk.codes.platform import Person
from provisioning import check_scanner

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ID_NUMBER = "370102199003070032"


class Repeater:
    """Sends a payload every 0.1 s until stopped: the check opens the port at its own pace."""

    def __init__(self, send) -> None:
        self._send = send
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            try:
                self._send()
            except OSError:
                pass

    def __enter__(self) -> Repeater:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.fixture
def emulator():
    emu = PtyScannerEmulator().start()
    yield emu
    emu.stop()


def run_check(url: str, **kwargs) -> tuple[int, dict]:
    out = io.StringIO()
    code = check_scanner.run(url, True, kwargs.pop("timeout_s", 5.0), out=out, **kwargs)
    return code, json.loads(out.getvalue())


def test_resident_code_reports_class_and_length_not_content(emulator) -> None:
    code_text = EmbeddedCodePlatform().issue_resident_code(Person(ID_NUMBER, "李明")).text
    with Repeater(lambda: emulator.scan(code_text)):
        exit_code, report = run_check(emulator.url)
    assert exit_code == 0
    assert report["code_class"] == "resident_code" and report["code_label"] == "居民码"
    assert report["length"] == len(code_text) and report["personal"] is True
    assert report["content"] is None
    assert code_text not in json.dumps(report)


def test_ticket_content_is_shown_in_text_output(emulator) -> None:
    out = io.StringIO()
    with Repeater(lambda: emulator.scan("A005")):
        exit_code = check_scanner.run(emulator.url, False, 5.0, out=out)
    text = out.getvalue()
    assert exit_code == 0
    assert "ticket" in text and "A005" in text and "OK" in text


def test_id_number_scanned_is_not_printed(emulator) -> None:
    with Repeater(lambda: emulator.scan(ID_NUMBER)):
        exit_code, report = run_check(emulator.url)
    assert exit_code == 0 and report["code_class"] == "unknown"
    assert ID_NUMBER not in json.dumps(report)


def test_nothing_scanned_is_exit_1(emulator) -> None:
    exit_code, report = run_check(emulator.url, timeout_s=0.6)
    assert exit_code == 1 and "no code was scanned" in report["error"]


def test_missing_port_is_exit_2(tmp_path) -> None:
    exit_code, report = run_check(str(tmp_path / "ttyNone"), timeout_s=1.0)
    assert exit_code == 2 and "could not open port" in report["error"]


def test_bad_arguments_are_exit_3() -> None:
    assert run_check("", timeout_s=1.0)[0] == 3
    exit_code, report = run_check("/dev/ttyX", suffix="\\x01\\x02\\x03\\x04\\x05")
    assert exit_code == 3 and "suffix" in report["error"]


def test_keyboard_wedge_device() -> None:
    with WedgeEmulator() as emu, Repeater(lambda: emu.type_text("https://zwfw.sd.gov.cn/x?id=1")):
        exit_code, report = run_check(emu.path)
    assert exit_code == 0 and report["type"] == "wedge"
    assert report["code_class"] == "url" and report["content"] == "zwfw.sd.gov.cn"


def test_as_a_subprocess(emulator) -> None:
    env = {**os.environ, "PYTHONPATH": ROOT}
    with Repeater(lambda: emulator.scan("B012")):
        proc = subprocess.run(
            [sys.executable, "-m", "provisioning.check_scanner", "--url", emulator.url,
             "--json", "--timeout", "8"], capture_output=True, text=True, timeout=30,
            cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["code_class"] == "ticket" and report["content"] == "B012"


def test_through_kiosk_provision(emulator, capsys) -> None:
    from provisioning.cli import main

    with Repeater(lambda: emulator.scan("C021")):
        exit_code = main(["test", "scanner", "--url", emulator.url, "--timeout", "5", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert exit_code == 0 and report["code_class"] == "ticket" and report["content"] == "C021"

"""kiosk-provision as a technician runs it: real subprocesses against the wire emulators."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image
from pyzbar.pyzbar import decode

from drivers.idcard.emulator import PtyEmulator, SamEmulator, TcpEmulator
from drivers.idcard.samples import RESIDENT
from drivers.printer.emulator import PrinterEmulator

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def provision(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "kiosk-provision"), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def test_test_idcard_reads_one_card_and_prints_it_masked() -> None:
    server = TcpEmulator(SamEmulator(RESIDENT))
    server.start()
    try:
        result = provision("test", "idcard", "--url", server.url, "--json", "--timeout", "10")
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    text = json.dumps(report, ensure_ascii=False)
    assert RESIDENT.masked_id in text and RESIDENT.masked_name in text
    assert RESIDENT.id_number not in text and RESIDENT.name not in text
    assert RESIDENT.address not in result.stdout + result.stderr


def test_test_idcard_over_a_pty_explains_an_empty_reader() -> None:
    server = PtyEmulator(SamEmulator())
    server.start()
    try:
        result = provision("test", "idcard", "--url", server.url, "--timeout", "2")
    finally:
        server.stop()
    assert result.returncode == 1
    assert "no card" in (result.stdout + result.stderr).lower()


def test_test_printer_prints_the_test_page_and_preview_renders_it(tmp_path: Path) -> None:
    emulator = PrinterEmulator(paper_width_mm=80)
    host, port = emulator.start_tcp()
    try:
        result = provision("test", "printer", "--url", f"tcp://{host}:{port}", "--width", "80",
                           "--terminal-id", "SD-TEST-0042", "--json")
        jobs = emulator.wait_for_jobs(1, timeout=10)
    finally:
        emulator.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    job = tmp_path / "job.bin"
    job.write_bytes(jobs[0].data)
    png = tmp_path / "job.png"
    rendered = provision("preview", str(job), "--out", str(png), "--width", "80")
    assert rendered.returncode in (0, 1), rendered.stderr  # 1 = rendered with warnings
    image = Image.open(png)
    assert image.width == 576
    payloads = [symbol.data.decode() for symbol in decode(image)]
    assert any(p.startswith("KIOSK-TEST:SD-TEST-0042:") for p in payloads), payloads


def test_test_printer_says_when_nothing_answers() -> None:
    result = provision("test", "printer", "--url", "tcp://127.0.0.1:9", "--json", timeout=60)
    assert result.returncode == 2
    assert json.loads(result.stdout)["ok"] is False

"""Technician tools: the printer check, the preview and the emulator's command line."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from pyzbar import pyzbar

from drivers.printer.emulator import Condition, PrinterEmulator
from drivers.printer.escpos_driver import EscposPrinter
from kiosk.printing.samples import all_documents
from provisioning import check_printer, preview

FAST = {"poll_interval": 0.1, "status_timeout": 0.2, "backoff_initial": 0.05}


def test_check_prints_the_test_page(tmp_path: Path) -> None:
    with PrinterEmulator() as emu:
        emu.start_tcp()
        out = io.StringIO()
        code = check_printer.run(emu.tcp_url, {**FAST, "terminal_id": "JN-T-0009"}, True, out)
        assert code == 0
        report = json.loads(out.getvalue())
        assert report["ok"] and report["status"]["paper"] == "ok" and report["job_id"]
        job = emu.wait_for_jobs(1, 5)[0]
        rendering = emu.render(job)
    assert "终端编号：JN-T-0009" in rendering.text
    assert ("CODE128", "JN-T-0009") in rendering.barcodes
    assert any(s.data.startswith(b"KIOSK-TEST:JN-T-0009:") for s in pyzbar.decode(rendering.image))


@pytest.mark.parametrize(("condition", "code", "reason"), [
    (Condition.PAPER_OUT, 1, "打印纸已用完"), (Condition.COVER_OPEN, 1, "打印机盖未关好"),
    (Condition.OFFLINE, 2, "打印机无响应")])
def test_check_reports_why_it_cannot_print(condition: Condition, code: int, reason: str) -> None:
    with PrinterEmulator(condition) as emu:
        emu.start_tcp()
        out = io.StringIO()
        assert check_printer.run(emu.tcp_url, FAST, False, out) == code
        assert reason in out.getvalue()
        assert emu.jobs == []


def test_check_without_a_printer_and_with_a_bad_url() -> None:
    out = io.StringIO()
    assert check_printer.run("tcp://127.0.0.1:1", FAST, False, out) == 2
    assert "无法连接打印机" in out.getvalue()
    out = io.StringIO()
    assert check_printer.run("tcp://127.0.0.1:1", {"paper_width_mm": 76}, True, out) == 3
    assert json.loads(out.getvalue())["exit_code"] == 3


def test_preview_renders_a_capture(tmp_path: Path) -> None:
    with PrinterEmulator(out_dir=tmp_path / "jobs") as emu:
        emu.start_tcp()
        printer = EscposPrinter(emu.tcp_url, FAST)
        printer.start()
        try:
            assert printer.wait_until(lambda p: p.status().can_print, 5)
            printer.print_document(all_documents()["resident_code"])
            emu.wait_for_jobs(1, 5)
        finally:
            printer.stop()
    capture = tmp_path / "jobs" / "job-0001.bin"
    assert capture.is_file() and (tmp_path / "jobs" / "job-0001.png").is_file()
    out = io.StringIO()
    assert preview.run(capture, tmp_path / "p.png", out=out) == 0
    image = Image.open(tmp_path / "p.png")
    assert image.width == 384
    assert [s.data for s in pyzbar.decode(image)] == [b"RC1:3701:8f3a9c2e7d114b6a9e0c5d2f1a7b3c4d"]
    assert "1 cut(s), 1 QR" in out.getvalue()
    assert preview.run(tmp_path / "missing.bin", tmp_path / "x.png", out=io.StringIO()) == 2


def test_preview_flags_tofu(tmp_path: Path) -> None:
    capture = tmp_path / "rare.bin"
    capture.write_bytes(b"\x1b@" + "龚䶮".encode("gb18030") + b"\n")
    out = io.StringIO()
    assert preview.run(capture, tmp_path / "rare.png", out=out) == 1
    assert "lacks" in out.getvalue()


def test_emulator_command_line(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "drivers.printer.emulator", "--tcp", "127.0.0.1:0", "--pty",
         "--out", str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout and proc.stdin
        first = proc.stdout.readline()
        match = re.search(r"tcp://127\.0\.0\.1:(\d+)", first)
        assert match, first
        assert proc.stdout.readline().startswith("serial port: /dev/pts/")
        printer = EscposPrinter(f"tcp://127.0.0.1:{match.group(1)}", FAST)
        printer.start()
        try:
            assert printer.wait_until(lambda p: p.status().can_print, 5)
            printer.print_document(all_documents()["queue_ticket"])
            png = tmp_path / "job-0001.png"
            deadline = time.monotonic() + 10
            while not png.is_file() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert png.is_file()
            proc.stdout.readline()  # the "condition: …" banner
            proc.stdin.write("paper_out\n")
            proc.stdin.flush()
            assert printer.wait_until(lambda p: p.status().paper.value == "out", 5)
        finally:
            printer.stop()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert Image.open(tmp_path / "job-0001.png").width == 384

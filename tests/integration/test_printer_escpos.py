"""Every layout through the real driver to the emulator, over TCP and over a pseudo-terminal.

Each job is rendered to a PNG, its QR code decoded back with zbar, its Chinese checked as bytes
on the wire and as glyphs in the picture, and its width checked against the paper. Set
``KIOSK_PRINT_OUT=/some/dir`` to keep the PNGs for a look.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyzbar import pyzbar

from drivers.base import DeviceState
from drivers.printer.document import Barcode, Document, QrCode
from drivers.printer.emulator import Condition, PrinterEmulator
from drivers.printer.encoder import PAPER_DOTS
from drivers.printer.escpos_driver import NO_ANSWER, NOT_CONNECTED, EscposPrinter
from drivers.printer.interface import PaperLevel, PrintRefused
from kiosk.printing.samples import all_documents

FAST = {"poll_interval": 0.1, "status_timeout": 0.2, "backoff_initial": 0.05,
        "backoff_max": 0.2, "baudrate": 115200}

#: text that must reach the printer as raw bytes in the printer's encoding, per slip
EXPECTED_TEXT = {
    "queue_ticket": ["社会保障卡申领", "济南市历下区政务服务中心", "前方等待"],
    "service_guide": ["办事指南", "申请材料", "居民身份证"],
    "resident_code": ["居民码", "张**"],
    "enterprise_code": ["企业码", "济南示例科技有限公司"],
    "proof": ["参保缴费证明", "济南市社会保险事业中心"],
    "test_page": ["打印机测试页", "终端编号"],
}


def out_dir(tmp_path: Path) -> Path:
    return Path(os.environ.get("KIOSK_PRINT_OUT") or tmp_path)


@pytest.fixture
def emulator() -> Iterator[PrinterEmulator]:
    emu = PrinterEmulator()
    emu.start_tcp()
    emu.start_pty()
    yield emu
    emu.stop()


def connect(url: str, **options: object) -> EscposPrinter:
    printer = EscposPrinter(url, {**FAST, **options})
    printer.start()
    assert printer.wait_until(lambda p: p.state is DeviceState.READY, 5), printer.health()
    return printer


def payloads(doc: Document) -> set[str]:
    return {b.data for b in doc.blocks if isinstance(b, QrCode | Barcode)}


@pytest.mark.parametrize("transport", ["tcp", "pty"])
@pytest.mark.parametrize("width", [58, 80])
def test_every_layout_prints_decodes_and_fits(emulator: PrinterEmulator, tmp_path: Path,
                                              transport: str, width: int) -> None:
    url = emulator.tcp_url if transport == "tcp" else emulator.pty_path
    assert url
    emulator.paper_width_mm = width
    printer = connect(url, paper_width_mm=width)
    try:
        documents = all_documents(width)
        for count, (name, doc) in enumerate(documents.items(), start=1):
            printer.print_document(doc)
            jobs = emulator.wait_for_jobs(count, 5)
            assert len(jobs) == count
            job = jobs[-1]
            assert job.source == transport and job.cut
            for text in EXPECTED_TEXT[name]:
                assert text.encode("gb18030") in job.data, (name, text)
            rendering = emulator.render(job)
            rendering.save(out_dir(tmp_path) / f"{name}-{width}-{transport}.png")
            assert rendering.image.width == PAPER_DOTS[width]
            assert 0 < rendering.ink_right <= PAPER_DOTS[width]
            assert not rendering.warnings, (name, rendering.warnings)
            assert not rendering.missing_glyphs, name
            decoded = {s.data.decode("utf-8") for s in pyzbar.decode(rendering.image)}
            assert payloads(doc) <= decoded, name
            assert rendering.qr_codes == [b.data for b in doc.blocks if isinstance(b, QrCode)]
            assert len(job.data) < 8000
    finally:
        printer.stop()


@pytest.mark.parametrize("encoding", ["gbk", "gbk_fs", "utf8"])
def test_other_encodings_render_the_same_text(tmp_path: Path, encoding: str) -> None:
    with PrinterEmulator(encoding=encoding) as emu:
        emu.start_tcp()
        printer = connect(emu.tcp_url, encoding=encoding)
        try:
            doc = all_documents()["proof"]
            printer.print_document(doc)
            job = emu.wait_for_jobs(1, 5)[0]
        finally:
            printer.stop()
        rendering = emu.render(job)
        rendering.save(out_dir(tmp_path) / f"proof-{encoding}.png")
        assert "参保缴费证明" in rendering.lines
        assert "出具单位：济南市社会保险事业中心" in rendering.text
        assert rendering.rasters == 1  # the line with the rare name 龚䶮
        assert not rendering.missing_glyphs and not rendering.warnings
        if encoding == "gbk_fs":
            assert b"\x1c&" in job.data and b"\x1c." in job.data
        if encoding == "utf8":
            assert "参保缴费证明".encode() in job.data


def test_raster_qr_option_prints_a_decodable_qr(emulator: PrinterEmulator) -> None:
    printer = connect(emulator.tcp_url, qr="raster")
    try:
        doc = all_documents()["queue_ticket"]
        printer.print_document(doc)
        job = emulator.wait_for_jobs(1, 5)[0]
    finally:
        printer.stop()
    assert b"\x1d(k" not in job.data
    rendering = emulator.render(job)
    assert rendering.qr_codes == []
    decoded = {s.data.decode() for s in pyzbar.decode(rendering.image)}
    assert payloads(doc) <= decoded


@pytest.mark.parametrize("transport", ["tcp", "pty"])
@pytest.mark.parametrize(("condition", "paper", "online", "ready", "reason"), [
    (Condition.OK, PaperLevel.OK, True, True, ""),
    (Condition.NEAR_END, PaperLevel.NEAR_END, True, True, "打印纸即将用完"),
    (Condition.PAPER_OUT, PaperLevel.OUT, False, False, "打印纸已用完"),
    (Condition.COVER_OPEN, PaperLevel.OK, False, False, "打印机盖未关好"),
    (Condition.CUTTER_ERROR, PaperLevel.OK, False, False, "切纸刀故障"),
    (Condition.OFFLINE, PaperLevel.UNKNOWN, None, False, NO_ANSWER),
])
def test_status_conditions(emulator: PrinterEmulator, transport: str, condition: Condition,
                           paper: PaperLevel, online: bool | None, ready: bool,
                           reason: str) -> None:
    url = emulator.tcp_url if transport == "tcp" else emulator.pty_path
    assert url
    printer = connect(url)
    try:
        emulator.condition = condition
        assert printer.wait_until(lambda p: p.status().paper is paper
                                  and p.status().online is online, 5), printer.status()
        assert printer.wait_until(lambda p: (p.state is DeviceState.READY) is ready, 5)
        assert printer.health().reason == reason
        assert printer.health().detail["paper"] == paper.value
        before = len(emulator.jobs)
        doc = all_documents()["queue_ticket"]
        if ready:
            printer.print_document(doc)
            assert len(emulator.wait_for_jobs(before + 1, 5)) == before + 1
        else:
            with pytest.raises(PrintRefused) as info:
                printer.print_document(doc)
            assert info.value.reason == reason
            time.sleep(0.2)
            assert len(emulator.jobs) == before  # nothing was sent
    finally:
        printer.stop()


def test_printer_that_never_answers_is_never_ok(tmp_path: Path) -> None:
    with PrinterEmulator(Condition.OFFLINE) as emu:
        emu.start_tcp()
        printer = EscposPrinter(emu.tcp_url, FAST)
        printer.start()
        try:
            assert printer.wait_until(lambda p: emu.status_queries >= 3, 5)
            status = printer.status()
            assert status.online is None and status.paper is PaperLevel.UNKNOWN
            assert not status.can_print and printer.state is not DeviceState.READY
            with pytest.raises(PrintRefused):
                printer.print_document(all_documents()["queue_ticket"])
            assert emu.jobs == []
        finally:
            printer.stop()


def test_reconnects_after_the_printer_goes_away() -> None:
    first = PrinterEmulator()
    host, port = first.start_tcp()
    printer = connect(f"tcp://{host}:{port}")
    try:
        first.stop()
        assert printer.wait_until(lambda p: p.state is DeviceState.UNAVAILABLE, 5)
        assert printer.health().reason == NOT_CONNECTED
        with PrinterEmulator() as second:
            second.start_tcp(host, port)
            assert printer.wait_until(lambda p: p.state is DeviceState.READY, 5)
            printer.print_document(all_documents()["queue_ticket"])
            assert len(second.wait_for_jobs(1, 5)) == 1
    finally:
        printer.stop()
    assert not any(t.name == "printer-escpos" and t.is_alive() for t in threading.enumerate())


def test_concurrent_jobs_do_not_interleave(emulator: PrinterEmulator) -> None:
    printer = connect(emulator.tcp_url)
    docs = all_documents()
    try:
        threads = [threading.Thread(target=printer.print_document, args=(doc,))
                   for doc in docs.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=10)
        jobs = emulator.wait_for_jobs(len(docs), 5)
    finally:
        printer.stop()
    assert len(jobs) == len(docs)
    for job in jobs:
        rendering = emulator.render(job)
        assert rendering.cuts == 1 and not rendering.warnings

"""The printer contract (status, events) and the in-process fake."""

from __future__ import annotations

import threading

import pytest

from drivers.base import DeviceState, DeviceStateChanged
from drivers.printer import (
    BACKENDS,
    Cut,
    Document,
    PaperLevel,
    PrinterError,
    PrinterStatus,
    PrinterStatusChanged,
    PrintJobFinished,
    PrintRefused,
    QrCode,
    Rule,
    Text,
)
from drivers.printer.fake import FakePrinter, render_text
from drivers.registry import load_backend, open_device

DOC = Document((Text("A005", size=4, align="center", bold=True), Text("社保业务"),
                QrCode("https://example.invalid/q/A005"), Rule(), Cut()), title="排队小票")


def _status(**kw: object) -> PrinterStatus:
    base = dict(online=True, paper=PaperLevel.OK, cover_open=False, cutter_error=False,
                error=False)
    base.update(kw)
    return PrinterStatus(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("status", "can", "reason"), [
    (_status(), True, ""),
    (_status(paper=PaperLevel.NEAR_END), True, "打印纸即将用完"),
    (_status(paper=PaperLevel.OUT), False, "打印纸已用完"),
    (_status(cover_open=True), False, "打印机盖未关好"),
    (_status(cutter_error=True), False, "切纸刀故障"),
    (_status(online=False), False, "打印机离线"),
    (_status(error=True), False, "打印机故障"),
    (PrinterStatus.unknown(), False, "打印机无响应"),
    (_status(paper=PaperLevel.UNKNOWN), False, "打印机状态未知"),
    (_status(cover_open=None), False, "打印机状态未知"),
])
def test_status_can_print_and_reason(status: PrinterStatus, can: bool, reason: str) -> None:
    assert status.can_print is can
    assert status.reason == reason
    assert status.as_detail()["can_print"] is can


def test_unknown_is_never_ok() -> None:
    status = PrinterStatus(online=None, paper=PaperLevel.OK, cover_open=False,
                           cutter_error=False, error=False)
    assert not status.can_print


def test_backends_table_and_registry() -> None:
    assert BACKENDS["fake"] == "drivers.printer.fake:FakePrinter"
    assert load_backend("printer", "fake") is FakePrinter
    device = open_device("printer", "fake", options={"paper": "near_end"})
    assert isinstance(device, FakePrinter)
    assert device.status().paper is PaperLevel.NEAR_END


def test_fake_records_jobs_and_emits_events() -> None:
    printer = FakePrinter()
    events: list[object] = []
    printer.subscribe(events.append)
    printer.start()
    assert printer.state is DeviceState.READY
    job_id = printer.print_document(DOC)
    assert printer.jobs == [DOC]
    assert printer.job_ids == [job_id]
    finished = [e for e in events if isinstance(e, PrintJobFinished)]
    assert finished and finished[-1].job_id == job_id and finished[-1].ok
    assert finished[-1].kind == "printer"
    printer.stop()
    assert printer.state is DeviceState.STOPPED


def test_fake_paper_out_refuses_and_goes_unavailable() -> None:
    printer = FakePrinter()
    events: list[object] = []
    printer.subscribe(events.append)
    printer.start()
    printer.set_status(_status(paper=PaperLevel.OUT))
    assert printer.state is DeviceState.UNAVAILABLE
    assert printer.health().reason == "打印纸已用完"
    assert printer.health().detail["paper"] == "out"
    with pytest.raises(PrintRefused) as info:
        printer.print_document(DOC)
    assert info.value.reason == "打印纸已用完"
    assert printer.jobs == []
    assert any(isinstance(e, PrinterStatusChanged) and e.status.paper is PaperLevel.OUT
               for e in events)
    assert any(isinstance(e, PrintJobFinished) and not e.ok for e in events)
    printer.set_status(_status(paper=PaperLevel.NEAR_END))
    assert printer.state is DeviceState.READY
    printer.print_document(DOC)
    assert len(printer.jobs) == 1
    states = [e.state for e in events if isinstance(e, DeviceStateChanged)]
    assert states == [DeviceState.STARTING, DeviceState.READY, DeviceState.UNAVAILABLE,
                      DeviceState.READY]


@pytest.mark.parametrize("status", [_status(cover_open=True), _status(online=False),
                                    PrinterStatus.unknown()])
def test_fake_refuses_when_not_printable(status: PrinterStatus) -> None:
    printer = FakePrinter()
    printer.start()
    printer.set_status(status)
    with pytest.raises(PrintRefused):
        printer.print_document(DOC)


def test_fake_refuses_before_start_and_transient_failure() -> None:
    printer = FakePrinter()
    with pytest.raises(PrintRefused):
        printer.print_document(DOC)
    printer.start()
    printer.fail_next()
    with pytest.raises(PrinterError):
        printer.print_document(DOC)
    printer.print_document(DOC)
    assert len(printer.jobs) == 1


def test_fake_is_thread_safe() -> None:
    printer = FakePrinter()
    printer.start()
    threads = [threading.Thread(target=printer.print_document, args=(DOC,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    assert len(printer.jobs) == 8
    assert len(set(printer.job_ids)) == 8


def test_render_text() -> None:
    text = render_text(DOC)
    assert "A005" in text
    assert "社保业务" in text.splitlines()
    assert "[QR https://example.invalid/q/A005]" in text
    assert "-" * 32 in text
    assert text.endswith("[CUT]")


def test_document_reprs_hide_content() -> None:
    doc = Document([Text("张三 370102199001011234")], title="证明")
    assert isinstance(doc.blocks, tuple)
    assert "张三" not in repr(doc) and "张三" not in repr(doc.blocks[0])
    assert "3701" not in repr(QrCode("370102199001011234"))
    with pytest.raises(ValueError):
        Text("x", size=5)
    with pytest.raises(ValueError):
        QrCode("x", ec="Z")  # type: ignore[arg-type]

"""EscposPrinter against a scripted in-memory transport: state machine, refusals, reconnects."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from drivers.base import DeviceError, DeviceState, DeviceStateChanged
from drivers.printer import BACKENDS, Cut, Document, Text
from drivers.printer.emulator import Condition, status_byte
from drivers.printer.escpos_driver import NO_ANSWER, NOT_CONNECTED, EscposPrinter
from drivers.printer.interface import (
    PaperLevel,
    PrinterError,
    PrinterStatusChanged,
    PrintJobFinished,
    PrintRefused,
)
from drivers.printer.status import QUERY
from drivers.printer.transport import SerialTransport, TcpTransport, TransportError, open_transport
from drivers.registry import load_backend

DOC = Document((Text("社保业务"), Cut()), title="测试")
FAST = {"poll_interval": 0.05, "status_timeout": 0.05, "backoff_initial": 0.02,
        "backoff_max": 0.1}


class ScriptedTransport:
    """Answers status queries per ``condition``; can refuse to connect or fail writes."""

    description = "scripted://"

    def __init__(self) -> None:
        self.condition = Condition.OK
        self.connectable = True
        self.fail_writes = False
        self.opens = 0
        self.written: list[bytes] = []
        self._reply = b""
        self.lock = threading.Lock()

    def open(self) -> None:
        if not self.connectable:
            raise TransportError("refused")
        self.opens += 1

    def write(self, data: bytes) -> None:
        if self.fail_writes:
            raise TransportError("broken pipe")
        with self.lock:
            if data == QUERY:
                self._reply = b"".join(status_byte(self.condition, n) for n in (1, 2, 3, 4))
            else:
                self.written.append(data)

    def read(self, size: int, timeout: float) -> bytes:
        with self.lock:
            reply, self._reply = self._reply[:size], self._reply[size:]
        if not reply:
            time.sleep(timeout)
        return reply

    def discard_input(self) -> None:
        self._reply = b""

    def close(self) -> None:
        pass


def wait(predicate: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


@pytest.fixture
def rig() -> tuple[EscposPrinter, ScriptedTransport, list[object]]:
    printer = EscposPrinter("tcp://127.0.0.1:9", FAST)
    transport = ScriptedTransport()
    printer._transport = transport  # type: ignore[assignment]
    events: list[object] = []
    printer.subscribe(events.append)
    yield printer, transport, events
    printer.stop()
    assert not any(t.name == "printer-escpos" and t.is_alive() for t in threading.enumerate())


def test_registered_backend() -> None:
    assert BACKENDS["escpos"] == "drivers.printer.escpos_driver:EscposPrinter"
    assert load_backend("printer", "escpos") is EscposPrinter


def test_urls_choose_transports() -> None:
    assert isinstance(open_transport("tcp://10.0.0.8"), TcpTransport)
    assert open_transport("tcp://10.0.0.8").port == 9100  # type: ignore[union-attr]
    assert isinstance(open_transport("/dev/ttyUSB0", {"baudrate": 115200}), SerialTransport)
    with pytest.raises(DeviceError):
        open_transport("usb://nonsense")
    with pytest.raises(DeviceError):
        EscposPrinter("")


def test_ready_prints_and_reports(rig: tuple[EscposPrinter, ScriptedTransport, list[object]]
                                  ) -> None:
    printer, transport, events = rig
    printer.start()
    assert wait(lambda: printer.state is DeviceState.READY)
    job = printer.print_document(DOC)
    assert transport.written and "社保业务".encode("gb18030") in transport.written[-1]
    assert any(isinstance(e, PrintJobFinished) and e.job_id == job and e.ok for e in events)
    assert printer.health().detail["paper"] == "ok"
    assert printer.health().detail["url"] == "tcp://127.0.0.1:9"


def test_refuses_before_start(rig: tuple[EscposPrinter, ScriptedTransport, list[object]]) -> None:
    printer, transport, _ = rig
    with pytest.raises(PrintRefused):
        printer.print_document(DOC)
    assert transport.written == []


@pytest.mark.parametrize(("condition", "reason"), [
    (Condition.PAPER_OUT, "打印纸已用完"), (Condition.COVER_OPEN, "打印机盖未关好"),
    (Condition.CUTTER_ERROR, "切纸刀故障"), (Condition.OFFLINE, NO_ANSWER)])
def test_refuses_when_the_printer_cannot_print(
        rig: tuple[EscposPrinter, ScriptedTransport, list[object]], condition: Condition,
        reason: str) -> None:
    printer, transport, events = rig
    printer.start()
    assert wait(lambda: printer.state is DeviceState.READY)
    transport.condition = condition
    with pytest.raises(PrintRefused) as info:
        printer.print_document(DOC)  # checked right before sending, not from a stale poll
    assert info.value.reason == reason
    assert transport.written == []
    assert wait(lambda: printer.state is DeviceState.UNAVAILABLE)
    assert printer.health().reason == reason
    assert any(isinstance(e, PrinterStatusChanged) for e in events)
    transport.condition = Condition.NEAR_END
    assert wait(lambda: printer.state is DeviceState.READY)
    assert printer.status().paper is PaperLevel.NEAR_END
    assert printer.health().reason == "打印纸即将用完"
    printer.print_document(DOC)
    assert len(transport.written) == 1


def test_silent_printer_is_unknown_then_reconnected(
        rig: tuple[EscposPrinter, ScriptedTransport, list[object]]) -> None:
    printer, transport, _ = rig
    transport.condition = Condition.OFFLINE
    printer.start()
    assert wait(lambda: transport.opens >= 2)  # silent polls → reconnect
    status = printer.status()
    assert status.online is None and status.paper is PaperLevel.UNKNOWN and not status.can_print
    assert printer.state is DeviceState.UNAVAILABLE
    assert printer.health().reason == NO_ANSWER


def test_connection_failure_backs_off_and_recovers(
        rig: tuple[EscposPrinter, ScriptedTransport, list[object]]) -> None:
    printer, transport, events = rig
    transport.connectable = False
    printer.start()
    assert wait(lambda: printer.state is DeviceState.UNAVAILABLE)
    assert printer.health().reason == NOT_CONNECTED
    with pytest.raises(PrintRefused) as info:
        printer.print_document(DOC)
    assert info.value.reason == NOT_CONNECTED
    transport.connectable = True
    assert wait(lambda: printer.state is DeviceState.READY)
    states = [e.state for e in events if isinstance(e, DeviceStateChanged)]
    assert states[:3] == [DeviceState.STARTING, DeviceState.UNAVAILABLE, DeviceState.READY]


def test_write_failure_is_transient_error_and_reconnects(
        rig: tuple[EscposPrinter, ScriptedTransport, list[object]]) -> None:
    printer, transport, events = rig
    printer.start()
    assert wait(lambda: printer.state is DeviceState.READY)
    opens = transport.opens
    original_write = transport.write

    def write(data: bytes) -> None:
        if data != QUERY:
            raise TransportError("broken pipe")
        original_write(data)

    transport.write = write  # type: ignore[method-assign]
    with pytest.raises(PrinterError):
        printer.print_document(DOC)
    assert any(isinstance(e, PrintJobFinished) and not e.ok for e in events)
    assert wait(lambda: transport.opens > opens and printer.state is DeviceState.READY)
    transport.write = original_write  # type: ignore[method-assign]
    printer.print_document(DOC)


def test_status_query_disabled_prints_blind(
        rig: tuple[EscposPrinter, ScriptedTransport, list[object]]) -> None:
    printer, transport, _ = rig
    printer.status_query = False
    transport.condition = Condition.OFFLINE
    printer.start()
    assert wait(lambda: printer.state is DeviceState.READY)
    printer.print_document(DOC)
    assert len(transport.written) == 1


def test_bad_document_is_refused(rig: tuple[EscposPrinter, ScriptedTransport, list[object]]
                                 ) -> None:
    from drivers.printer.document import Barcode

    printer, transport, _ = rig
    printer.start()
    assert wait(lambda: printer.state is DeviceState.READY)
    with pytest.raises(PrintRefused):
        printer.print_document(Document((Barcode("社保"),)))
    assert transport.written == []

"""USB printers (``usb://VVVV:PPPP``): UsbTransport and the escpos driver over pyusb, with an
emulated printer behind pyusb's backend interface (the same ESC/POS parser as the TCP/pty
emulator; only libusb and the cable are left out)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import usb.core

from drivers.base import DeviceState
from drivers.printer.emulator import Condition, PrinterEmulator
from drivers.printer.escpos_driver import NOT_CONNECTED, EscposPrinter
from drivers.printer.interface import PaperLevel, PrintRefused
from drivers.printer.status import QUERY, decode
from drivers.printer.transport import TransportError, UsbTransport, open_transport
from drivers.printer.usb_emulator import EmulatedUsbBackend
from kiosk.printing.samples import all_documents

FAST = {"poll_interval": 0.05, "status_timeout": 0.2, "backoff_initial": 0.02,
        "backoff_max": 0.1}
VENDOR, PRODUCT = 0x0416, 0x5011


@pytest.fixture
def emulator() -> Iterator[PrinterEmulator]:
    emu = PrinterEmulator()
    yield emu
    emu.stop()


def test_pyusb_sees_a_printer_class_device(emulator: PrinterEmulator) -> None:
    backend = EmulatedUsbBackend(emulator, VENDOR, PRODUCT)
    device = usb.core.find(idVendor=VENDOR, idProduct=PRODUCT, backend=backend)
    assert device is not None
    device.set_configuration()
    interface = device.get_active_configuration()[(0, 0)]
    assert interface.bInterfaceClass == 7
    assert {ep.bEndpointAddress for ep in interface} == {0x01, 0x82}


def test_the_url_names_vendor_and_product() -> None:
    transport = open_transport("usb://0416:5011", {"in_ep": 0x81, "out_ep": 0x02})
    assert isinstance(transport, UsbTransport)
    assert (transport.vendor, transport.product, transport.in_ep, transport.out_ep) == (
        VENDOR, PRODUCT, 0x81, 0x02)
    assert transport.description == "usb://0x0416:0x5011"


def test_transport_writes_a_job_and_reads_the_status(emulator: PrinterEmulator) -> None:
    backend = EmulatedUsbBackend(emulator, VENDOR, PRODUCT)
    transport = UsbTransport(VENDOR, PRODUCT, timeout_ms=1000, backend=backend)
    transport.open()
    try:
        assert backend.configured == 1
        doc = all_documents()["queue_ticket"]
        from drivers.printer.encoder import EncoderOptions, EscposEncoder

        data = EscposEncoder(EncoderOptions(paper_width_mm=58)).encode(doc)
        transport.write(data)
        jobs = emulator.wait_for_jobs(1, 5)
        assert len(jobs) == 1 and jobs[0].data == data
        assert jobs[0].source == "usb" and jobs[0].cut
        transport.discard_input()
        transport.write(QUERY)
        status = decode(transport.read(4, 1.0))
        assert status.online and status.paper is PaperLevel.OK
        emulator.condition = Condition.PAPER_OUT
        transport.write(QUERY)
        assert decode(transport.read(4, 1.0)).paper is PaperLevel.OUT
        assert transport.read(4, 0.05) == b""  # nothing more to read: a time-out, not an error
    finally:
        transport.close()


def test_a_missing_device_and_a_pulled_cable_are_transport_errors(
        emulator: PrinterEmulator) -> None:
    absent = UsbTransport(0x1234, 0x5678, backend=EmulatedUsbBackend(emulator))
    with pytest.raises(TransportError, match="not found"):
        absent.open()
    backend = EmulatedUsbBackend(emulator, VENDOR, PRODUCT)
    transport = UsbTransport(VENDOR, PRODUCT, timeout_ms=500, backend=backend)
    transport.open()
    backend.unplug()
    with pytest.raises(TransportError, match="write to usb://0x0416:0x5011 failed"):
        transport.write(b"\x1b@")
    with pytest.raises(TransportError, match="read from"):
        transport.read(4, 0.1)
    transport.close()


def test_the_escpos_driver_prints_and_refuses_over_usb(emulator: PrinterEmulator) -> None:
    printer = EscposPrinter(f"usb://{VENDOR:04x}:{PRODUCT:04x}", FAST)
    backend = EmulatedUsbBackend(emulator, VENDOR, PRODUCT)
    printer._transport.backend = backend  # the emulated device instead of libusb
    printer.start()
    try:
        assert printer.wait_until(lambda p: p.state is DeviceState.READY, 5), printer.health()
        printer.print_document(all_documents()["queue_ticket"])
        assert len(emulator.wait_for_jobs(1, 5)) == 1
        emulator.condition = Condition.PAPER_OUT
        assert printer.wait_until(lambda p: p.status().paper is PaperLevel.OUT, 5)
        with pytest.raises(PrintRefused):
            printer.print_document(all_documents()["queue_ticket"])
        backend.unplug()
        assert printer.wait_until(lambda p: p.state is DeviceState.UNAVAILABLE
                                  and p.health().reason == NOT_CONNECTED, 5), printer.health()
    finally:
        printer.stop()
    assert len(emulator.jobs) == 1

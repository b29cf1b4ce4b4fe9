"""The serial scanner driver through a real pseudo-terminal (and pyserial socket://)."""

from __future__ import annotations

import logging
import time

import pytest

from drivers import registry
from drivers.base import DeviceError, DeviceState
from drivers.scanner.emulator import EventCollector as Collector
from drivers.scanner.emulator import PtyScannerEmulator, TcpScannerEmulator
from drivers.scanner.serial_driver import SerialScanner

RESIDENT = "RC1:" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 5


@pytest.fixture
def emulator():
    emu = PtyScannerEmulator().start()
    yield emu
    emu.stop()


@pytest.fixture
def make_scanner():
    made: list[SerialScanner] = []

    def make(url: str, **options) -> tuple[SerialScanner, Collector]:
        options.setdefault("backoff_initial_s", 0.05)
        options.setdefault("backoff_max_s", 0.2)
        scanner = SerialScanner(url, options)
        collector = Collector()
        scanner.subscribe(collector)
        scanner.start()
        made.append(scanner)
        collector.wait_state(DeviceState.READY)
        return scanner, collector

    yield make
    for scanner in made:
        scanner.stop()


def test_scans_through_a_pty(emulator, make_scanner) -> None:
    scanner, got = make_scanner(emulator.url)
    emulator.scan(RESIDENT)
    event = got.code()
    assert (event.kind, event.source, event.payload) == ("scanner", "scanner", RESIDENT)
    for suffix in (b"\r", b"\n", b"\r\n"):
        emulator.scan("A005", suffix=suffix)
        assert got.code().payload == "A005"
    assert scanner.health().detail["scans"] == 4


def test_bytes_in_pieces_with_pauses(emulator, make_scanner) -> None:
    _, got = make_scanner(emulator.url)
    emulator.send(RESIDENT.encode() + b"\r\n", chunk=16, gap_s=0.01)
    assert got.code().payload == RESIDENT


def test_resynchronises_after_noise(emulator, make_scanner) -> None:
    scanner, got = make_scanner(emulator.url, gap_s=0.2)
    emulator.send(b"\xff\x00\xfe\x13")  # hot-plug noise
    emulator.scan("A005")
    assert got.code().payload == "A005"
    emulator.send(b"cut-off-fragm")  # a partial code, then the scanner is quiet
    time.sleep(0.35)
    emulator.scan("B012")
    assert got.code().payload == "B012"
    assert got.no_code()
    assert scanner.health().detail["noise"] >= 2


def test_max_length_and_custom_suffix(emulator, make_scanner) -> None:
    scanner, got = make_scanner(emulator.url, suffix="etx", max_length=32, baudrate=115200)
    emulator.send(b"X" * 100 + b"\x03")
    emulator.send("排队A005".encode("gb18030") + b"\x03")
    assert got.code().payload == "排队A005"
    assert scanner.health().detail["overlong"] == 1
    assert scanner.health().detail["baudrate"] == 115200


def test_unplug_and_plug_back(emulator, make_scanner) -> None:
    scanner, got = make_scanner(emulator.url)
    emulator.unplug()
    lost = got.wait_state(DeviceState.UNAVAILABLE)
    assert "port" in lost.reason
    assert not scanner.health().available
    emulator.plug()
    got.wait_state(DeviceState.READY)
    emulator.scan("A007")
    assert got.code().payload == "A007"
    assert scanner.health().detail["reconnects"] == 1


def test_missing_port_is_unavailable_then_ready_when_it_appears(tmp_path) -> None:
    emu = PtyScannerEmulator(str(tmp_path))
    scanner = SerialScanner(emu.url, {"backoff_initial_s": 0.05, "backoff_max_s": 0.1})
    got = Collector()
    scanner.subscribe(got)
    scanner.start()
    try:
        assert "could not open port" in got.wait_state(DeviceState.UNAVAILABLE).reason
        emu.plug()
        got.wait_state(DeviceState.READY)
        emu.scan("A001")
        assert got.code().payload == "A001"
    finally:
        scanner.stop()
        emu.stop()
    assert scanner.state is DeviceState.STOPPED


def test_tcp_socket_url() -> None:
    with TcpScannerEmulator() as emu:
        scanner = registry.open_device("scanner", "serial", emu.url)
        got = Collector()
        scanner.subscribe(got)
        scanner.start()
        try:
            got.wait_state(DeviceState.READY)
            assert emu.connected.wait(3)
            emu.scan("A009")
            assert got.code().payload == "A009"
        finally:
            scanner.stop()


def test_payloads_never_logged(emulator, make_scanner, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    _, got = make_scanner(emulator.url)
    secret = "RC1:370102199003070032SECRET"
    emulator.scan(secret)
    assert got.code().payload == secret
    text = "\n".join(r.getMessage() for r in caplog.records) + repr(got)
    assert "370102199003070032" not in text and "SECRET" not in text


@pytest.mark.parametrize(("url", "options", "message"), [
    ("", {}, "needs a url"),
    ("/dev/ttyX", {"speed": 9600}, "unknown scanner/serial option"),
    ("/dev/ttyX", {"baudrate": "fast"}, "bad scanner/serial option value"),
    ("/dev/ttyX", {"suffix": "\\x01\\x02\\x03\\x04\\x05"}, "1 to 4 bytes"),
    ("/dev/ttyX", {"encoding": "ebcdic"}, "encoding must be one of"),
    ("/dev/ttyX", {"aim": "yes"}, "true or false"),
])
def test_bad_configuration_explains_itself(url: str, options: dict, message: str) -> None:
    with pytest.raises(DeviceError, match=message):
        SerialScanner(url, options)

"""The keyboard-wedge scanner driver reading input_event structs from a FIFO."""

from __future__ import annotations

import pytest

from drivers import registry
from drivers.base import DeviceError, DeviceState
from drivers.scanner.emulator import EventCollector as Collector
from drivers.scanner.emulator import WedgeEmulator
from drivers.scanner.wedge_driver import WedgeScanner


@pytest.fixture
def wedge():
    emu = WedgeEmulator().start()
    made: list[WedgeScanner] = []

    def make(**options) -> tuple[WedgeScanner, Collector]:
        options.setdefault("backoff_initial_s", 0.05)
        options.setdefault("backoff_max_s", 0.1)
        scanner = registry.open_device("scanner", "wedge", f"evdev://{emu.path}", options)
        got = Collector()
        scanner.subscribe(got)
        scanner.start()
        made.append(scanner)
        got.wait_state(DeviceState.READY)
        return scanner, got

    yield emu, make
    for scanner in made:
        scanner.stop()
    emu.stop()


def test_typed_code_arrives_once(wedge) -> None:
    emu, make = wedge
    scanner, got = make()
    emu.type_text("RC1:ABCDEFGHIJ234567")
    event = got.code()
    assert (event.payload, event.source, event.kind) == ("RC1:ABCDEFGHIJ234567", "scanner",
                                                         "scanner")
    assert got.no_code()
    # a FIFO is not an evdev device: the grab fails and the driver says so, but keeps reading
    assert scanner.health().detail["grabbed"] is False


def test_chinese_through_alt_codes(wedge) -> None:
    emu, make = wedge
    _, got = make(alt_codes="gb18030")
    emu.type_text("排队A005号", alt_codes="gb18030")
    assert got.code().payload == "排队A005号"


def test_tab_suffix_and_overlong(wedge) -> None:
    emu, make = wedge
    scanner, got = make(suffix="tab", max_length=10)
    emu.type_text("WAY-TOO-LONG-PAYLOAD", suffix="tab")
    emu.type_text("A005", suffix="tab")
    assert got.code().payload == "A005"
    assert scanner.health().detail["overlong"] == 1


def test_unplug_and_plug_back(wedge) -> None:
    emu, make = wedge
    scanner, got = make()
    emu.unplug()
    reason = got.wait_state(DeviceState.UNAVAILABLE).reason
    assert "unplugged" in reason or "plugged in" in reason
    emu.plug()
    got.wait_state(DeviceState.READY)
    emu.type_text("A006")
    assert got.code().payload == "A006"
    assert scanner.health().detail["reconnects"] >= 1


def test_bad_configuration() -> None:
    with pytest.raises(DeviceError, match="input device's path"):
        WedgeScanner("socket://127.0.0.1:1")
    with pytest.raises(DeviceError, match="suffix"):
        WedgeScanner("/dev/input/event3", {"suffix": "semicolon"})
    with pytest.raises(DeviceError, match="unknown scanner/wedge option"):
        WedgeScanner("/dev/input/event3", {"exclusive": True})

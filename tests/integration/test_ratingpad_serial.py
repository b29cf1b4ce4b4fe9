"""The serial rating pad driver against the pty emulator: reference protocol and vendor bytes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from drivers.base import DeviceState
from drivers.ratingpad import RatingKeyPressed
from drivers.ratingpad.emulator import PadEmulator
from drivers.ratingpad.serial_pad import SerialRatingPad

FAST = {"heartbeat_s": 0.3, "reply_timeout_s": 0.3, "backoff_initial_s": 0.1,
        "backoff_max_s": 0.3}


def wait(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def levels(events: list) -> list[str]:
    return [e.level for e in events if isinstance(e, RatingKeyPressed)]


@pytest.fixture
def reference() -> Iterator[tuple[PadEmulator, SerialRatingPad, list]]:
    with PadEmulator("reference") as emu:
        pad = SerialRatingPad(emu.path, {"vendor": "reference", **FAST})
        events: list = []
        pad.subscribe(events.append)
        pad.start()
        try:
            assert wait(lambda: pad.state is DeviceState.READY), pad.health()
            yield emu, pad, events
        finally:
            pad.stop()


def test_reference_pad_prompt_light_and_presses(reference) -> None:
    emu, pad, events = reference
    assert pad.health().detail["firmware"] == "RP1-EMU 1.0"
    emu.press("satisfied")  # no prompt open: ignored, but still acknowledged
    assert wait(lambda: pad.health().detail["ignored"] == 1)
    assert levels(events) == []
    pad.arm()
    assert wait(lambda: emu.lit)
    emu.press("very_dissatisfied")
    assert wait(lambda: levels(events) == ["very_dissatisfied"])
    assert wait(lambda: not emu._pending)  # the pad got its KEY_ACK and stops repeating
    time.sleep(0.5)  # longer than the pad's repeat interval: no duplicate press
    assert levels(events) == ["very_dissatisfied"]
    pad.disarm()
    assert wait(lambda: not emu.lit)
    emu.press("basic")
    assert wait(lambda: pad.health().detail["ignored"] == 2)
    assert levels(events) == ["very_dissatisfied"]


def test_lost_ack_repeats_are_counted_once(reference) -> None:
    emu, pad, events = reference
    pad.arm()
    assert wait(lambda: emu.lit)
    emu.noise(b"\x02\x01\xa0\x02\x05\x01\x00\x03")  # a KEY frame with a bad checksum
    frame_seq = 200
    from drivers.ratingpad import protocol as rp

    frame = rp.key_frame(1, "basic", frame_seq)
    for _ in range(3):  # the pad repeating a KEY whose ACK it did not see
        emu.noise(frame)
    assert wait(lambda: levels(events) == ["basic"])
    time.sleep(0.2)
    assert levels(events) == ["basic"]
    assert pad.health().detail["bad_bytes"] > 0


def test_unplugged_pad_goes_unavailable_and_comes_back(reference) -> None:
    emu, pad, events = reference
    pad.arm()
    emu.unplug()
    assert wait(lambda: pad.state is DeviceState.UNAVAILABLE, 5)
    assert "PING" in pad.health().reason
    emu.plug()
    assert wait(lambda: pad.state is DeviceState.READY, 5)
    assert pad.health().detail["reconnects"] >= 1
    assert wait(lambda: emu.lit)  # re-armed after the reconnect
    emu.press("satisfied")
    assert wait(lambda: levels(events) == ["satisfied"])


@pytest.mark.parametrize(("vendor", "pressed", "expected"), [
    ("legacy4", ["very_satisfied", "dissatisfied"], ["very_satisfied", "dissatisfied"]),
    ("five", ["very_dissatisfied", "basic"], ["very_dissatisfied", "basic"]),
])
def test_vendor_byte_pads(vendor: str, pressed: list[str], expected: list[str]) -> None:
    with PadEmulator(vendor) as emu:
        pad = SerialRatingPad(emu.path, {"vendor": vendor, "debounce_s": 0.0, **FAST})
        events: list = []
        pad.subscribe(events.append)
        pad.start()
        try:
            assert wait(lambda: pad.state is DeviceState.READY)
            emu.press(pressed[0])  # outside a prompt
            assert wait(lambda: pad.health().detail["ignored"] == 1)
            pad.arm()
            if vendor == "five":
                emu.press_raw(bytes((1, 0)))  # "no key" frames are not presses
                emu.press_raw(bytes((2, 1)))  # another pad's address
            for level in pressed:
                emu.press(level)
                time.sleep(0.05)
            assert wait(lambda: levels(events) == expected), levels(events)
        finally:
            pad.stop()
    assert pad.state is DeviceState.STOPPED


def test_bouncing_key_counts_once() -> None:
    with PadEmulator("legacy4") as emu:
        pad = SerialRatingPad(emu.path, {"vendor": "legacy4", "debounce_s": 0.5, **FAST})
        events: list = []
        pad.subscribe(events.append)
        pad.start()
        try:
            assert wait(lambda: pad.state is DeviceState.READY)
            pad.arm()
            emu.press_raw(b"111")  # contact bounce
            assert wait(lambda: levels(events) == ["satisfied"])
            time.sleep(0.2)
            assert levels(events) == ["satisfied"]
        finally:
            pad.stop()


def test_missing_port_is_unavailable_with_reason() -> None:
    pad = SerialRatingPad("/dev/does-not-exist-pad", {"vendor": "legacy4", **FAST})
    pad.start()
    try:
        assert wait(lambda: pad.state is DeviceState.UNAVAILABLE)
        assert "does-not-exist" in pad.health().reason
    finally:
        pad.stop()

"""Rating levels, the key-press event and the fake rating pad."""

from __future__ import annotations

import threading

import pytest

from drivers import registry
from drivers.base import DeviceState
from drivers.ratingpad import LEVELS, RatingKeyPressed, RatingPad
from drivers.ratingpad.fake import FakeRatingPad


@pytest.fixture
def pad():
    dev = FakeRatingPad()
    events: list = []
    dev.subscribe(events.append)
    dev.events = events
    yield dev
    dev.stop()


def presses(pad) -> list[str]:
    return [e.level for e in pad.events if isinstance(e, RatingKeyPressed)]


def test_levels_best_to_worst() -> None:
    assert LEVELS == ("very_satisfied", "satisfied", "basic", "dissatisfied",
                      "very_dissatisfied")


def test_event_validates_level() -> None:
    assert RatingKeyPressed("basic").kind == "ratingpad"
    with pytest.raises(ValueError):
        RatingKeyPressed("great")


def test_press_reported_only_while_armed(pad) -> None:
    assert isinstance(pad, RatingPad)
    pad.start()
    assert pad.state is DeviceState.READY
    assert not pad.press("satisfied")  # no prompt open: dropped
    pad.arm()
    assert pad.armed
    assert pad.press("very_dissatisfied")
    pad.disarm()
    assert not pad.press("satisfied")
    assert presses(pad) == ["very_dissatisfied"]


def test_unknown_level_rejected(pad) -> None:
    pad.start()
    pad.arm()
    with pytest.raises(ValueError):
        pad.press("meh")
    pad.stop()
    with pytest.raises(ValueError):
        pad.press("meh")


def test_unavailable_drops_presses(pad) -> None:
    pad.start()
    pad.arm()
    pad.set_available(False, "pad silent")
    assert pad.state is DeviceState.UNAVAILABLE
    assert not pad.press("basic")
    pad.set_available(True)
    assert pad.state is DeviceState.READY
    assert pad.press("basic")
    assert presses(pad) == ["basic"]


def test_not_started_drops_presses(pad) -> None:
    pad.arm()
    assert not pad.press("basic")
    assert presses(pad) == []


def test_concurrent_presses(pad) -> None:
    pad.start()
    pad.arm()
    threads = [threading.Thread(target=lambda lv=lv: [pad.press(lv) for _ in range(50)])
               for lv in LEVELS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
        assert not t.is_alive()
    got = presses(pad)
    assert len(got) == 250
    assert all(got.count(lv) == 50 for lv in LEVELS)


def test_registry_loads_fake() -> None:
    assert isinstance(registry.open_device("ratingpad", "fake"), FakeRatingPad)

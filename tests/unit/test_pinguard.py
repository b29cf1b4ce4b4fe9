"""The maintenance PIN guard: growing delay, lock-out after 5, audit, survives a restart."""

from __future__ import annotations

import json
from pathlib import Path

from kiosk.pinguard import PinGuard


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def guard(tmp_path: Path, clock: Clock) -> PinGuard:
    return PinGuard(tmp_path / "pin-guard.json", tmp_path / "audit.log", max_attempts=5,
                    lockout_s=300, clock=clock)


def test_delay_grows_then_locks_out_after_five_wrong_tries(tmp_path: Path) -> None:
    clock = Clock()
    pins = guard(tmp_path, clock)
    delays = []
    for _ in range(5):
        assert pins.before_attempt() == 0  # the wait is over: this try is taken
        delays.append(pins.record(False))
        clock.now += delays[-1]
    assert delays == [0, 1, 2, 4, 300]
    clock.now -= 1  # one second before the lock-out ends
    assert pins.before_attempt() == 1
    clock.now += 1
    assert pins.before_attempt() == 0
    assert pins.record(True) == 0 and pins.failures == 0


def test_a_try_during_the_delay_is_refused_and_audited(tmp_path: Path) -> None:
    clock = Clock()
    pins = guard(tmp_path, clock)
    pins.record(False)
    pins.record(False)  # two wrong: wait one second
    assert pins.before_attempt() == 1
    clock.now += 0.5
    assert pins.before_attempt() == 0.5
    lines = [json.loads(line) for line in (tmp_path / "audit.log").read_text().splitlines()]
    assert [line["outcome"] for line in lines] == ["wrong", "wrong", "wait", "wait"]
    assert all(line["event"] == "maintenance_pin" for line in lines)
    assert all(set(line) <= {"ts", "event", "outcome", "failures", "delay_s", "lockout",
                             "wait_s"} for line in lines)  # never the digits


def test_the_lock_out_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    pins = guard(tmp_path, clock)
    for _ in range(5):
        clock.now += pins.record(False) if pins.before_attempt() == 0 else 0
    clock.now -= 300 - 10  # ten seconds into the lock-out, the kiosk restarts
    again = guard(tmp_path, clock)
    assert again.failures == 5 and again.before_attempt() > 0
    (tmp_path / "pin-guard.json").write_text("{broken")
    assert guard(tmp_path, clock).before_attempt() == 300  # unreadable: locked, not fresh


def test_a_right_pin_resets_the_count(tmp_path: Path) -> None:
    clock = Clock()
    pins = guard(tmp_path, clock)
    pins.record(False)
    pins.record(True)
    assert pins.record(False) == 0  # counting starts again
    audit = (tmp_path / "audit.log").read_text()
    assert audit.count('"outcome": "accepted"') == 1

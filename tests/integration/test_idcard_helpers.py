"""Shared helpers for the ID card integration tests (imported by the test modules; named
test_idcard_* to stay inside this package's test files, it holds no tests itself)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from drivers.base import DeviceEvent, DeviceState, DeviceStateChanged

FAST_OPTIONS: dict[str, Any] = {
    "poll_hz": 50,
    "read_timeout_s": 0.3,
    "card_read_timeout_s": 0.6,
    "backoff_initial_s": 0.05,
    "backoff_max_s": 0.2,
}


class Recorder:
    """Collects a device's events; waits are bounded."""

    def __init__(self) -> None:
        self.events: list[DeviceEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: DeviceEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def of(self, kind: type) -> list[Any]:
        with self._cond:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, predicate: Callable[[DeviceEvent], bool], timeout: float = 5.0,
                 after: int = 0) -> DeviceEvent:
        """The first event at index >= ``after`` matching ``predicate``; AssertionError if none
        arrives within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events[after:]:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    kinds = [type(e).__name__ for e in self.events[after:]]
                    raise AssertionError(f"no matching event within {timeout} s; saw {kinds}")
                self._cond.wait(left)

    def wait_type(self, kind: type, timeout: float = 5.0, after: int = 0) -> Any:
        return self.wait_for(lambda e: isinstance(e, kind), timeout, after)

    def wait_state(self, state: DeviceState, timeout: float = 5.0,
                   after: int = 0) -> DeviceStateChanged:
        event = self.wait_for(
            lambda e: isinstance(e, DeviceStateChanged) and e.state is state, timeout, after)
        assert isinstance(event, DeviceStateChanged)
        return event

    def mark(self) -> int:
        with self._cond:
            return len(self.events)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)

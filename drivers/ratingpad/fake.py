"""In-process fake rating pad for unit tests, demos and the UI."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from drivers.base import DeviceState
from drivers.ratingpad.interface import LEVELS, RatingPad


class FakeRatingPad(RatingPad):
    """A pad driven by test code: :meth:`press` a level, :meth:`set_available`. Thread-safe."""

    type_name = "fake"

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)
        self._ops = threading.Lock()
        self._available = True
        self._unavailable_reason = ""
        self._running = False

    def _on_start(self) -> None:
        with self._ops:
            self._running = True
            if self._available:
                self._set_state(DeviceState.READY)
            else:
                self._set_state(DeviceState.UNAVAILABLE, self._unavailable_reason)

    def _on_stop(self) -> None:
        with self._ops:
            self._running = False

    def press(self, level: str) -> bool:
        """Press a key (one of :data:`LEVELS`); published only if running, available, armed."""
        with self._ops:
            if not (self._running and self._available):
                if level not in LEVELS:
                    raise ValueError(f"unknown rating level {level!r}")
                return False
            return self._key_pressed(level)

    def set_available(self, available: bool, reason: str = "") -> None:
        """Simulate unplugging (False) or plugging back (True) the pad."""
        with self._ops:
            self._available = available
            self._unavailable_reason = "" if available else (reason or "rating pad unplugged")
            if self._running:
                if available:
                    self._set_state(DeviceState.READY)
                else:
                    self._set_state(DeviceState.UNAVAILABLE, self._unavailable_reason)

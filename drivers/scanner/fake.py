"""In-process fake code scanner for unit tests, demos and the UI."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from drivers.base import DeviceState
from drivers.scanner.interface import CodeScanned, Scanner


class FakeScanner(Scanner):
    """A scanner driven by test code: :meth:`scan` and :meth:`set_available`. Thread-safe."""

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

    def scan(self, payload: str) -> bool:
        """Publish a :class:`CodeScanned` (source ``"scanner"``); ignored unless ready."""
        with self._ops:
            if not (self._running and self._available):
                return False
            self._emit(CodeScanned(self.kind, payload=payload, source="scanner"))
            return True

    def set_available(self, available: bool, reason: str = "") -> None:
        """Simulate unplugging (False) or plugging back (True) the scanner."""
        with self._ops:
            self._available = available
            self._unavailable_reason = "" if available else (reason or "scanner unplugged")
            if self._running:
                if available:
                    self._set_state(DeviceState.READY)
                else:
                    self._set_state(DeviceState.UNAVAILABLE, self._unavailable_reason)

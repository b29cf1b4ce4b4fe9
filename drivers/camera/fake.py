"""In-process fake camera for unit tests, demos and the UI."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from drivers.base import DeviceState
from drivers.camera.interface import Camera
from drivers.scanner.interface import CodeScanned


class FakeCamera(Camera):
    """A camera driven by test code: :meth:`show` a code, :meth:`set_available`. Thread-safe.

    ``show`` publishes only while the camera is acquired and available, as a real camera only
    sees codes while its capture is open. ``capture_open`` and ``opens`` let tests check the
    reference counting.
    """

    type_name = "fake"

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)
        self._ops = threading.Lock()
        self._available = True
        self._unavailable_reason = ""
        self._running = False
        self.capture_open = False
        self.opens = 0  # how many times the capture was opened

    def _on_start(self) -> None:
        with self._ops:
            self._running = True
            if self._available:
                self._set_state(DeviceState.READY)
            else:
                self._set_state(DeviceState.UNAVAILABLE, self._unavailable_reason)

    def _on_stop(self) -> None:
        self._release_all()
        with self._ops:
            self._running = False

    def _open_capture(self) -> None:
        self.capture_open = True
        self.opens += 1

    def _close_capture(self) -> None:
        self.capture_open = False

    def show(self, payload: str) -> bool:
        """Hold a code in front of the camera: publishes :class:`CodeScanned` if acquired."""
        with self._ops:
            if not (self._running and self._available and self.capture_open):
                return False
            self._emit(CodeScanned(self.kind, payload=payload, source="camera"))
            return True

    def set_available(self, available: bool, reason: str = "") -> None:
        """Simulate unplugging (False) or plugging back (True) the camera."""
        with self._ops:
            self._available = available
            self._unavailable_reason = "" if available else (reason or "camera unplugged")
            if self._running:
                if available:
                    self._set_state(DeviceState.READY)
                else:
                    self._set_state(DeviceState.UNAVAILABLE, self._unavailable_reason)

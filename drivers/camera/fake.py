"""In-process fake camera for unit tests, demos and the UI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drivers.camera.interface import Camera
from drivers.fake_base import PluggableFake
from drivers.scanner.interface import CodeScanned


class FakeCamera(PluggableFake, Camera):
    """A camera driven by test code: :meth:`show` a code, :meth:`set_available`. Thread-safe.

    ``show`` publishes only while the camera is acquired and available, as a real camera only
    sees codes while its capture is open. ``capture_open`` and ``opens`` let tests check the
    reference counting.
    """

    type_name = "fake"
    unplugged_reason = "camera unplugged"

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)
        self.capture_open = False
        self.opens = 0  # how many times the capture was opened

    def _on_stop(self) -> None:
        self._release_all()
        super()._on_stop()

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


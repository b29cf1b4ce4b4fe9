"""Cameras used to read QR codes: the device contract with reference-counted capture.

The camera is opened only while at least one flow needs it: each flow calls :meth:`acquire`
when it starts looking for a code and :meth:`release` when done. The first acquire opens the
capture (:meth:`_open_capture`), the last release closes it (:meth:`_close_capture`). Codes are
published as :class:`drivers.scanner.CodeScanned` with ``source="camera"``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from drivers.base import Device, DeviceError

KIND = "camera"


class Camera(Device):
    """Abstract camera (kind ``"camera"``). Subclasses implement the two capture hooks."""

    kind = KIND
    type_name = "abstract"

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)
        self._users = 0
        self._users_lock = threading.Lock()

    @property
    def users(self) -> int:
        """How many flows hold the camera right now."""
        return self._users

    @property
    def acquired(self) -> bool:
        return self._users > 0

    def acquire(self) -> None:
        """Say a flow needs the camera; the capture opens on the first holder."""
        with self._users_lock:
            self._users += 1
            if self._users == 1:
                try:
                    self._open_capture()
                except Exception:
                    self._users = 0
                    raise

    def release(self) -> None:
        """Undo one :meth:`acquire`; the capture closes when nobody holds it any more."""
        with self._users_lock:
            if self._users == 0:
                raise DeviceError("camera released more often than acquired")
            self._users -= 1
            if self._users == 0:
                self._close_capture()

    def _release_all(self) -> None:
        """On stop: drop every holder and close the capture."""
        with self._users_lock:
            if self._users:
                self._users = 0
                self._close_capture()

    def _open_capture(self) -> None:  # pragma: no cover - overridden
        """Open the capture and start decoding (called with the first acquire)."""

    def _close_capture(self) -> None:  # pragma: no cover - overridden
        """Stop decoding and close the capture (called with the last release)."""

"""What every in-process fake shares: running/available bookkeeping and ``set_available``."""

from __future__ import annotations

import threading
from typing import Any

from drivers.base import DeviceState


class PluggableFake:
    """Mix-in for fakes (listed before the device interface): ``set_available(False)`` is
    unplugging, ``set_available(True)`` plugging back; before ``start()`` it sets the state the
    device starts in. Subclasses check :attr:`ready` under ``self._ops`` before emitting."""

    unplugged_reason = "unplugged"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ops = threading.Lock()
        self._available = True
        self._unavailable_reason = ""
        self._running = False

    @property
    def ready(self) -> bool:
        return self._running and self._available

    def _on_start(self) -> None:
        with self._ops:
            self._running = True
            self._publish_availability()

    def _on_stop(self) -> None:
        with self._ops:
            self._running = False

    def set_available(self, available: bool, reason: str = "") -> None:
        """Simulate unplugging (False) or plugging back (True) the device."""
        with self._ops:
            self._available = available
            self._unavailable_reason = "" if available else (reason or self.unplugged_reason)
            if self._running:
                self._publish_availability()

    def _publish_availability(self) -> None:
        if self._available:
            self._set_state(DeviceState.READY)  # type: ignore[attr-defined]
        else:
            self._set_state(DeviceState.UNAVAILABLE,  # type: ignore[attr-defined]
                            self._unavailable_reason)

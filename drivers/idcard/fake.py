"""An in-process ID card reader for unit tests, demos and the UI: no port, no threads.

Tests and the demo drive it by hand::

    reader = FakeIdCardReader()
    reader.subscribe(print)
    reader.start()                      # READY at once
    reader.present(samples.RESIDENT)    # -> IdCardRead
    reader.lift()                       # -> IdCardRemoved
    reader.set_available(False, "USB cable unplugged")   # -> UNAVAILABLE

Events are delivered synchronously on the calling thread. All methods are thread-safe.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from drivers.base import DeviceState
from drivers.idcard.interface import IdCardData, IdCardReader

log = logging.getLogger(__name__)


class FakeIdCardReader(IdCardReader):
    """A reader whose card is presented and lifted by calling methods."""

    type_name: ClassVar[str] = "fake"

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)
        self._card: IdCardData | None = None
        self._set_detail(sam_id="fake")

    @property
    def card_present(self) -> bool:
        with self._lock:
            return self._card is not None

    def _on_start(self) -> None:
        self._set_state(DeviceState.READY)

    def _on_stop(self) -> None:
        with self._lock:
            self._card = None

    def present(self, data: IdCardData) -> bool:
        """Put a card on the reader; emits :class:`IdCardRead`.

        Ignored (with a warning, returns ``False``) when a card is already present (it must be
        lifted first, as on a real reader) or when the reader is not READY.
        """
        with self._lock:
            if self._state is not DeviceState.READY:
                log.warning("fake idcard: card presented while the reader is %s; ignored",
                            self._state.value)
                return False
            if self._card is not None:
                log.warning("fake idcard: a card is already on the reader; lift it first")
                return False
            self._card = data
            self._publish_read(data)
            return True

    def fail_read(self, reason: str = "card could not be read; place it again") -> bool:
        """Simulate a card that is found but cannot be read; emits :class:`IdCardReadFailed`."""
        with self._lock:
            if self._state is not DeviceState.READY:
                return False
            self._publish_failed(reason)
            return True

    def lift(self) -> bool:
        """Take the card off the reader; emits :class:`IdCardRemoved` if a card was there."""
        with self._lock:
            if self._card is None:
                return False
            self._card = None
            self._publish_removed()
            return True

    def set_available(self, available: bool, reason: str = "") -> None:
        """Move between READY and UNAVAILABLE (a card on the reader is dropped, with
        :class:`IdCardRemoved`, when the reader becomes unavailable)."""
        with self._lock:
            if available:
                self._set_state(DeviceState.READY)
                return
            if self._card is not None:
                self._card = None
                self._publish_removed()
            self._set_state(DeviceState.UNAVAILABLE, reason or "reader not available")

"""In-process fake social security card reader for unit tests, demos and the UI."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from drivers.base import DeviceState
from drivers.options import opt
from drivers.smartcard.interface import (
    SocialSecurityCardReader,
    SsCardData,
    SsCardInserted,
    SsCardRead,
    SsCardReadFailed,
    SsCardRemoved,
)


class FakeSocialSecurityCardReader(SocialSecurityCardReader):
    """A reader driven by test code: :meth:`insert`, :meth:`remove`, :meth:`set_available`.

    Options: ``reader`` (the reader name reported in events, default ``"Fake PC/SC Reader 00"``).
    Every method is thread-safe; events are published from the calling thread, in order.
    """

    type_name = "fake"
    OPTIONS: ClassVar[Mapping[str, Any]] = {"reader": opt("Fake PC/SC Reader 00")}

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)
        self.reader_name = str(self.options.get("reader", "Fake PC/SC Reader 00"))
        self._ops = threading.Lock()  # serialises operations so event order stays consistent
        self._available = True
        self._unavailable_reason = ""
        self._running = False
        self._card: SsCardData | None = None
        self._card_present = False

    # -- lifecycle ---------------------------------------------------------------------------
    def _on_start(self) -> None:
        with self._ops:
            self._running = True
            self._set_detail(reader=self.reader_name)
            if self._available:
                self._set_state(DeviceState.READY)
            else:
                self._set_state(DeviceState.UNAVAILABLE, self._unavailable_reason)

    def _on_stop(self) -> None:
        with self._ops:
            self._running = False
            self._card, self._card_present = None, False

    # -- test controls -----------------------------------------------------------------------
    @property
    def card_present(self) -> bool:
        return self._card_present

    def insert(self, data: SsCardData) -> bool:
        """Put a card in: emits :class:`SsCardInserted` then :class:`SsCardRead`.

        Ignored (returns False) unless the reader is ready and empty.
        """
        with self._ops:
            if not self._ready() or self._card_present:
                return False
            self._card, self._card_present = data, True
            self._emit(SsCardInserted(self.reader_name))
            self._emit(SsCardRead(data))
            return True

    def insert_unreadable(self, reason: str = "the card did not answer") -> bool:
        """Put in a card that cannot be read: emits Inserted then :class:`SsCardReadFailed`."""
        with self._ops:
            if not self._ready() or self._card_present:
                return False
            self._card, self._card_present = None, True
            self._emit(SsCardInserted(self.reader_name))
            self._emit(SsCardReadFailed(reason))
            return True

    def remove(self) -> bool:
        """Take the card out: emits :class:`SsCardRemoved` if a card was in."""
        with self._ops:
            return self._remove_locked()

    def set_available(self, available: bool, reason: str = "") -> None:
        """Simulate unplugging (False) or plugging back (True) the reader.

        Before :meth:`start` this only sets the state the reader will start in. Unplugging with
        a card in it reports the card removed first.
        """
        with self._ops:
            self._available = available
            self._unavailable_reason = "" if available else (reason or "reader unplugged")
            if not self._running:
                return
            if available:
                self._set_state(DeviceState.READY)
            else:
                self._remove_locked()
                self._set_state(DeviceState.UNAVAILABLE, self._unavailable_reason)

    # -- helpers -----------------------------------------------------------------------------
    def _ready(self) -> bool:
        return self._running and self._available

    def _remove_locked(self) -> bool:
        if not self._card_present:
            return False
        self._card, self._card_present = None, False
        self._emit(SsCardRemoved(self.reader_name))
        return True

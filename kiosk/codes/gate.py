"""The gate every scanned code passes before a flow sees it: length limit, duplicate
suppression and classification.

The same code read again within ``window_s`` of its previous sighting counts once (a phone
held in front of the camera, a scanner in continuous mode, a second pull of the trigger). The
window slides: every sighting, suppressed or not, restarts it, so a code held in view for a
minute is reported once. Codes from the scanner and from the camera are the same code.
The filter keeps only keyed digests of payloads (never the payloads) and forgets them when
their window has passed.

Thread-safe: drivers call from their own threads, the UI from its thread.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from drivers.scanner.interface import mask_payload
from kiosk.codes.classify import DEFAULT_CLASSIFIER, Classification, Classifier


class DuplicateFilter:
    def __init__(self, window_s: float = 3.0, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = 1024) -> None:
        if window_s < 0:
            raise ValueError("the duplicate window must not be negative")
        self.window_s = window_s
        self._clock = clock
        self._max = max_entries
        self._key = os.urandom(16)  # digests are meaningless outside this process
        self._seen: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def _digest(self, payload: str) -> bytes:
        return hashlib.blake2b(payload.encode("utf-8", "surrogatepass"), key=self._key,
                               digest_size=16).digest()

    def accept(self, payload: str) -> bool:
        """True the first time a payload is seen in its window; False for a duplicate."""
        now = self._clock()
        key = self._digest(payload)
        with self._lock:
            self._prune(now)
            last = self._seen.get(key)
            self._seen[key] = now
            if len(self._seen) > self._max:  # a flood of distinct codes: drop the oldest
                oldest = min(self._seen, key=self._seen.__getitem__)
                del self._seen[oldest]
            return last is None or now - last >= self.window_s

    def forget(self) -> None:
        """Drop everything (a session ended: the next resident may show the same ticket)."""
        with self._lock:
            self._seen.clear()

    def __len__(self) -> int:
        with self._lock:
            self._prune(self._clock())
            return len(self._seen)

    def _prune(self, now: float) -> None:
        stale = [k for k, at in self._seen.items() if now - at >= self.window_s]
        for key in stale:
            del self._seen[key]


@dataclass(frozen=True, repr=False)
class Scan:
    """A scan that passed the gate. ``payload`` is personal for sensitive classes."""

    payload: str
    source: str  # "scanner" | "camera"
    classification: Classification

    @property
    def cls(self) -> str:
        return self.classification.cls.value

    def __repr__(self) -> str:
        return (f"Scan(source={self.source!r}, class={self.cls}, "
                f"payload={mask_payload(self.payload)})")

    __str__ = __repr__


@dataclass(frozen=True)
class ScanRejected:
    """A scan the gate refused; ``reason`` is ``"duplicate"`` or ``"too_long"``."""

    reason: str
    source: str
    length: int

    @property
    def message_zh(self) -> str:
        return "" if self.reason == "duplicate" else "此码内容过长，无法识别。"


class ScanGate:
    def __init__(self, *, max_length: int = 1024, window_s: float = 3.0,
                 classifier: Classifier | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_length < 1:
            raise ValueError("max_length must be at least 1")
        self.max_length = max_length
        self.classifier = classifier or DEFAULT_CLASSIFIER
        self.duplicates = DuplicateFilter(window_s, clock)
        self._lock = threading.Lock()
        self.counts = {"accepted": 0, "duplicate": 0, "too_long": 0}

    def admit(self, payload: str, source: str = "scanner") -> Scan | ScanRejected:
        if len(payload) > self.max_length:
            self._count("too_long")
            return ScanRejected("too_long", source, len(payload))
        if not self.duplicates.accept(payload):
            self._count("duplicate")
            return ScanRejected("duplicate", source, len(payload))
        self._count("accepted")
        return Scan(payload, source, self.classifier.classify(payload))

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

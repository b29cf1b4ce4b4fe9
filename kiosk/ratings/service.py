"""Records 好差评 from the rating screen: checks, seals the real-name part, and hands the
record to the durable outbox (which publishes it to the fleet at QoS 1).

The session's own summary (item, level, reasons; nothing personal) is also kept in memory,
last 100, for the maintenance screen, the demo log and tests.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kiosk.identity.person import Identity
from kiosk.ratings.levels import RatingRecord
from kiosk.ratings.records import RealNamePart, supplementary_allowed, supplementary_deadline

log = logging.getLogger(__name__)

ID_TYPES = {"resident": "resident", "hmt_residence": "hmt", "foreigner_2017": "foreigner",
            "foreigner_2023": "foreigner", "social_security": "resident"}


@dataclass(frozen=True)
class HandlingLookup:
    """What the 评价 flow may do with a handling number typed in."""

    handling_number: str
    first_at: datetime | None  # an earlier evaluation on this terminal, if any
    allowed: bool
    deadline: date | None = None  # last day of the supplementary window

    @property
    def supplementary(self) -> bool:
        return self.first_at is not None


class FirstRatings:
    """When each handling number was first rated here: SQLite, keyed by a hash of the number
    (the number itself is not kept), so a supplementary evaluation can be checked against its
    window of working days."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS first_rating "
                         "(key TEXT PRIMARY KEY, at TEXT NOT NULL)")
        self._lock = threading.Lock()

    @staticmethod
    def _key(handling_number: str) -> str:
        return hashlib.sha256(handling_number.strip().upper().encode()).hexdigest()

    def first(self, handling_number: str) -> datetime | None:
        with self._lock:
            row = self._db.execute("SELECT at FROM first_rating WHERE key = ?",
                                   (self._key(handling_number),)).fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def remember(self, handling_number: str, at: datetime) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO first_rating (key, at) VALUES (?, ?)",
                             (self._key(handling_number), at.isoformat()))

    def close(self) -> None:
        self._db.close()


class RatingService:
    def __init__(self, reporter: Any, first_ratings: FirstRatings | None = None) -> None:
        self._reporter = reporter
        self._lock = threading.Lock()
        self.records: collections.deque[RatingRecord] = collections.deque(maxlen=100)
        self.first_ratings = first_ratings

    def lookup(self, handling_number: str, now: datetime | None = None) -> HandlingLookup:
        """May this handling number be rated now? First time: yes; again: only within the
        supplementary window (``ratings.supplementary_days`` working days)."""
        builder = self._reporter.builder
        now = now or datetime.now(builder.tz)
        first = self.first_ratings.first(handling_number) if self.first_ratings else None
        if first is None:
            return HandlingLookup(handling_number, None, True)
        deadline = supplementary_deadline(first, builder.settings)
        return HandlingLookup(handling_number, first,
                              supplementary_allowed(first, now, builder.settings), deadline)

    @property
    def reasons(self) -> list[str]:
        return list(self._reporter.builder.settings.reasons)

    def record(self, record: RatingRecord, *, handling_number: str = "",
               identity: Identity | None = None, text: str = "", source: str = "screen",
               first_at: datetime | None = None) -> None:
        """Raises ``RatingError`` (with what to fix) or ``OutboxFull``; nothing is half-kept."""
        real_name = None
        if identity is not None and record.level is not None:
            real_name = RealNamePart(name=identity.name, id_number=identity.id_number,
                                     id_type=ID_TYPES.get(identity.card_type, "resident"))
        full = self._reporter.builder.from_basic(
            record, handling_number=handling_number, real_name=real_name, text=text,
            source="timeout" if record.level is None else source, first_at=first_at)
        self._reporter.record_rating(full)
        if handling_number and record.level is not None and self.first_ratings is not None:
            self.first_ratings.remember(handling_number, full.first_at or full.at)
        with self._lock:
            self.records.append(record)
        log.info("rating %s for %s recorded (%s)", record.level.value if record.level else
                 "not rated", record.item, "real name sealed" if full.real_name_sealed else
                 "anonymous")

"""The durable outbox: every rating and event is on disk before it is published.

A record is written to a SQLite file (WAL journal, ``synchronous=FULL``, so a committed
record survives a power cut) and stays there until the broker acknowledged it (PUBACK at
QoS 1); only then is it deleted. A restart resumes with whatever is left. Records carry a
unique id, and receivers dedupe by it: a record whose PUBACK was lost is published again,
never lost (at-least-once on the wire, exactly-once after dedupe).

The outbox has a size cap (``max_records``). Before it is reached, at ``alarm_fraction`` of
it, :attr:`Outbox.alarm` turns on (health reports it, the alarm callback fires once). At the
cap, a new rating pushes out the oldest *event* (events are statistics; ratings are what
must never be lost); when only ratings are left, :class:`OutboxFull` is raised and the
caller must show and report it: nothing is ever dropped silently.

The payloads stored here contain no personal data in clear: the real-name part of a rating
is sealed for the evaluation system before it reaches the outbox
(:mod:`kiosk.ratings.records`).

Thread-safe: one connection guarded by a lock (writers are the UI thread and the telemetry
thread; SQLite serialises them anyway).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: record kinds that may be evicted at the cap to make room for a rating
EVICTABLE_KINDS = ("event",)
#: the kinds that are never evicted
PROTECTED_KINDS = ("rating", "command_result")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT NOT NULL UNIQUE,
    kind     TEXT NOT NULL,
    topic    TEXT NOT NULL,
    payload  BLOB NOT NULL,
    qos      INTEGER NOT NULL DEFAULT 1,
    created  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_kind ON outbox(kind, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_FORMAT_VERSION = "1"
#: after a long broker outage the file has grown to its peak; once the outbox is empty again
#: and this much of it is free pages, it is compacted (VACUUM)
COMPACT_FREE_BYTES = 1 << 20
WAL_LIMIT_BYTES = 4 << 20


class OutboxError(Exception):
    """The outbox cannot store or read a record (message says what to do)."""


class OutboxFull(OutboxError):
    """The cap is reached and nothing can be evicted: the record was NOT stored."""


@dataclass(frozen=True)
class OutboxRecord:
    seq: int
    id: str
    kind: str
    topic: str
    payload: bytes
    qos: int
    created: float


@dataclass(frozen=True)
class OutboxStats:
    depth: int
    ratings: int
    oldest_age_s: float
    max_records: int
    alarm: bool
    evicted: int
    refused: int

    def as_dict(self) -> dict[str, float | int | bool]:
        return {"depth": self.depth, "ratings": self.ratings,
                "oldest_age_s": round(self.oldest_age_s, 1), "max_records": self.max_records,
                "alarm": self.alarm, "evicted": self.evicted, "refused": self.refused}


AlarmListener = Callable[[bool, int, int], None]  # (alarm on?, depth, max_records)


class Outbox:
    """A SQLite-backed queue of records waiting for their PUBACK (see the module docstring)."""

    def __init__(self, path: str | Path, *, max_records: int = 100_000,
                 alarm_fraction: float = 0.8, on_alarm: AlarmListener | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        if max_records < 1:
            raise OutboxError(f"max_records must be at least 1, not {max_records}")
        if not 0 < alarm_fraction <= 1:
            raise OutboxError(f"alarm_fraction must be in (0, 1], not {alarm_fraction}")
        self.path = Path(path)
        self.max_records = max_records
        self.alarm_at = max(1, int(max_records * alarm_fraction))
        self._on_alarm = on_alarm
        self._clock = clock
        self._lock = threading.RLock()
        self._alarm = False
        self._evicted = 0
        self._refused = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False,
                                       isolation_level=None, timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            # the WAL file is cut back to this after checkpoints instead of keeping its peak
            self._db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            self._db.executescript(_SCHEMA)
            self._check_format()
        except sqlite3.DatabaseError as exc:
            raise OutboxError(
                f"cannot open the outbox {self.path}: {exc}; if the file is damaged, move it "
                "aside (keep it: it holds unsent ratings) and restart to begin a new one"
            ) from exc
        self._depth = self._count()
        self._update_alarm()

    def _check_format(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key='format'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta(key, value) VALUES('format', ?)",
                             (_FORMAT_VERSION,))
        elif row[0] != _FORMAT_VERSION:
            raise OutboxError(f"the outbox {self.path} has format {row[0]}, this version reads "
                              f"format {_FORMAT_VERSION}")

    # -- writing -------------------------------------------------------------------------------
    def put(self, record_id: str, kind: str, topic: str, payload: bytes, qos: int = 1) -> bool:
        """Store one record durably (committed and synced when this returns).

        Returns False if a record with this id is already waiting (the same record produced
        again after a crash: it is not stored twice). Raises :class:`OutboxFull` when the cap
        is reached and nothing can make room.
        """
        if not record_id:
            raise OutboxError("a record needs a non-empty id (receivers dedupe by it)")
        if qos not in (0, 1, 2):
            raise OutboxError(f"qos must be 0, 1 or 2, not {qos}")
        with self._lock:
            if self._depth >= self.max_records and not self._make_room(kind):
                self._refused += 1
                self._update_alarm()
                raise OutboxFull(
                    f"the outbox is full ({self._depth} of {self.max_records} records waiting, "
                    f"all of them ratings); the {kind} {record_id} was not stored. Restore the "
                    "connection to the fleet broker (mqtt.url) or raise the outbox cap")
            cur = self._db.execute(
                "INSERT OR IGNORE INTO outbox(id, kind, topic, payload, qos, created) "
                "VALUES (?, ?, ?, ?, ?, ?)", (record_id, kind, topic, payload, qos, self._clock()))
            stored = cur.rowcount == 1
            if stored:
                self._depth += 1
                self._update_alarm()
            return stored

    def _make_room(self, kind: str) -> bool:
        if kind in EVICTABLE_KINDS:
            return False
        marks = ",".join("?" * len(EVICTABLE_KINDS))
        row = self._db.execute(
            f"SELECT seq, id FROM outbox WHERE kind IN ({marks}) ORDER BY seq LIMIT 1",
            EVICTABLE_KINDS).fetchone()
        if row is None:
            return False
        self._db.execute("DELETE FROM outbox WHERE seq = ?", (row[0],))
        self._depth -= 1
        self._evicted += 1
        log.warning("outbox full: evicted the oldest event %s to keep a %s", row[1], kind)
        return True

    # -- reading and acknowledging ---------------------------------------------------------
    def peek(self, limit: int = 100, exclude: Iterable[str] = (),
             after_seq: int = 0) -> list[OutboxRecord]:
        """The oldest waiting records (seq > ``after_seq``), skipping ids in ``exclude``."""
        skip = set(exclude)
        out: list[OutboxRecord] = []
        with self._lock:
            cursor = self._db.execute(
                "SELECT seq, id, kind, topic, payload, qos, created FROM outbox "
                "WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit + len(skip)))
            for row in cursor:
                if row[1] in skip:
                    continue
                out.append(OutboxRecord(row[0], row[1], row[2], row[3], bytes(row[4]), row[5],
                                        row[6]))
                if len(out) >= limit:
                    break
        return out

    def ack(self, record_ids: Iterable[str]) -> int:
        """Delete acknowledged records (call only after the broker's PUBACK). Returns how many."""
        ids = [(i,) for i in record_ids]
        if not ids:
            return 0
        with self._lock:
            self._db.execute("BEGIN")
            try:
                before = self._db.total_changes
                self._db.executemany("DELETE FROM outbox WHERE id = ?", ids)
                removed = self._db.total_changes - before
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._depth -= removed
            self._update_alarm()
            if self._depth == 0 and removed:
                self.compact()
            return removed

    def compact(self, min_free_bytes: int = COMPACT_FREE_BYTES) -> bool:
        """VACUUM when at least ``min_free_bytes`` of the file are free pages (the outbox
        drained after an outage): the file does not keep its peak size for months."""
        with self._lock:
            page = int(self._db.execute("PRAGMA page_size").fetchone()[0])
            free = int(self._db.execute("PRAGMA freelist_count").fetchone()[0]) * page
            if free < min_free_bytes:
                return False
            try:
                self._db.execute("VACUUM")
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError as exc:  # busy: the next drain tries again
                log.warning("outbox compaction postponed: %s", exc)
                return False
            log.info("outbox compacted: %d KB of free pages returned", free // 1024)
            return True

    # -- state ---------------------------------------------------------------------------------
    def _count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    @property
    def depth(self) -> int:
        return self._depth

    @property
    def alarm(self) -> bool:
        return self._alarm

    def _update_alarm(self) -> None:
        alarm = self._depth >= self.alarm_at
        if alarm == self._alarm:
            return
        self._alarm = alarm
        if alarm:
            log.error("outbox alarm: %d of %d records waiting; the fleet broker has not "
                      "acknowledged them (check mqtt.url and the network)", self._depth,
                      self.max_records)
        else:
            log.warning("outbox alarm cleared: %d records waiting", self._depth)
        if self._on_alarm is not None:
            try:
                self._on_alarm(alarm, self._depth, self.max_records)
            except Exception:
                log.exception("outbox alarm listener failed")

    def stats(self) -> OutboxStats:
        with self._lock:
            ratings, oldest = self._db.execute(
                "SELECT (SELECT COUNT(*) FROM outbox WHERE kind='rating'), MIN(created) "
                "FROM outbox").fetchone()
        age = max(0.0, self._clock() - oldest) if oldest is not None else 0.0
        return OutboxStats(self._depth, int(ratings or 0), age, self.max_records, self._alarm,
                           self._evicted, self._refused)

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:  # pragma: no cover - closing a broken file
                log.exception("closing the outbox failed")

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

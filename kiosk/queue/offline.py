"""Numbers a kiosk gives on its own while the hall server is unreachable.

Each terminal owns a range of numbers (``queue.offline_ranges``, the same in every category,
e.g. 901-950) that the hall server never issues itself. Offline tickets go into a small local
SQLite file (WAL, synchronous FULL: the resident already holds the paper) until the server
accepts them (:meth:`kiosk.queue.engine.QueueEngine.accept_offline`); the ticket id makes the
hand-over idempotent, so a batch whose answer was lost can be sent again.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from config.queue import QueueSettings
from drivers.privacy import mask_name
from kiosk.queue import db
from kiosk.queue import windows as tide
from kiosk.queue.errors import InvalidRequest, QueueUnavailable, UnknownCategory
from kiosk.queue.hours import OpeningHours
from kiosk.queue.models import Priority, Ticket, TicketState, label

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS offline_counters (
    day TEXT NOT NULL, category TEXT NOT NULL, last INTEGER NOT NULL,
    PRIMARY KEY (day, category)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS offline_tickets (
    id TEXT PRIMARY KEY, request_id TEXT,
    day TEXT NOT NULL, category TEXT NOT NULL, number INTEGER NOT NULL,
    priority INTEGER NOT NULL, holder TEXT NOT NULL DEFAULT '',
    issued_at REAL NOT NULL, synced_at REAL,
    rejected TEXT,                  -- why the server refused it (kept for the technician)
    UNIQUE (day, category, number));
CREATE INDEX IF NOT EXISTS offline_pending ON offline_tickets (synced_at);
"""


class OfflineStore:
    """The local range of one terminal and the tickets issued from it."""

    def __init__(self, path: Path | str, settings: QueueSettings, terminal: str,
                 hours: OpeningHours, *, clock: Callable[[], float] = time.time) -> None:
        rng = settings.range_for(terminal)
        if rng is None:
            raise ValueError(
                f"queue.offline_enabled is true but terminal {terminal!r} has no range in "
                "queue.offline_ranges: add {terminal = \"" + terminal + "\", first = 901, "
                "last = 950} (ranges of different terminals must not overlap) or set "
                "offline_enabled = false")
        self.range = rng
        self.settings = settings
        self.terminal = terminal
        self.hours = hours
        self._clock = clock
        self._lock = threading.Lock()
        self._conn = db.connect(path, "full", SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def issue(self, category: str, priority: Priority, holder_name: str = "",
              request_id: str | None = None) -> Ticket:
        """The next number of this terminal's range in ``category`` for today."""
        cat = self.settings.category_map.get(str(category).strip().upper())
        if cat is None:
            raise UnknownCategory(f"没有业务类别 {category!r}", category=str(category))
        if priority is Priority.APPOINTMENT:
            raise InvalidRequest("appointment tickets are issued by check-in", field="priority")
        now_ts = self._clock()
        now = datetime.fromtimestamp(now_ts, self.hours.tz)
        day = now.date().isoformat()
        ticket_id = uuid.uuid4().hex
        holder = mask_name(holder_name)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute("SELECT last FROM offline_counters WHERE day = ? AND "
                                         "category = ?", (day, cat.code)).fetchone()
                number = max(row[0] + 1 if row else 0, self.range.first)
                if number > self.range.last:
                    raise QueueUnavailable(
                        "排队系统暂时无法连接，本机的备用号段已用完，请联系工作人员",
                        category=cat.code, reason="offline range used up")
                self._conn.execute(
                    "INSERT INTO offline_counters (day, category, last) VALUES (?, ?, ?) "
                    "ON CONFLICT (day, category) DO UPDATE SET last = excluded.last",
                    (day, cat.code, number))
                self._conn.execute(
                    "INSERT INTO offline_tickets (id, request_id, day, category, number, "
                    "priority, holder, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (ticket_id, request_id, day, cat.code, number, int(priority), holder, now_ts))
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        names, area = tide.where(cat.code, self.settings, tide.assignments(self.settings, now))
        log.info("offline ticket %s issued from the local range", label(cat.code, number))
        return Ticket(id=ticket_id, number=label(cat.code, number), category=cat.code,
                      category_name=cat.name, priority=priority, state=TicketState.WAITING,
                      day=day, issued_at=now, windows=names, area=area, holder=holder,
                      terminal=self.terminal, offline=True)

    def pending(self, limit: int = 500) -> list[dict[str, Any]]:
        """Offline tickets the server has not accepted yet, oldest first, as the API wants."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, request_id, day, category, number, priority, holder, issued_at FROM "
                "offline_tickets WHERE synced_at IS NULL ORDER BY issued_at LIMIT ?",
                (limit,)).fetchall()
        return [{"id": r[0], "request_id": r[1] or "", "day": r[2], "category": r[3],
                 "number": r[4], "priority": Priority(r[5]).word, "holder": r[6],
                 "issued_at": datetime.fromtimestamp(r[7], self.hours.tz).isoformat()}
                for r in rows]

    def pending_count(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM offline_tickets WHERE synced_at IS "
                                      "NULL").fetchone()[0]

    def mark_synced(self, ids: list[str]) -> None:
        if not ids:
            return
        now_ts = self._clock()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany("UPDATE offline_tickets SET synced_at = ? WHERE id = ?",
                                   [(now_ts, tid) for tid in ids])
            self._conn.execute("COMMIT")

    def mark_rejected(self, rejected: list[tuple[str, str]]) -> None:
        """Stop sending tickets the server refused; the reason stays for diagnostics."""
        if not rejected:
            return
        now_ts = self._clock()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany("UPDATE offline_tickets SET synced_at = ?, rejected = ? "
                                   "WHERE id = ?", [(now_ts, why, tid) for tid, why in rejected])
            self._conn.execute("COMMIT")

    def rejected(self) -> list[tuple[str, str]]:
        """(number, reason) of every ticket the server refused."""
        with self._lock:
            rows = self._conn.execute("SELECT category, number, rejected FROM offline_tickets "
                                      "WHERE rejected IS NOT NULL ORDER BY issued_at").fetchall()
        return [(label(r[0], r[1]), r[2]) for r in rows]

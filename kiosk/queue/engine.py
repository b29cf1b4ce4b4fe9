"""The queue engine: numbers, states, priorities, estimates, appointments, on one SQLite file.

One engine per process; it is thread-safe (one connection behind a lock) and several
processes may open the same file (SQLite's write lock, ``BEGIN IMMEDIATE``). Every change is
one transaction, so a ticket exists in full or not at all, and requests that carry a
``request_id`` are idempotent: a retry after a lost answer gets the same ticket back.

Rules in one place:

- Numbers are the category letter and three digits. The service day is the date in the site's
  time zone, so numbers restart at local midnight, not UTC midnight. The server's own counter
  skips every number reserved for a terminal's offline range and any number already taken.
- Order of call (:mod:`kiosk.queue.lane`): by default (``priority_lane = "strict"``) green
  channel (绿色通道), then appointments, then everyone else; within a priority, earlier
  ``place`` first (the issue time, or where a transfer put the ticket). ``ratio:N`` and
  ``off`` are configurable. People ahead count the waiting tickets of the same category that
  will be called first.
- Estimated wait = people ahead × typical service time (median of recent service times of the
  category, see :mod:`kiosk.queue.estimate`) ÷ the windows' worth of service the category gets
  now (tide windows included).
- No ticket outside the opening hours or beyond the daily capacity; the error carries when
  numbers are given again. Appointment check-ins are not refused for capacity (the slot was
  booked), only for hours.
- "Call next" at a window first finishes (served) the ticket still called there.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from config.queue import CategorySettings, QueueSettings
from drivers.privacy import mask_name
from kiosk.queue import db, estimate, lane
from kiosk.queue import windows as tide
from kiosk.queue.appointments import hash_id, load_key
from kiosk.queue.errors import (
    AppointmentCancelled,
    AppointmentNotFound,
    BadTransition,
    CapacityReached,
    InvalidRequest,
    QueueClosed,
    QueueUnavailable,
    TicketNotFound,
    TooEarly,
    TooLate,
    UnknownCategory,
    UnknownWindow,
)
from kiosk.queue.hours import OpeningHours, describe
from kiosk.queue.models import (
    MAX_NUMBER,
    AppointmentIn,
    CategoryStatus,
    ImportResult,
    Priority,
    ReconcileResult,
    Ticket,
    TicketState,
    WindowStatus,
    label,
)

#: days of tickets the queue database keeps (wait estimates use the recent weeks); older days
#: are deleted once a day and their pages reused, so the file stays bounded
KEEP_DAYS = 31

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STATE_WORDS = {"waiting": "等待中", "called": "已叫号", "served": "已办结", "no_show": "已过号",
                "cancelled": "已取消", "parked": "已暂挂"}
QUEUE = "COALESCE(serve_category, category)"  # the queue a ticket waits in (transfers move it)


class QueueEngine:
    """The queue on one SQLite database; see the module docstring for the rules."""

    def __init__(self, db_path: Path | str, settings: QueueSettings | None = None,
                 hours: OpeningHours | None = None, *, tz: tzinfo | None = None,
                 clock: Callable[[], float] = time.time, key_path: Path | str | None = None
                 ) -> None:
        self.settings = settings or QueueSettings()
        self.hours = hours or OpeningHours([], tz or ZoneInfo("Asia/Shanghai"))
        self.tz = self.hours.tz
        self.db_path = Path(db_path)
        self._clock = clock
        self._key_path = Path(key_path) if key_path else self.settings.resolve_key_path(db_path)
        self._key: bytes | None = None
        self._reserved = self.settings.reserved
        self._categories = self.settings.category_map
        self._windows = self.settings.window_map
        self._lock = threading.RLock()
        self._surging: set[int] = set()  # surge rules in force (kept for their hysteresis)
        self._lane = self.settings.lane_mode
        self._ratio = self.settings.lane_ratio
        self._conn = db.connect(self.db_path, self.settings.synchronous,
                                migrate=db.migrate_tickets)
        self._conn.row_factory = sqlite3.Row
        self._closed = False
        self._purged_on: str | None = None

    # -- plumbing --------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> QueueEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), self.tz)

    def day_of(self, when: datetime) -> str:
        """The service day (site-local date) of ``when``."""
        return when.astimezone(self.tz).date().isoformat()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._check_usable()
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._check_usable()
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                if self._conn.in_transaction:
                    self._conn.execute("COMMIT")

    def _check_usable(self) -> None:
        if self._closed:
            raise QueueUnavailable("排队系统已停止", reason="engine closed")

    def _key_bytes(self) -> bytes:
        if self._key is None:
            self._key = load_key(self._key_path)
        return self._key

    def _category(self, code: str) -> CategorySettings:
        cat = self._categories.get(str(code).strip().upper())
        if cat is None:
            raise UnknownCategory(f"没有业务类别 {code!r}", category=str(code),
                                  allowed=sorted(self._categories))
        return cat

    def _window_id(self, window: str) -> str:
        if str(window) not in self._windows:
            raise UnknownWindow(f"没有窗口 {window!r}", window=str(window),
                                allowed=sorted(self._windows))
        return str(window)

    def _already_done(self, conn: sqlite3.Connection, request_id: str | None,
                      now_ts: float) -> Ticket | None:
        """The ticket a request with this id already produced (a client's retry)."""
        if not request_id:
            return None
        row = conn.execute("SELECT * FROM tickets WHERE request_id = ?",
                           (request_id,)).fetchone()
        return self._ticket(conn, row, now_ts) if row is not None else None

    @staticmethod
    def _request_id(value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not _REQUEST_ID.match(str(value)):
            raise InvalidRequest("request_id must be 1 to 64 letters, digits or _ . : -",
                                 field="request_id")
        return str(value)

    def _dt(self, ts: float | None) -> datetime | None:
        return datetime.fromtimestamp(ts, self.tz) if ts is not None else None

    # -- views -----------------------------------------------------------------------------------
    def _mapping(self, conn: sqlite3.Connection, local: datetime) -> dict[str, tide.Assignment]:
        rows = conn.execute("SELECT window, categories FROM window_overrides WHERE day = ?",
                            (local.date().isoformat(),)).fetchall()
        overrides = {r["window"]: tuple(json.loads(r["categories"])) for r in rows
                     if r["window"] in self._windows}
        if self.settings.surge:
            counts = {r[0]: r[1] for r in conn.execute(
                f"SELECT {QUEUE}, COUNT(*) FROM tickets WHERE day = ? AND state = 'waiting' "
                f"GROUP BY {QUEUE}", (local.date().isoformat(),))}
            self._surging = tide.surging(self.settings, counts, self._surging)
        return tide.assignments(self.settings, local, overrides, self._surging)

    def _service_s(self, conn: sqlite3.Connection, cat: CategorySettings, now_ts: float) -> float:
        since = now_ts - self.settings.history_days * 86400
        rows = conn.execute(
            "SELECT finished_at - called_at FROM tickets WHERE category = ? AND state = 'served' "
            "AND finished_at >= ? AND called_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?",
            (cat.code, since, self.settings.history_size)).fetchall()
        return estimate.service_seconds([r[0] for r in rows], cat.service_min * 60)

    def _ticket(self, conn: sqlite3.Connection, row: sqlite3.Row, now_ts: float,
                mapping: dict[str, tide.Assignment] | None = None) -> Ticket:
        now = datetime.fromtimestamp(now_ts, self.tz)
        queue_code = row["serve_category"] or row["category"]  # a transfer changes the queue
        cat = self._categories.get(queue_code)
        mapping = mapping if mapping is not None else self._mapping(conn, now)
        names, area = tide.where(queue_code, self.settings, mapping) if cat else ((), "")
        ahead = wait = None
        if row["state"] == TicketState.WAITING and row["day"] == now.date().isoformat():
            ahead = self._ahead(conn, row, queue_code, mapping)
            if cat is not None:
                wait = estimate.wait_minutes(ahead, self._service_s(conn, cat, now_ts),
                                             tide.servers(cat.code, mapping))
        issued = self._dt(row["issued_at"])
        assert issued is not None
        return Ticket(
            id=row["id"], number=label(row["category"], row["number"]),
            category=row["category"], category_name=cat.name if cat else row["category"],
            priority=Priority(row["priority"]), state=TicketState(row["state"]), day=row["day"],
            issued_at=issued, people_ahead=ahead, estimated_wait_min=wait, windows=names,
            area=area, holder=row["holder"], window=row["window"] or "",
            called_at=self._dt(row["called_at"]), finished_at=self._dt(row["finished_at"]),
            terminal=row["terminal"], offline=row["source"] == "offline",
            appointment=row["appointment"] or "")

    def _ahead(self, conn: sqlite3.Connection, row: sqlite3.Row, queue_code: str,
               mapping: dict[str, tide.Assignment]) -> int:
        """Waiting tickets of the same queue called before ``row`` (kiosk.queue.lane)."""
        where = f"FROM tickets WHERE day = ? AND {QUEUE} = ? AND state = 'waiting'"
        args = (row["day"], queue_code)
        place, prio, seq = row["place"], row["priority"], row["seq"]
        if self._lane == "off":
            return int(conn.execute(f"SELECT COUNT(*) {where} AND (place, seq) < (?, ?)",
                                    (*args, place, seq)).fetchone()[0])
        if self._lane == "strict" or place < 0:
            return int(conn.execute(
                f"SELECT COUNT(*) {where} AND (place >= 0, -priority, place, seq) < (?, ?, ?, ?)",
                (*args, place >= 0, -prio, place, seq)).fetchone()[0])
        counts = conn.execute(
            "SELECT COALESCE(SUM(place < 0), 0), "
            "COALESCE(SUM(place >= 0 AND priority > 0), 0), "
            "COALESCE(SUM(place >= 0 AND priority > 0 AND "
            "(-priority, place, seq) < (?, ?, ?)), 0), "
            "COALESCE(SUM(place >= 0 AND priority = 0), 0), "
            f"COALESCE(SUM(place >= 0 AND priority = 0 AND (place, seq) < (?, ?)), 0) {where}",
            (-prio, place, seq, place, seq, *args)).fetchone()
        servers = [w for w, a in mapping.items() if queue_code in a.categories]
        return lane.ratio_ahead(front=counts[0], priority_total=counts[1],
                                priority_ahead=counts[2], regular_total=counts[3],
                                regular_ahead=counts[4], is_priority=prio > 0,
                                regular_calls=self._regular_calls(conn, row["day"], servers),
                                ratio=self._ratio)

    def _regular_calls(self, conn: sqlite3.Connection, day: str, windows: Sequence[str]) -> int:
        """``ratio:N``: the largest count of regular calls since a priority call among
        ``windows`` (one window: exactly its count)."""
        if not windows:
            return 0
        marks = ", ".join("?" for _ in windows)
        value = conn.execute(f"SELECT MAX(regular) FROM lane_counters WHERE day = ? AND "
                             f"window IN ({marks})", (day, *windows)).fetchone()[0]
        return int(value or 0)

    def _row(self, conn: sqlite3.Connection, ticket_id: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM tickets WHERE id = ?", (str(ticket_id),)).fetchone()
        if row is None:
            raise TicketNotFound("没有找到这张号票", ticket=str(ticket_id))
        return row

    # -- hours and capacity ----------------------------------------------------------------------
    def _check_hours(self, now: datetime) -> None:
        if not self.hours.is_open(now):
            nxt = self.hours.next_open(now)
            when = f"，下次取号时间：{describe(nxt, now)}" if nxt else ""
            raise QueueClosed(f"现在不在取号时间{when}",
                              next_open=nxt.isoformat() if nxt else None)

    def _numbers_left(self, last: int) -> int:
        return sum(1 for n in range(last + 1, MAX_NUMBER + 1) if n not in self._reserved)

    def _full(self, cat: CategorySettings, now: datetime) -> CapacityReached:
        nxt = self.hours.next_open(now, after_today=True)
        when = f"，请{describe(nxt, now)}后再来" if nxt else ""
        return CapacityReached(f"今日{cat.name}的号已取完{when}", category=cat.code,
                               next_open=nxt.isoformat() if nxt else None)

    def _take_number(self, conn: sqlite3.Connection, cat: CategorySettings, day: str,
                     now: datetime, *, bypass_capacity: bool = False) -> int:
        row = conn.execute("SELECT last, issued FROM counters WHERE day = ? AND category = ?",
                           (day, cat.code)).fetchone()
        last, issued = (row["last"], row["issued"]) if row else (0, 0)
        if issued >= cat.daily_capacity and not bypass_capacity:
            raise self._full(cat, now)
        number = last + 1
        while number <= MAX_NUMBER and (number in self._reserved or conn.execute(
                "SELECT 1 FROM tickets WHERE day = ? AND category = ? AND number = ?",
                (day, cat.code, number)).fetchone()):
            number += 1
        if number > MAX_NUMBER:
            raise self._full(cat, now)
        conn.execute("INSERT INTO counters (day, category, last, issued) VALUES (?, ?, ?, 1) "
                     "ON CONFLICT (day, category) DO UPDATE SET last = excluded.last, "
                     "issued = issued + 1", (day, cat.code, number))
        return number

    def _insert(self, conn: sqlite3.Connection, **values: Any) -> sqlite3.Row:
        values.setdefault("id", uuid.uuid4().hex)
        values.setdefault("state", TicketState.WAITING.value)
        values.setdefault("place", values["issued_at"])
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        conn.execute(f"INSERT INTO tickets ({columns}) VALUES ({marks})", tuple(values.values()))
        return self._row(conn, values["id"])

    # -- issuing ---------------------------------------------------------------------------------
    def issue_ticket(self, category: str, *, priority: Priority | str = Priority.NORMAL,
                     holder_name: str = "", terminal: str = "", request_id: str | None = None
                     ) -> Ticket:
        """A new number in ``category``. ``holder_name`` only when the resident identified
        (kept masked). Raises QueueClosed, CapacityReached, UnknownCategory, InvalidRequest."""
        cat = self._category(category)
        try:
            prio = Priority.parse(priority)
        except ValueError as exc:
            raise InvalidRequest(str(exc), field="priority") from None
        if prio is Priority.APPOINTMENT:
            raise InvalidRequest("appointment tickets are issued by check-in", field="priority")
        request_id = self._request_id(request_id)
        now_ts = self._clock()
        now = datetime.fromtimestamp(now_ts, self.tz)
        if self._purged_on != now.date().isoformat():
            self.purge()  # once a day: a terminal runs for months on this file
        with self._write() as conn:
            done = self._already_done(conn, request_id, now_ts)
            if done is not None:
                return done
            self._check_hours(now)
            day = now.date().isoformat()
            number = self._take_number(conn, cat, day, now)
            row = self._insert(conn, request_id=request_id, day=day, category=cat.code,
                               number=number, priority=int(prio), holder=mask_name(holder_name),
                               terminal=str(terminal)[:40], source="online", issued_at=now_ts)
            return self._ticket(conn, row, now_ts)

    def purge(self, keep_days: int = KEEP_DAYS) -> int:
        """Forget days older than ``keep_days`` (tickets, counters, appointments, window
        overrides): the database stays the size of a few weeks. Returns tickets removed."""
        today = datetime.fromtimestamp(self._clock(), self.tz).date()
        cutoff = (today - timedelta(days=keep_days)).isoformat()
        with self._write() as conn:
            removed = conn.execute("DELETE FROM tickets WHERE day < ?", (cutoff,)).rowcount
            for table in ("counters", "appointments", "window_overrides", "lane_counters"):
                conn.execute(f"DELETE FROM {table} WHERE day < ?", (cutoff,))
        self._purged_on = today.isoformat()
        if removed:
            log.info("queue: %d tickets from before %s removed", removed, cutoff)
        return removed

    def ticket(self, ticket_id: str) -> Ticket:
        now_ts = self._clock()
        with self._read() as conn:
            return self._ticket(conn, self._row(conn, ticket_id), now_ts)

    # -- categories and windows ------------------------------------------------------------------
    def categories(self) -> list[CategoryStatus]:
        """Every category, in tile order, with waiting people and the wait for a new ticket."""
        now_ts = self._clock()
        now = datetime.fromtimestamp(now_ts, self.tz)
        with self._read() as conn:
            mapping = self._mapping(conn, now)
            return [self._status(conn, cat, now_ts, mapping) for cat in self.settings.categories]

    def category(self, code: str) -> CategoryStatus:
        cat = self._category(code)
        now_ts = self._clock()
        with self._read() as conn:
            return self._status(conn, cat, now_ts,
                                self._mapping(conn, datetime.fromtimestamp(now_ts, self.tz)))

    def _status(self, conn: sqlite3.Connection, cat: CategorySettings, now_ts: float,
                mapping: dict[str, tide.Assignment]) -> CategoryStatus:
        now = datetime.fromtimestamp(now_ts, self.tz)
        day = now.date().isoformat()
        waiting = conn.execute(f"SELECT COUNT(*) FROM tickets WHERE day = ? AND {QUEUE} = ? "
                               "AND state = 'waiting'", (day, cat.code)).fetchone()[0]
        row = conn.execute("SELECT last, issued FROM counters WHERE day = ? AND category = ?",
                           (day, cat.code)).fetchone()
        last, issued = (row["last"], row["issued"]) if row else (0, 0)
        left = max(0, min(cat.daily_capacity - issued, self._numbers_left(last)))
        is_open = self.hours.is_open(now)
        next_open = None
        if left == 0:
            next_open = self.hours.next_open(now, after_today=True)
        elif not is_open:
            next_open = self.hours.next_open(now)
        names, area = tide.where(cat.code, self.settings, mapping)
        wait = estimate.wait_minutes(waiting, self._service_s(conn, cat, now_ts),
                                     tide.servers(cat.code, mapping))
        return CategoryStatus(code=cat.code, name=cat.name, waiting=waiting,
                              estimated_wait_min=wait, windows=names, area=area,
                              capacity_left=left, open=is_open and left > 0, next_open=next_open)

    def windows(self) -> list[WindowStatus]:
        now_ts = self._clock()
        now = datetime.fromtimestamp(now_ts, self.tz)
        with self._read() as conn:
            mapping = self._mapping(conn, now)
            return [self._window_status(conn, wid, now_ts, mapping) for wid in self._windows]

    def _window_status(self, conn: sqlite3.Connection, wid: str, now_ts: float,
                       mapping: dict[str, tide.Assignment]) -> WindowStatus:
        window = self._windows[wid]
        day = self.day_of(datetime.fromtimestamp(now_ts, self.tz))
        row = conn.execute("SELECT * FROM tickets WHERE day = ? AND window = ? AND state = "
                           "'called' ORDER BY called_at DESC LIMIT 1", (day, wid)).fetchone()
        current = self._ticket(conn, row, now_ts, mapping) if row else None
        assignment = mapping[wid]
        return WindowStatus(id=wid, name=window.name, area=window.area,
                            categories=assignment.categories, source=assignment.source,
                            current=current)

    def set_window_categories(self, window: str, categories: Sequence[str] | None
                              ) -> WindowStatus:
        """Change what a window serves for the rest of today (tide by hand); ``None`` goes
        back to the schedule."""
        wid = self._window_id(window)
        codes = None if categories is None else [self._category(c).code for c in categories]
        now_ts = self._clock()
        now = datetime.fromtimestamp(now_ts, self.tz)
        with self._write() as conn:
            if codes is None:
                conn.execute("DELETE FROM window_overrides WHERE window = ? AND day = ?",
                             (wid, now.date().isoformat()))
            else:
                conn.execute("INSERT INTO window_overrides (window, day, categories) VALUES "
                             "(?, ?, ?) ON CONFLICT (window, day) DO UPDATE SET categories = "
                             "excluded.categories",
                             (wid, now.date().isoformat(), json.dumps(list(dict.fromkeys(codes)))))
            return self._window_status(conn, wid, now_ts, self._mapping(conn, now))

    # -- window staff ----------------------------------------------------------------------------
    def call_next(self, window: str, *, request_id: str | None = None) -> Ticket | None:
        """Call the next ticket for ``window`` (None when nobody waits for what it serves)."""
        wid = self._window_id(window)
        request_id = self._request_id(request_id)
        now_ts = self._clock()
        now = datetime.fromtimestamp(now_ts, self.tz)
        day = now.date().isoformat()
        with self._write() as conn:
            if request_id:
                row = conn.execute("SELECT * FROM tickets WHERE call_request = ?",
                                   (request_id,)).fetchone()
                if row is not None:
                    return self._ticket(conn, row, now_ts)
            conn.execute("UPDATE tickets SET state = 'served', finished_at = ? WHERE day = ? AND "
                         "window = ? AND state = 'called'", (now_ts, day, wid))
            mapping = self._mapping(conn, now)
            rows = self._in_order(conn, day, wid, mapping[wid].categories, 1)
            if not rows:
                return None
            row = rows[0]
            conn.execute("UPDATE tickets SET state = 'called', window = ?, called_at = ?, "
                         "call_request = ? WHERE seq = ?", (wid, now_ts, request_id, row["seq"]))
            if self._lane == "ratio" and row["place"] >= 0:
                conn.execute("INSERT INTO lane_counters (day, window, regular) VALUES (?, ?, ?) "
                             "ON CONFLICT (day, window) DO UPDATE SET regular = CASE WHEN "
                             "excluded.regular = 0 THEN 0 ELSE regular + 1 END",
                             (day, wid, 0 if row["priority"] > 0 else 1))
            return self._ticket(conn, self._row(conn, row["id"]), now_ts, mapping)

    def _lane_rows(self, conn: sqlite3.Connection, day: str, wid: str, codes: Sequence[str],
                   limit: int, *, only: str = "", order: str = lane.ORDER_STRICT
                   ) -> list[sqlite3.Row]:
        """Waiting tickets for window ``wid``: sent to it, or in a queue it serves."""
        marks = ", ".join("?" for _ in codes)
        return conn.execute(
            f"SELECT * FROM tickets WHERE day = ? AND state = 'waiting' AND "
            f"(target_window = ? OR (target_window IS NULL AND {QUEUE} IN ({marks}))){only} "
            f"ORDER BY {order} LIMIT ?", (day, wid, *codes, limit)).fetchall()

    def _in_order(self, conn: sqlite3.Connection, day: str, wid: str, codes: Sequence[str],
                  limit: int) -> list[sqlite3.Row]:
        """The next ``limit`` tickets window ``wid`` will call, by ``queue.priority_lane``."""
        if self._lane != "ratio":
            return self._lane_rows(conn, day, wid, codes, limit, order=lane.order_sql(self._lane))
        front = self._lane_rows(conn, day, wid, codes, limit, only=" AND place < 0")
        prio = self._lane_rows(conn, day, wid, codes, limit,
                               only=" AND place >= 0 AND priority > 0")
        regular = self._lane_rows(conn, day, wid, codes, limit,
                                  only=" AND place >= 0 AND priority = 0")
        return lane.interleave(front, prio, regular, self._regular_calls(conn, day, [wid]),
                               self._ratio, limit)

    def _transition(self, ticket_id: str, target: TicketState, allowed: Iterable[TicketState],
                    action: str) -> Ticket:
        now_ts = self._clock()
        with self._write() as conn:
            row = self._row(conn, ticket_id)
            if row["state"] == target:
                return self._ticket(conn, row, now_ts)
            if row["state"] not in {s.value for s in allowed}:
                number = label(row["category"], row["number"])
                raise BadTransition(f"{number}号{_STATE_WORDS[row['state']]}，不能{action}",
                                    ticket=row["id"], state=row["state"])
            conn.execute("UPDATE tickets SET state = ?, finished_at = ? WHERE seq = ?",
                         (target.value, now_ts, row["seq"]))
            return self._ticket(conn, self._row(conn, ticket_id), now_ts)

    def transfer(self, ticket_id: str, *, category: str | None = None,
                 window: str | None = None) -> Ticket:
        """Send a called (or waiting) ticket to another category's queue or to one window.

        The resident keeps the number; its place in the new line follows
        ``queue.transfer_to_category`` or ``queue.transfer_to_window`` (keep_issue_time, front
        or back, see :mod:`kiosk.queue.lane`). Exactly one of ``category`` and ``window``."""
        if (category is None) == (window is None):
            raise InvalidRequest("give a category or a window to transfer to", field="category")
        code = self._category(category).code if category is not None else None
        wid = self._window_id(window) if window is not None else None
        now_ts = self._clock()
        with self._write() as conn:
            row = self._row(conn, ticket_id)
            if row["state"] not in (TicketState.CALLED.value, TicketState.WAITING.value,
                                    TicketState.PARKED.value):
                number = label(row["category"], row["number"])
                raise BadTransition(f"{number}号{_STATE_WORDS[row['state']]}，不能转移",
                                    ticket=row["id"], state=row["state"])
            rule = (self.settings.transfer_to_window if wid is not None
                    else self.settings.transfer_to_category)
            conn.execute("UPDATE tickets SET state = 'waiting', serve_category = ?, "
                         "target_window = ?, window = NULL, called_at = NULL, "
                         "call_request = NULL, place = ? WHERE seq = ?",
                         (code if code != row["category"] else None, wid,
                          lane.transfer_place(rule, row["issued_at"], now_ts), row["seq"]))
            return self._ticket(conn, self._row(conn, ticket_id), now_ts)

    def park(self, ticket_id: str) -> Ticket:
        """Put a called ticket aside (the resident fetches a document); it stays with the
        window and is not served, called or counted as waiting until resumed."""
        return self._transition(ticket_id, TicketState.PARKED, (TicketState.CALLED,), "暂挂")

    def resume(self, ticket_id: str) -> Ticket:
        """A parked ticket is called again at its window (the ticket called there now is
        finished as served, as with call-next)."""
        now_ts = self._clock()
        day = self.day_of(datetime.fromtimestamp(now_ts, self.tz))
        with self._write() as conn:
            row = self._row(conn, ticket_id)
            if row["state"] == TicketState.CALLED.value:
                return self._ticket(conn, row, now_ts)
            if row["state"] != TicketState.PARKED.value:
                number = label(row["category"], row["number"])
                raise BadTransition(f"{number}号{_STATE_WORDS[row['state']]}，不能恢复",
                                    ticket=row["id"], state=row["state"])
            conn.execute("UPDATE tickets SET state = 'served', finished_at = ? WHERE day = ? AND "
                         "window = ? AND state = 'called'", (now_ts, day, row["window"]))
            conn.execute("UPDATE tickets SET state = 'called', called_at = ? WHERE seq = ?",
                         (now_ts, row["seq"]))
            return self._ticket(conn, self._row(conn, ticket_id), now_ts)

    def parked(self, window: str) -> list[Ticket]:
        """Today's parked tickets of a window."""
        wid = self._window_id(window)
        now_ts = self._clock()
        with self._read() as conn:
            day = self.day_of(datetime.fromtimestamp(now_ts, self.tz))
            rows = conn.execute("SELECT * FROM tickets WHERE day = ? AND window = ? AND "
                                "state = 'parked' ORDER BY seq", (day, wid)).fetchall()
            return [self._ticket(conn, r, now_ts) for r in rows]

    def mark_served(self, ticket_id: str) -> Ticket:
        return self._transition(ticket_id, TicketState.SERVED, (TicketState.CALLED,), "办结")

    def mark_no_show(self, ticket_id: str) -> Ticket:
        return self._transition(ticket_id, TicketState.NO_SHOW, (TicketState.CALLED,), "过号")

    def cancel(self, ticket_id: str) -> Ticket:
        return self._transition(ticket_id, TicketState.CANCELLED, (TicketState.WAITING,), "取消")

    def waiting(self, categories: Sequence[str], limit: int = 5, window: str = "") -> list[Ticket]:
        """Today's waiting tickets of ``categories`` (and those transferred to ``window``) in
        the order ``window`` will call them."""
        codes = [c for c in categories if c in self._categories]
        now_ts = self._clock()
        now = datetime.fromtimestamp(now_ts, self.tz)
        with self._read() as conn:
            mapping = self._mapping(conn, now)
            rows = self._in_order(conn, now.date().isoformat(), window, codes,
                                  max(1, min(int(limit), 50)))
            return [self._ticket(conn, r, now_ts, mapping) for r in rows]

    def recent_calls(self, limit: int = 10) -> list[Ticket]:
        """Today's calls, newest first (the calling display)."""
        now_ts = self._clock()
        now = datetime.fromtimestamp(now_ts, self.tz)
        with self._read() as conn:
            mapping = self._mapping(conn, now)
            rows = conn.execute("SELECT * FROM tickets WHERE day = ? AND called_at IS NOT NULL "
                                "ORDER BY called_at DESC, seq DESC LIMIT ?",
                                (now.date().isoformat(), max(1, min(int(limit), 100)))).fetchall()
            return [self._ticket(conn, r, now_ts, mapping) for r in rows]

    # -- appointments ----------------------------------------------------------------------------
    def import_appointments(self, items: Iterable[AppointmentIn]) -> ImportResult:
        """Add or update bookings (by ``ref``); checked-in ones are left as they are."""
        added = updated = 0
        skipped: list[tuple[str, str]] = []
        key = self._key_bytes()
        now_ts = self._clock()
        with self._write() as conn:
            for item in items:
                if not item.ref:
                    skipped.append(("", "no ref"))
                    continue
                if item.category.upper() not in self._categories:
                    skipped.append((item.ref, f"unknown category {item.category!r}"))
                    continue
                start = self.hours.local(item.start)
                old = conn.execute("SELECT state FROM appointments WHERE ref = ?",
                                   (item.ref,)).fetchone()
                if old is not None and old["state"] == "checked_in":
                    skipped.append((item.ref, "already checked in"))
                    continue
                values = (item.code or item.ref, hash_id(key, item.id_number),
                          mask_name(item.name), item.category.upper(), start.timestamp(),
                          start.date().isoformat(), "cancelled" if item.cancelled else "booked",
                          now_ts, item.ref)
                try:
                    if old is None:
                        conn.execute("INSERT INTO appointments (code, id_hash, holder, category, "
                                     "start, day, state, imported_at, ref) VALUES "
                                     "(?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
                        added += 1
                    else:
                        conn.execute("UPDATE appointments SET code = ?, id_hash = ?, holder = ?, "
                                     "category = ?, start = ?, day = ?, state = ?, "
                                     "imported_at = ? WHERE ref = ?", values)
                        updated += 1
                except sqlite3.IntegrityError:
                    skipped.append((item.ref, "its code is used by another appointment"))
        return ImportResult(added=added, updated=updated, skipped=tuple(skipped))

    def _find_appointment(self, conn: sqlite3.Connection, id_number: str, code: str,
                          now: datetime) -> sqlite3.Row | None:
        if code:
            return conn.execute("SELECT * FROM appointments WHERE code = ? OR ref = ? "
                                "ORDER BY code = ? DESC LIMIT 1", (code, code, code)).fetchone()
        rows = conn.execute("SELECT * FROM appointments WHERE id_hash = ? ORDER BY start",
                            (hash_id(self._key_bytes(), id_number),)).fetchall()
        if not rows:
            return None
        today = now.date().isoformat()
        now_ts = now.timestamp()
        early = self.settings.checkin_early_min * 60
        late = self.settings.checkin_late_min * 60
        todays = [r for r in rows if r["day"] == today and r["state"] != "cancelled"]
        for row in todays:
            in_window = row["start"] - early <= now_ts <= row["start"] + late
            if row["state"] == "checked_in" or in_window:
                return row
        if todays:
            return min(todays, key=lambda r: abs(r["start"] - now_ts))
        future = [r for r in rows if r["start"] > now_ts and r["state"] == "booked"]
        if future:
            return future[0]
        return rows[-1]

    def check_in(self, *, id_number: str = "", code: str = "", terminal: str = "",
                 request_id: str | None = None) -> Ticket:
        """Check in an appointment by ID number (card read) or booking code (scanned).

        Raises AppointmentNotFound, TooEarly, TooLate, AppointmentCancelled (all
        :class:`CheckInRefused`, offering a normal ticket), QueueClosed."""
        id_number, code = str(id_number or "").strip(), str(code or "").strip()
        if not id_number and not code:
            raise InvalidRequest("请刷身份证或扫描预约码", field="id_number")
        request_id = self._request_id(request_id)
        now_ts = self._clock()
        now = datetime.fromtimestamp(now_ts, self.tz)
        if self._purged_on != now.date().isoformat():
            self.purge()  # once a day: a terminal runs for months on this file
        with self._write() as conn:
            done = self._already_done(conn, request_id, now_ts)
            if done is not None:
                return done
            appt = self._find_appointment(conn, id_number, code, now)
            if appt is None:
                raise AppointmentNotFound("没有查到您的预约，您可以取普通号", offer_ticket=True)
            if appt["state"] == "checked_in" and appt["ticket_id"]:
                return self._ticket(conn, self._row(conn, appt["ticket_id"]), now_ts)
            cat = self._categories.get(appt["category"])
            start = datetime.fromtimestamp(appt["start"], self.tz)
            details = {"category": appt["category"], "booked_at": start.isoformat(),
                       "offer_ticket": True, "ref": appt["ref"]}
            if appt["state"] == "cancelled" or cat is None:
                raise AppointmentCancelled("您的预约已取消，您可以取普通号", **details)
            opens = start - timedelta(minutes=self.settings.checkin_early_min)
            closes = start + timedelta(minutes=self.settings.checkin_late_min)
            if now < opens:
                raise TooEarly(f"您预约的是{describe(start, now)}，请于{describe(opens, now)}"
                               "后签到；您也可以现在取普通号", checkin_from=opens.isoformat(),
                               **details)
            if now > closes:
                raise TooLate(f"您预约的是{describe(start, now)}，已超过签到时间（预约时间后"
                              f"{self.settings.checkin_late_min}分钟内），您可以取普通号",
                              **details)
            self._check_hours(now)
            day = now.date().isoformat()
            number = self._take_number(conn, cat, day, now, bypass_capacity=True)
            row = self._insert(conn, request_id=request_id, day=day, category=cat.code,
                               number=number, priority=int(Priority.APPOINTMENT),
                               holder=appt["holder"], terminal=str(terminal)[:40],
                               source="appointment", appointment=appt["ref"], issued_at=now_ts)
            conn.execute("UPDATE appointments SET state = 'checked_in', ticket_id = ? "
                         "WHERE ref = ?", (row["id"], appt["ref"]))
            return self._ticket(conn, row, now_ts)

    # -- offline tickets -------------------------------------------------------------------------
    def accept_offline(self, terminal: str, tickets: Iterable[dict[str, Any]]) -> ReconcileResult:
        """Take in tickets a terminal issued from its reserved range while it could not reach
        this server. Idempotent by ticket id; a number already held by another ticket is
        rejected (it cannot happen with non-overlapping ranges)."""
        rng = self.settings.range_for(str(terminal))
        accepted: list[str] = []
        duplicates: list[str] = []
        rejected: list[tuple[str, str]] = []
        now_ts = self._clock()
        with self._write() as conn:
            for item in tickets:
                tid = str(item.get("id", "")) if isinstance(item, dict) else ""
                try:
                    if not isinstance(item, dict) or not _REQUEST_ID.match(tid):
                        raise ValueError("no valid id")
                    if rng is None:
                        raise ValueError(f"terminal {terminal!r} has no offline range here")
                    cat = self._category(item["category"])
                    number = int(item["number"])
                    if not rng.first <= number <= rng.last:
                        raise ValueError(f"number {number} is outside {terminal}'s range "
                                         f"{rng.first}-{rng.last}")
                    day = str(item["day"])
                    if not _DAY.match(day):
                        raise ValueError(f"bad day {day!r}")
                    issued = datetime.fromisoformat(str(item["issued_at"]))
                    prio = Priority.parse(item.get("priority", "normal"))
                except (KeyError, ValueError, TypeError, UnknownCategory) as exc:
                    reason = exc.message if isinstance(exc, UnknownCategory) else str(exc)
                    rejected.append((tid, reason))
                    continue
                if conn.execute("SELECT 1 FROM tickets WHERE id = ?", (tid,)).fetchone():
                    duplicates.append(tid)
                    continue
                if conn.execute("SELECT 1 FROM tickets WHERE day = ? AND category = ? AND "
                                "number = ?", (day, cat.code, number)).fetchone():
                    rejected.append((tid, f"{label(cat.code, number)} of {day} is already held "
                                          "by another ticket"))
                    continue
                self._insert(conn, id=tid, day=day, category=cat.code, number=number,
                             priority=int(prio), holder=mask_name(str(item.get("holder", ""))),
                             terminal=str(terminal)[:40], source="offline",
                             issued_at=self.hours.local(issued).timestamp())
                conn.execute("INSERT INTO counters (day, category, last, issued) VALUES "
                             "(?, ?, 0, 1) ON CONFLICT (day, category) DO UPDATE SET "
                             "issued = issued + 1", (day, cat.code))
                online_request = str(item.get("request_id") or "")
                if online_request:
                    # the online attempt may have reached us although its answer did not reach
                    # the kiosk: the resident holds the offline number, so that one goes
                    conn.execute("UPDATE tickets SET state = 'cancelled', finished_at = ? "
                                 "WHERE request_id = ? AND state = 'waiting'",
                                 (now_ts, online_request))
                accepted.append(tid)
        if rejected:
            log.warning("offline tickets of %s rejected: %s", terminal, rejected)
        return ReconcileResult(accepted=tuple(accepted), duplicates=tuple(duplicates),
                               rejected=tuple(rejected))

"""The hall server's own records beside the queue: who may do what, help requests, the call
log the display speaks from, retention and statistics. No HTTP here (the web layer is
:mod:`kiosk.queue.app`); the CLI calls the same methods.

Same SQLite file as the engine, own connection and tables (``hall_*``), every change one
``BEGIN IMMEDIATE`` transaction.

- Kiosk credentials: ``add_terminal(id)`` returns a random API key once; only its SHA-256 is
  kept (a 256-bit random key needs no slow hash). Every request looks its key up afresh on a
  read-only connection of its own (a point read that never waits for a writer in WAL mode), so
  a key revoked by the CLI in another process is refused from the next request.
- Staff sign-in lock-out after repeated wrong passwords, per account and address
  (:mod:`kiosk.queue.lockout`), persisted here; every attempt is audited (``hall_audit``).
- Staff: argon2id password hashes, windows they may serve, role ``staff`` or ``admin``;
  sessions are random tokens (SHA-256 kept) with their own CSRF token and an expiry.
- Help requests (帮办): pending → acknowledged (by, at) → done; idempotent on request_id.
- Calls: every call and recall with its phrase, in order; the display speaks them in order.
- Retention: tickets, appointments, help requests and calls older than ``retention_days``
  are deleted after their day's figures are kept in ``hall_stats``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from kiosk.queue import db, lockout
from kiosk.queue.errors import (
    Forbidden,
    InvalidRequest,
    LoginLocked,
    TicketNotFound,
    Unauthorized,
)

HALL_SCHEMA = """
CREATE TABLE IF NOT EXISTS hall_terminals (
    id TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, created_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS hall_staff (
    name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, windows TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT 'staff', created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS hall_sessions (
    token_hash TEXT PRIMARY KEY, name TEXT NOT NULL, csrf TEXT NOT NULL,
    expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS hall_help (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL UNIQUE, terminal TEXT NOT NULL, place TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, created_at REAL NOT NULL,
    ack_by TEXT, ack_at REAL, done_by TEXT, done_at REAL, day TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hall_calls (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id TEXT NOT NULL, number TEXT NOT NULL,
    window TEXT NOT NULL, kind TEXT NOT NULL, phrase TEXT NOT NULL, at REAL NOT NULL,
    day TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS hall_calls_day ON hall_calls (day, seq);
CREATE TABLE IF NOT EXISTS hall_recalls (
    ticket_id TEXT PRIMARY KEY, count INTEGER NOT NULL, day TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hall_paused (window TEXT PRIMARY KEY, since REAL NOT NULL);
CREATE TABLE IF NOT EXISTS hall_stats (
    day TEXT NOT NULL, category TEXT NOT NULL, window TEXT NOT NULL,
    tickets INTEGER NOT NULL, served INTEGER NOT NULL, no_show INTEGER NOT NULL,
    wait_mean_s REAL, wait_p90_s REAL, service_mean_s REAL, service_p90_s REAL,
    PRIMARY KEY (day, category, window)) WITHOUT ROWID;
""" + lockout.SCHEMA

SESSION_S = 12 * 3600
ROLES = ("staff", "admin")
HELP_STATES = ("pending", "acknowledged", "done")


AuthError = Unauthorized
log = logging.getLogger(__name__)


class HelpNotFound(TicketNotFound):
    code = "not_found"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Staff:
    name: str
    windows: tuple[str, ...]
    role: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"

    def may_serve(self, window: str) -> bool:
        return self.admin or str(window) in self.windows


@dataclass(frozen=True)
class Session:
    staff: Staff
    csrf: str
    token: str = ""


@dataclass(frozen=True)
class HelpRequest:
    id: str
    terminal: str
    place: str
    reason: str
    state: str
    created_at: datetime
    by: str | None = None
    at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "terminal": self.terminal, "place": self.place,
                "reason": self.reason, "state": self.state,
                "created_at": self.created_at.isoformat(), "by": self.by,
                "at": self.at.isoformat() if self.at else None}


@dataclass(frozen=True)
class Call:
    seq: int
    ticket_id: str
    number: str
    window: str
    kind: str  # call | recall
    phrase: str
    at: datetime


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]  # nearest rank


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


class HallStore:
    """Accounts, sessions, help requests, call log, retention and statistics."""

    def __init__(self, db_path: Path | str, tz: tzinfo, *, synchronous: str = "full",
                 clock: Callable[[], float] = time.time,
                 lockout_policy: lockout.Policy | None = None) -> None:
        self.tz = tz
        self._clock = clock
        self._lock = threading.RLock()
        self._conn = db.connect(Path(db_path), synchronous, schema=HALL_SCHEMA)
        self._conn.row_factory = sqlite3.Row
        # kiosk keys: read on every request, on a connection of their own (the writer's lock
        # is held across disk syncs; a WAL reader waits for nobody)
        self._keys = sqlite3.connect(str(db_path), timeout=db.BUSY_TIMEOUT_S,
                                     isolation_level=None, check_same_thread=False)
        self._keys.execute("PRAGMA query_only=1")
        self._keys_lock = threading.Lock()
        self._hasher: Any = None
        self.lockout = lockout_policy or lockout.Policy()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        with self._keys_lock:
            self._keys.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def _day(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.tz).date().isoformat()

    def _dt(self, ts: float) -> datetime:
        return datetime.fromtimestamp(ts, self.tz)

    @property
    def hasher(self) -> Any:
        if self._hasher is None:
            from argon2 import PasswordHasher

            self._hasher = PasswordHasher()
        return self._hasher

    # -- kiosks ----------------------------------------------------------------------------------
    def add_terminal(self, terminal: str) -> str:
        """Register (or re-key) a kiosk; returns its new API key, shown once."""
        terminal = str(terminal).strip()
        if not terminal or len(terminal) > 40 or not all(c.isalnum() or c == "-"
                                                         for c in terminal):
            raise InvalidRequest("terminal id: 1 to 40 letters, digits or hyphens",
                                 field="terminal")
        key = "kq_" + secrets.token_urlsafe(32)
        with self._write() as conn:  # re-keying: the old key is refused from the next request
            conn.execute("INSERT INTO hall_terminals (id, key_hash, created_at) VALUES (?, ?, ?) "
                         "ON CONFLICT (id) DO UPDATE SET key_hash = excluded.key_hash, "
                         "revoked = 0", (terminal, _sha(key), self._clock()))
        return key

    def revoke_terminal(self, terminal: str) -> bool:
        """Refuse the terminal's key from the next request, in every process."""
        with self._write() as conn:
            return conn.execute("UPDATE hall_terminals SET revoked = 1 WHERE id = ?",
                                (terminal,)).rowcount > 0

    def terminal_for_key(self, key: str) -> str | None:
        """The terminal of a kiosk key, read afresh (no cache: a revocation made anywhere,
        the CLI in another process included, holds from the next request)."""
        if not key or len(key) > 200:
            return None
        with self._keys_lock:
            row = self._keys.execute("SELECT id FROM hall_terminals WHERE key_hash = ? AND "
                                     "revoked = 0", (_sha(key),)).fetchone()
        return str(row[0]) if row is not None else None

    def terminals(self) -> list[str]:
        return [r["id"] for r in self._rows("SELECT id FROM hall_terminals WHERE revoked = 0 "
                                            "ORDER BY id")]

    # -- staff -----------------------------------------------------------------------------------
    def add_staff(self, name: str, password: str, windows: list[str] | tuple[str, ...] = (),
                  role: str = "staff") -> Staff:
        name = str(name).strip()
        if not name or len(name) > 40:
            raise InvalidRequest("staff name: 1 to 40 characters", field="name")
        if role not in ROLES:
            raise InvalidRequest(f"role must be one of {', '.join(ROLES)}", field="role")
        if len(password) < 8:
            raise InvalidRequest("password: at least 8 characters", field="password")
        wins = tuple(dict.fromkeys(str(w).strip() for w in windows if str(w).strip()))
        with self._write() as conn:
            conn.execute("INSERT INTO hall_staff (name, password_hash, windows, role, created_at) "
                         "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                         "password_hash = excluded.password_hash, windows = excluded.windows, "
                         "role = excluded.role",
                         (name, self.hasher.hash(password), ",".join(wins), role, self._clock()))
            # a new password (the admin's answer to a locked-out colleague) lifts the lock
            conn.execute("DELETE FROM hall_login_failures WHERE subject = ?",
                         (lockout.subjects(name, "")["account"],))
        return Staff(name, wins, role)

    def _staff(self, row: sqlite3.Row) -> Staff:
        wins = tuple(w for w in row["windows"].split(",") if w)
        return Staff(row["name"], wins, row["role"])

    def login(self, name: str, password: str, address: str = "") -> Session:
        """A new session for a correct name and password from ``address`` (the client's IP).

        :class:`LoginLocked` (429) while the account or the address is locked out after
        repeated wrong passwords (:mod:`kiosk.queue.lockout`), whatever the password;
        :class:`AuthError` (401) for a wrong one. Every attempt is audited, never the
        password."""
        from argon2.exceptions import InvalidHashError, VerificationError

        now = self._clock()
        with self._lock:
            lock = lockout.current(self._conn, name, address, now)
        if lock is not None:
            self._audit_login(name, address, "refused_locked")
            raise self._locked(lock)
        rows = self._rows("SELECT * FROM hall_staff WHERE name = ?", (str(name),))
        try:
            if not rows:
                self.hasher.hash(password or "x")  # the same work as a wrong password
                raise VerificationError("no such account")
            row = rows[0]
            self.hasher.verify(row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            with self._write() as conn:
                lock = lockout.failed(conn, self.lockout, name, address, now)
                lockout.audit(conn, now, self._day(now), "login", name, address,
                              "wrong_password_locked" if lock else "wrong_password")
            log.warning("staff sign-in refused: wrong password for account %r from %s%s", name,
                        address or "?", f"; locked for {lock.retry_after_s} s ({lock.scope}, "
                        f"{lock.failures} in a row)" if lock else "")
            if lock is not None:
                raise self._locked(lock) from None
            raise AuthError("用户名或密码不正确") from None
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        with self._write() as conn:
            lockout.succeeded(conn, name, address)
            lockout.audit(conn, now, self._day(now), "login", row["name"], address, "ok")
            conn.execute("DELETE FROM hall_sessions WHERE expires_at < ?", (now,))
            conn.execute("INSERT INTO hall_sessions (token_hash, name, csrf, expires_at) "
                         "VALUES (?, ?, ?, ?)", (_sha(token), row["name"], csrf, now + SESSION_S))
        return Session(self._staff(row), csrf, token)

    @staticmethod
    def _locked(lock: lockout.Lock) -> LoginLocked:
        who = "该账号" if lock.scope == "account" else "本机地址"
        return LoginLocked(f"{who}登录失败次数过多，请{lock.retry_after_s}秒后再试",
                           retry_after_s=lock.retry_after_s, scope=lock.scope)

    def _audit_login(self, name: str, address: str, outcome: str) -> None:
        now = self._clock()
        with self._write() as conn:
            lockout.audit(conn, now, self._day(now), "login", name, address, outcome)
        log.warning("staff sign-in refused: account %r from %s is locked out", name,
                    address or "?")

    def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest audit rows (sign-in attempts): when, what, who, from where, outcome."""
        return [dict(r) for r in self._rows(
            "SELECT at, action, actor, address, outcome FROM hall_audit ORDER BY seq DESC "
            "LIMIT ?", (max(1, min(limit, 1000)),))]

    def session(self, token: str) -> Session | None:
        if not token or len(token) > 200:
            return None
        rows = self._rows("SELECT s.csrf, s.expires_at, f.* FROM hall_sessions s JOIN "
                          "hall_staff f ON f.name = s.name WHERE s.token_hash = ?", (_sha(token),))
        if not rows or rows[0]["expires_at"] < self._clock():
            return None
        return Session(self._staff(rows[0]), rows[0]["csrf"], token)

    def logout(self, token: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM hall_sessions WHERE token_hash = ?", (_sha(token),))

    # -- help requests (帮办) ----------------------------------------------------------------------
    def _help(self, row: sqlite3.Row) -> HelpRequest:
        by, at = (row["ack_by"], row["ack_at"])
        if row["state"] == "done":
            by, at = row["done_by"] or by, row["done_at"]
        return HelpRequest(id=row["id"], terminal=row["terminal"], place=row["place"],
                           reason=row["reason"], state=row["state"],
                           created_at=self._dt(row["created_at"]), by=by,
                           at=self._dt(at) if at is not None else None)

    def request_help(self, terminal: str, place: str, reason: str, request_id: str
                     ) -> tuple[HelpRequest, bool]:
        """(the request, whether it is new); the same request_id gives the first answer."""
        now = self._clock()
        with self._write() as conn:
            row = conn.execute("SELECT * FROM hall_help WHERE request_id = ?",
                               (request_id,)).fetchone()
            if row is not None:
                if row["terminal"] != terminal:
                    raise Forbidden("这个帮办请求属于另一台终端", field="request_id")
                return self._help(row), False
            hid = uuid.uuid4().hex
            conn.execute("INSERT INTO hall_help (id, request_id, terminal, place, reason, state, "
                         "created_at, day) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
                         (hid, request_id, terminal, place, reason, now, self._day(now)))
            row = conn.execute("SELECT * FROM hall_help WHERE id = ?", (hid,)).fetchone()
            return self._help(row), True

    def help(self, help_id: str) -> HelpRequest:
        rows = self._rows("SELECT * FROM hall_help WHERE id = ?", (str(help_id),))
        if not rows:
            raise HelpNotFound("没有找到这个帮办请求", help=str(help_id))
        return self._help(rows[0])

    def open_help(self, limit: int = 50) -> list[HelpRequest]:
        """Pending and acknowledged requests, oldest first (the staff list)."""
        return [self._help(r) for r in self._rows(
            "SELECT * FROM hall_help WHERE state != 'done' ORDER BY seq LIMIT ?", (limit,))]

    def help_action(self, help_id: str, action: str, by: str) -> HelpRequest:
        """``acknowledge`` (pending → acknowledged) or ``done`` (either → done); repeating
        the state a request already has is a no-op."""
        target = {"acknowledge": "acknowledged", "done": "done"}[action]
        now = self._clock()
        with self._write() as conn:
            row = conn.execute("SELECT * FROM hall_help WHERE id = ?", (str(help_id),)).fetchone()
            if row is None:
                raise HelpNotFound("没有找到这个帮办请求", help=str(help_id))
            if row["state"] == target or row["state"] == "done":
                return self._help(row)
            if target == "acknowledged":
                conn.execute("UPDATE hall_help SET state = 'acknowledged', ack_by = ?, ack_at = ? "
                             "WHERE id = ?", (by, now, row["id"]))
            else:
                conn.execute("UPDATE hall_help SET state = 'done', done_by = ?, done_at = ?, "
                             "ack_by = COALESCE(ack_by, ?), ack_at = COALESCE(ack_at, ?) "
                             "WHERE id = ?", (by, now, by, now, row["id"]))
            return self._help(conn.execute("SELECT * FROM hall_help WHERE id = ?",
                                           (row["id"],)).fetchone())

    # -- calls, recalls, paused windows ----------------------------------------------------------
    def log_call(self, ticket_id: str, number: str, window: str, kind: str, phrase: str) -> Call:
        now = self._clock()
        with self._write() as conn:
            cur = conn.execute("INSERT INTO hall_calls (ticket_id, number, window, kind, phrase, "
                               "at, day) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               (ticket_id, number, window, kind, phrase, now, self._day(now)))
            if kind == "recall":
                conn.execute("INSERT INTO hall_recalls (ticket_id, count, day) VALUES (?, 1, ?) "
                             "ON CONFLICT (ticket_id) DO UPDATE SET count = count + 1",
                             (ticket_id, self._day(now)))
            return Call(int(cur.lastrowid or 0), ticket_id, number, window, kind, phrase,
                        self._dt(now))

    def recalls(self, ticket_id: str) -> int:
        rows = self._rows("SELECT count FROM hall_recalls WHERE ticket_id = ?", (ticket_id,))
        return int(rows[0]["count"]) if rows else 0

    def calls(self, limit: int = 10, after: int = 0) -> list[Call]:
        """Today's calls, newest first (``after``: only those with a larger seq)."""
        day = self._day(self._clock())
        rows = self._rows("SELECT * FROM hall_calls WHERE day = ? AND seq > ? ORDER BY seq DESC "
                          "LIMIT ?", (day, after, max(1, min(limit, 200))))
        return [Call(r["seq"], r["ticket_id"], r["number"], r["window"], r["kind"], r["phrase"],
                     self._dt(r["at"])) for r in rows]

    def call(self, seq: int) -> Call:
        rows = self._rows("SELECT * FROM hall_calls WHERE seq = ?", (seq,))
        if not rows:
            raise TicketNotFound("没有这次叫号", call=seq)
        r = rows[0]
        return Call(r["seq"], r["ticket_id"], r["number"], r["window"], r["kind"], r["phrase"],
                    self._dt(r["at"]))

    def set_paused(self, window: str, paused: bool) -> bool:
        with self._write() as conn:
            if paused:
                conn.execute("INSERT OR IGNORE INTO hall_paused (window, since) VALUES (?, ?)",
                             (window, self._clock()))
            else:
                conn.execute("DELETE FROM hall_paused WHERE window = ?", (window,))
        return paused

    def paused(self) -> set[str]:
        return {r["window"] for r in self._rows("SELECT window FROM hall_paused")}

    # -- statistics and retention ----------------------------------------------------------------
    def _live_stats(self, conn: sqlite3.Connection, day_from: str, day_to: str
                    ) -> list[dict[str, Any]]:
        rows = conn.execute("SELECT day, category, COALESCE(window, '') AS window, state, "
                            "issued_at, called_at, finished_at FROM tickets WHERE day >= ? "
                            "AND day <= ?", (day_from, day_to)).fetchall()
        groups: dict[tuple[str, str, str], list[sqlite3.Row]] = {}
        for r in rows:
            groups.setdefault((r["day"], r["category"], r["window"]), []).append(r)
        out = []
        for (day, cat, win), items in sorted(groups.items()):
            waits = [r["called_at"] - r["issued_at"] for r in items if r["called_at"]]
            services = [r["finished_at"] - r["called_at"] for r in items
                        if r["state"] == "served" and r["called_at"] and r["finished_at"]]
            out.append({"day": day, "category": cat, "window": win, "tickets": len(items),
                        "served": sum(r["state"] == "served" for r in items),
                        "no_show": sum(r["state"] == "no_show" for r in items),
                        "wait_mean_s": _mean(waits), "wait_p90_s": _p90(waits),
                        "service_mean_s": _mean(services), "service_p90_s": _p90(services)})
        return out

    def stats(self, day_from: str, day_to: str) -> list[dict[str, Any]]:
        """Per day, category and window (``""`` = never called): tickets, served, no-shows,
        mean and p90 wait (issue → call) and service time (call → served), in seconds."""
        with self._lock:
            kept = [dict(r) for r in self._conn.execute(
                "SELECT * FROM hall_stats WHERE day >= ? AND day <= ?", (day_from, day_to))]
            live = self._live_stats(self._conn, day_from, day_to)
        seen = {(r["day"], r["category"], r["window"]) for r in live}
        merged = live + [r for r in kept if (r["day"], r["category"], r["window"]) not in seen]
        return sorted(merged, key=lambda r: (r["day"], r["category"], r["window"]))

    def purge(self, retention_days: int) -> dict[str, int]:
        """Delete tickets, appointments, help requests and calls of days older than
        ``retention_days``, keeping each day's figures in aggregate first."""
        cutoff = (datetime.fromtimestamp(self._clock(), self.tz).date()
                  - timedelta(days=retention_days)).isoformat()
        with self._write() as conn:
            for r in self._live_stats(conn, "0000-00-00", (date.fromisoformat(cutoff)
                                                          - timedelta(days=1)).isoformat()):
                conn.execute("INSERT OR REPLACE INTO hall_stats VALUES "
                             "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (r["day"], r["category"], r["window"], r["tickets"], r["served"],
                              r["no_show"], r["wait_mean_s"], r["wait_p90_s"],
                              r["service_mean_s"], r["service_p90_s"]))
            counts = {
                "tickets": conn.execute("DELETE FROM tickets WHERE day < ?",
                                        (cutoff,)).rowcount,
                "appointments": conn.execute("DELETE FROM appointments WHERE day < ?",
                                             (cutoff,)).rowcount,
                "help": conn.execute("DELETE FROM hall_help WHERE day < ?", (cutoff,)).rowcount,
                "calls": conn.execute("DELETE FROM hall_calls WHERE day < ?", (cutoff,)).rowcount,
            }
            conn.execute("DELETE FROM hall_recalls WHERE day < ?", (cutoff,))
            conn.execute("DELETE FROM hall_audit WHERE day < ?", (cutoff,))
            conn.execute("DELETE FROM hall_login_failures WHERE last_at < ? AND "
                         "locked_until < ?", (self._clock() - lockout.FORGET_S, self._clock()))
            conn.execute("DELETE FROM lane_counters WHERE day < ?", (cutoff,))
            conn.execute("DELETE FROM counters WHERE day < ?", (cutoff,))
            conn.execute("DELETE FROM window_overrides WHERE day < ?", (cutoff,))
        return counts

"""Staff sign-in lock-out: a growing wait after repeated wrong passwords, per account and per
client address, kept in the hall database (``hall_login_failures``) so a restart forgets
nothing. No HTTP and no passwords here.

After ``free`` wrong passwords in a row (``queue.login_failures`` per account,
``queue.login_address_failures`` per address) sign-in is refused, whatever the password, for
``login_lockout_s``; each further wrong password after the wait doubles it, up to
``login_lockout_max_s``. A correct password clears the account and the address. Failures are
forgotten after a day without one. Attempts during a lock are refused without counting (they
would only lengthen it) and are audited like every attempt (``hall_audit``).

An account name that does not exist is counted like one that does: the answers do not tell
which names exist.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass

FORGET_S = 86400.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS hall_login_failures (
    subject TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_at REAL NOT NULL,
    locked_until REAL NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hall_audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, day TEXT NOT NULL,
    action TEXT NOT NULL, actor TEXT NOT NULL, address TEXT NOT NULL, outcome TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS hall_audit_day ON hall_audit (day)
"""


@dataclass(frozen=True)
class Policy:
    account_free: int = 5
    address_free: int = 20
    base_s: float = 30.0
    max_s: float = 3600.0

    def wait_s(self, failures: int, free: int) -> float:
        """The lock after the ``failures``-th wrong password in a row (0: none)."""
        if failures < free:
            return 0.0
        return float(min(self.max_s, self.base_s * 2 ** min(failures - free, 30)))


@dataclass(frozen=True)
class Lock:
    scope: str  # account | address
    retry_after_s: int
    failures: int


def subjects(name: str, address: str) -> dict[str, str]:
    return {"account": "account:" + str(name).strip().casefold()[:40],
            "address": "address:" + str(address or "unknown")[:64]}


def current(conn: sqlite3.Connection, name: str, address: str, now: float) -> Lock | None:
    """The lock in force for this account or address, the longer one first."""
    found = []
    for scope, subject in subjects(name, address).items():
        row = conn.execute("SELECT failures, locked_until FROM hall_login_failures WHERE "
                           "subject = ?", (subject,)).fetchone()
        if row is not None and row[1] > now:
            found.append(Lock(scope, max(1, math.ceil(row[1] - now)), row[0]))
    return max(found, key=lambda lock: lock.retry_after_s) if found else None


def failed(conn: sqlite3.Connection, policy: Policy, name: str, address: str,
           now: float) -> Lock | None:
    """Count a wrong password (inside the caller's write transaction); the lock it starts."""
    locks = []
    for scope, subject in subjects(name, address).items():
        row = conn.execute("SELECT failures, last_at FROM hall_login_failures WHERE subject = ?",
                           (subject,)).fetchone()
        failures = 1 if row is None or row[1] < now - FORGET_S else row[0] + 1
        free = policy.account_free if scope == "account" else policy.address_free
        wait = policy.wait_s(failures, free)
        conn.execute("INSERT INTO hall_login_failures (subject, failures, last_at, locked_until) "
                     "VALUES (?, ?, ?, ?) ON CONFLICT (subject) DO UPDATE SET failures = "
                     "excluded.failures, last_at = excluded.last_at, locked_until = "
                     "excluded.locked_until", (subject, failures, now, now + wait if wait else 0))
        if wait:
            locks.append(Lock(scope, max(1, math.ceil(wait)), failures))
    return max(locks, key=lambda lock: lock.retry_after_s) if locks else None


def succeeded(conn: sqlite3.Connection, name: str, address: str) -> None:
    for subject in subjects(name, address).values():
        conn.execute("DELETE FROM hall_login_failures WHERE subject = ?", (subject,))


def audit(conn: sqlite3.Connection, at: float, day: str, action: str, actor: str,
          address: str, outcome: str) -> None:
    conn.execute("INSERT INTO hall_audit (at, day, action, actor, address, outcome) VALUES "
                 "(?, ?, ?, ?, ?, ?)", (at, day, action, str(actor)[:40], str(address)[:64],
                                        outcome))

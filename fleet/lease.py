"""Leases in the fleet database: one holder at a time for a named duty.

* ``timer``: the alarm timer (offline after the grace, overdue cases, command expiry,
  retention, repeated notices) runs in one ``kiosk-fleet serve`` process at a time, however
  many serve one database; another takes over when the holder stops (at once: it releases) or
  dies (once the lease has expired).
* ``worker:NAME``: an ingest worker's name (its MQTT client id and persistent session) is
  held by one process: a second worker with the same name is refused instead of the two
  taking the broker session from each other.

A lease is a row (``fleet_leases``: name, holder, expiry). Taking or renewing it is one
``UPDATE … WHERE holder = me OR expires_at < now``, atomic on SQLite (one writer) and on
PostgreSQL (the row is locked and the condition checked again), so two contenders never
both win. Times come from the caller's clock: the processes sharing a database keep their
clocks in step (NTP), and the lease time is several times the renewal interval.

    lease = Lease(db, "timer", ttl_s=30)
    if lease.acquire():           # taken or renewed
        ...
    lease.release()               # on a clean stop: the next contender takes it at once
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError

from fleet.clock import now_ms
from fleet.db import Database
from fleet.models import Lease as LeaseRow

log = logging.getLogger(__name__)


def holder_id() -> str:
    """This process: host, pid and a random part (a pid is reused after a restart)."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Holder:
    holder: str
    acquired_at: int
    renewed_at: int
    expires_at: int


class Lease:
    def __init__(self, db: Database, name: str, ttl_s: float, *, holder: str | None = None,
                 clock: Callable[[], int] = now_ms) -> None:
        self.db = db
        self.name = name
        self.ttl_ms = int(ttl_s * 1000)
        self.holder = holder or holder_id()
        self.clock = clock
        self.held = False

    def acquire(self, now: int | None = None) -> bool:
        """Take the lease (free or expired) or renew it (ours). ``False``: someone else
        holds it and it has not expired."""
        now = self.clock() if now is None else now
        table = LeaseRow.__table__
        with self.db.session() as session:
            result = session.execute(
                update(table).where(table.c.name == self.name, or_(
                    table.c.holder == self.holder, table.c.expires_at < now))
                .values(holder=self.holder, renewed_at=now, expires_at=now + self.ttl_ms,
                        acquired_at=case((table.c.holder == self.holder,
                                          table.c.acquired_at), else_=now)))
            won = result.rowcount == 1
        if not won:
            won = self._insert(now)
        if won != self.held:
            log.info("lease %s %s by %s", self.name, "taken" if won else "lost", self.holder)
        self.held = won
        return won

    def _insert(self, now: int) -> bool:
        """The first holder creates the row; a contender inserting at the same time gets
        the primary key's conflict and loses."""
        try:
            with self.db.session() as session:
                if session.get(LeaseRow, self.name) is not None:
                    return False
                session.add(LeaseRow(name=self.name, holder=self.holder, acquired_at=now,
                                     renewed_at=now, expires_at=now + self.ttl_ms))
            return True
        except IntegrityError:
            return False

    def release(self) -> None:
        """Give the lease up (expire it now) if this process holds it."""
        table = LeaseRow.__table__
        try:
            with self.db.session() as session:
                session.execute(update(table).where(
                    table.c.name == self.name, table.c.holder == self.holder)
                    .values(expires_at=0))
        except Exception:  # the database is away: the lease expires by itself
            log.warning("lease %s not released (it expires by itself)", self.name,
                        exc_info=True)
        self.held = False

    def current(self) -> Holder | None:
        with self.db.session() as session:
            row = session.scalar(select(LeaseRow).where(LeaseRow.name == self.name))
            if row is None:
                return None
            return Holder(row.holder, row.acquired_at, row.renewed_at, row.expires_at)


class NameTaken(RuntimeError):
    """Another live process holds this ingest worker's name."""


def claim_worker_name(db: Database, worker: str, ttl_s: float, *,
                      wait_s: float | None = None, stop: threading.Event | None = None
                      ) -> Lease:
    """Hold ``worker:NAME`` for this process. A holder that died leaves a lease that expires
    within ``ttl_s``, so this waits that long (a worker restarted at once after a crash
    starts) before it gives up on a holder that keeps renewing (a live duplicate)."""
    lease = Lease(db, f"worker:{worker}", ttl_s)
    wait_ms = int((ttl_s * 1.5 if wait_s is None else wait_s) * 1000)
    began = now_ms()
    stop = stop or threading.Event()
    while True:
        if lease.acquire():
            return lease
        if now_ms() - began >= wait_ms or stop.is_set():
            break
        stop.wait(min(1.0, ttl_s / 4))
    other = lease.current()
    who = other.holder if other else "another process"
    raise NameTaken(
        f"ingest worker name {worker!r} is in use by {who} (it renews its lease every "
        f"{ttl_s / 3:.0f} s): give each ingest worker its own --worker NAME (it is the MQTT "
        "client id of its persistent session), or stop the other one first")


class Renewer:
    """Renews a lease every ``ttl / 3`` in a background thread until stopped (then
    releases it)."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{lease.name}",
                                        daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.lease.ttl_ms / 3000):
            try:
                if not self.lease.acquire():
                    log.error("lease %s was taken by another process", self.lease.name)
            except Exception:
                log.warning("lease %s not renewed", self.lease.name, exc_info=True)

    def start(self) -> Renewer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.lease.release()

"""One alarm timer per database and unique ingest worker names (``fleet.lease``), on real
SQLite and real PostgreSQL; the refusal of a duplicate worker name by a real second
``kiosk-fleet ingest`` process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from fleet.app import Services
from fleet.lease import Lease, NameTaken, claim_worker_name
from fleet.models import Alarm
from fleet.server import Timer
from fleet.testing import birth, health, presence, topic

T, R = "JN-LX-0001", "370102"
S = 1000
REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def _offline_terminal(feed) -> int:
    t0 = feed.now
    feed(topic(R, T, "birth"), birth(T, R, t0), received=t0)
    feed(topic(R, T, "state"), presence(T, True, t0), received=t0)
    feed(topic(R, T, "health"), health(T, t0), received=t0)
    feed(topic(R, T, "state"), presence(T, False, t0 + 10 * S), received=t0 + 10 * S)
    return t0


def test_two_timers_on_one_database_evaluate_once_and_take_over(feed, fleet_db, settings):
    t0 = _offline_terminal(feed)
    clock = Clock(t0 + 200 * S)  # past the 2-minute grace: the offline alarm is due
    timers = [Timer(Services(settings=settings, db=fleet_db, clock=clock), holder=h)
              for h in ("serve-a", "serve-b")]
    ttl = int(timers[0].lease.ttl_ms)
    assert ttl == 3 * settings.timer_s * 1000
    first, second = timers[0].step(), timers[1].step()
    assert first is not None and [c.what for c in first] == ["raised"]
    assert second is None  # the other process holds the timer: nothing evaluated twice
    with fleet_db.session() as s:
        assert [a.type for a in s.scalars(select(Alarm))] == ["offline"]
    # the holder renews on every step; the other keeps waiting
    for _ in range(5):
        clock.now += ttl // 2
        assert timers[0].step() is not None
        assert timers[1].step() is None
    assert timers[0].lease.current().holder == "serve-a"
    # a clean stop releases the lease: the other takes over at its next step
    timers[0].stop()
    clock.now += 1
    assert timers[1].step() is not None
    assert timers[1].lease.current().holder == "serve-b"
    assert timers[0].step() is None  # a restarted "a" now waits in its turn
    # the holder dies (no release): its lease expires and the other takes over then
    clock.now += ttl - 1
    assert timers[0].step() is None
    clock.now += 2
    assert timers[0].step() is not None
    assert timers[0].lease.current().holder == "serve-a"
    with fleet_db.session() as s:
        assert [a.type for a in s.scalars(select(Alarm))] == ["offline"]  # raised once


def test_a_lease_has_one_holder_however_the_contenders_interleave(fleet_db):
    now = 1_765_000_000_000
    leases = [Lease(fleet_db, "duty", 10, holder=f"p{i}") for i in range(4)]
    assert [lease.acquire(now) for lease in leases] == [True, False, False, False]
    assert [lease.acquire(now + 5 * S) for lease in leases] == [True, False, False, False]
    # expired: exactly one of the others wins, whoever asks first
    winners = [lease.acquire(now + 16 * S) for lease in reversed(leases)]
    assert winners == [True, False, False, False]
    assert leases[0].acquire(now + 16 * S) is False  # the old holder lost it


def test_a_duplicate_worker_name_is_refused_until_the_holder_goes(fleet_db):
    held = claim_worker_name(fleet_db, "ingest-2", ttl_s=30)
    with pytest.raises(NameTaken) as refused:
        claim_worker_name(fleet_db, "ingest-2", ttl_s=30, wait_s=0)
    assert "'ingest-2'" in str(refused.value) and "--worker" in str(refused.value)
    assert held.holder in str(refused.value)
    other = claim_worker_name(fleet_db, "ingest-3", ttl_s=30, wait_s=0)  # another name: fine
    assert other.held
    held.release()  # a clean stop: the name is free at once
    again = claim_worker_name(fleet_db, "ingest-2", ttl_s=30, wait_s=0)
    assert again.held and again.holder != held.holder


def test_a_dead_workers_name_is_taken_once_its_lease_expires(fleet_db):
    claim_worker_name(fleet_db, "ingest-4", ttl_s=1)  # never renewed nor released: "killed"
    began = time.monotonic()
    restarted = claim_worker_name(fleet_db, "ingest-4", ttl_s=1, wait_s=10)
    assert restarted.held
    assert time.monotonic() - began < 10  # bounded: taken once expired, not at the limit


def _ingest(config: Path, worker: str, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "fleet.cli", "ingest", "--config",
                             str(config), "--worker", worker], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=open(log, "w"))


def test_a_second_ingest_process_with_the_same_name_exits_with_a_clear_error(
        db_url, tmp_path, reserved_port):
    # no broker listens on the reserved port: the workers keep retrying, which is enough
    # for the name's lease (held and renewed from the start)
    config = tmp_path / "fleet.toml"
    config.write_text(f'db = "{db_url}"\nmqtt = "mqtt://127.0.0.1:{reserved_port}"\n'
                      "worker_lease_s = 2\n", encoding="utf-8")
    first = _ingest(config, "ingest-7", tmp_path / "first.log")
    try:
        deadline = time.monotonic() + 60
        while "lease worker:ingest-7 taken" not in (tmp_path / "first.log").read_text():
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline, "the first worker never held its name"
            time.sleep(0.1)
        second = _ingest(config, "ingest-7", tmp_path / "second.log")
        assert second.wait(60) == 2
        err = (tmp_path / "second.log").read_text()
        assert "ingest worker name 'ingest-7' is in use by" in err and "--worker" in err
        assert first.poll() is None  # the first one is untouched
    finally:
        first.terminate()
        first.wait(30)
    # stopped cleanly, the first released the name: a new worker takes it straight away
    third = _ingest(config, "ingest-7", tmp_path / "third.log")
    try:
        deadline = time.monotonic() + 60
        while "lease worker:ingest-7 taken" not in (tmp_path / "third.log").read_text():
            assert third.poll() is None, (tmp_path / "third.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        third.terminate()
        third.wait(30)

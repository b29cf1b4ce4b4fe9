"""The must-show ingest test: 100,000 records from 1,000 simulated terminals over TLS with
the per-terminal ACL, two ingest workers on one shared subscription, one worker SIGKILLed and
restarted and the broker restarted once; every rating and event is stored exactly once.
Runs against real SQLite and real PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fleet.broker import BrokerSpec, MosquittoProcess, TerminalEntry, free_port
from fleet.db import Database
from fleet.models import Event, Rating
from fleet.pki import TestCA
from fleet.simulate import DEFAULT_REGIONS, record_id

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]
REPO = Path(__file__).resolve().parents[2]
TERMINALS = int(os.environ.get("FLEET_SCALE_TERMINALS", "1000"))
RECORDS = int(os.environ.get("FLEET_SCALE_RECORDS", "100"))  # per terminal
SEED = 7


def _pki(directory: Path, ids: list[str]) -> TestCA:
    ca = TestCA(directory)
    ca.init()
    ca.server()
    ca.client("fleet")
    for ident in ids:
        ca.client(ident)
    return ca


def _spawn(args: list[str], log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "fleet.cli", *args], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=open(log, "a"))


def _wait_line(proc: subprocess.Popen[str], word: str, timeout: float) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if word in line:
            return line
        if not line and proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}) before {word!r}")
    raise AssertionError(f"no {word!r} within {timeout} s")


def _count(db: Database, model) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_two_workers_a_kill_and_a_broker_restart_lose_nothing_and_store_once(db_url,
                                                                             tmp_path):
    ids = [f"SIM-{i:05d}" for i in range(TERMINALS)]
    ca = _pki(tmp_path / "pki", ids)
    spec = BrokerSpec(tmp_path / "broker", port=free_port(), ca_file=ca.ca.cert,
                      cert_file=tmp_path / "pki" / "server.pem",
                      key_file=tmp_path / "pki" / "server.key",
                      terminals=[TerminalEntry(t, DEFAULT_REGIONS[i % len(DEFAULT_REGIONS)])
                                 for i, t in enumerate(ids)])
    broker = MosquittoProcess(spec)
    broker.start()
    db = Database(db_url)
    db.upgrade()
    url = f"mqtts://127.0.0.1:{spec.port}"
    common = ["--db", db_url, "--mqtt", url, "--pki", str(tmp_path / "pki")]
    logs = tmp_path / "logs"
    logs.mkdir()
    procs: list[subprocess.Popen[str]] = []
    try:
        workers = {}
        for name in ("w1", "w2"):
            workers[name] = _spawn(["ingest", *common, "--worker", name], logs / f"{name}.log")
            procs.append(workers[name])
            _wait_line(workers[name], "subscribed", 60)
        sim = _spawn(["simulate", "--terminals", str(TERMINALS), "--broker", url, "--pki",
                      str(tmp_path / "pki"), "--records", str(RECORDS), "--seed", str(SEED),
                      "--seconds", "900"], logs / "sim.log")
        procs.append(sim)
        progress: list[dict] = []

        def read_sim() -> None:
            assert sim.stdout is not None
            for line in sim.stdout:
                if line.startswith("{"):
                    progress.append(json.loads(line))

        reader = threading.Thread(target=read_sim, daemon=True)
        reader.start()
        total = TERMINALS * RECORDS

        def stored() -> int:
            return _count(db, Rating) + _count(db, Event)

        def wait_until(pred, timeout: float) -> None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not pred():
                time.sleep(0.5)
            assert pred(), f"timed out: stored {stored()} of {total}; sim {progress[-1:]}"

        # one worker is SIGKILLed mid-stream and comes back with the same session
        wait_until(lambda: stored() >= total * 0.2, 900)
        workers["w1"].send_signal(signal.SIGKILL)
        workers["w1"].wait(10)
        time.sleep(2)
        workers["w1"] = _spawn(["ingest", *common, "--worker", "w1"], logs / "w1.log")
        procs.append(workers["w1"])
        _wait_line(workers["w1"], "subscribed", 60)
        # the broker restarts once (its persistence keeps the queued messages)
        wait_until(lambda: stored() >= total * 0.5, 900)
        broker.restart()
        wait_until(lambda: stored() >= total, 1200)
        sim.wait(120)
        reader.join(10)
        assert progress and progress[-1].get("done") is True, progress[-1:]
        time.sleep(3)  # anything still in flight would be a duplicate: give it time to land
        expected = {record_id(SEED, t, i) for t in ids for i in range(RECORDS)}
        with db.session() as s:
            got_ratings = list(s.scalars(select(Rating.id)))
            got_events = list(s.scalars(select(Event.id)))
            from fleet.ingest import stats

            figures = stats(s)
        assert len(got_ratings) == total // 2 == progress[-1]["ratings"]
        assert len(got_events) == total - total // 2 == progress[-1]["events"]
        assert set(got_ratings) | set(got_events) == expected
        assert figures["invalid"] == 0
        assert figures["received"] >= total
        assert set(figures["by_worker"]) == {"w1", "w2"}
        print(f"\n{db.dialect}: {total} records stored once; received {figures['received']}, "
              f"duplicates {figures['duplicates']}; sim {progress[-1]}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
            if proc.stdout:
                proc.stdout.close()
        broker.stop()
        db.dispose()

"""Fleet server benchmarks (SQLite and PostgreSQL): ingest throughput and API latency.

* ingest: two ``kiosk-fleet ingest`` workers on one shared subscription of a local mosquitto
  (TLS); a backlog of records (ratings, session events and health, 2:1:1) waits in the
  broker for their persistent sessions, then both start; records stored per second from
  start to the last one stored. Target: at least 5,000/s on the 2-core machine.
* API: 5,000 terminals and 1,000,000 ratings stored (bulk-loaded with their per-day counts),
  ``kiosk-fleet serve`` on a free port; p50/p95 of ``GET /api/v1/terminals`` (a page of 100,
  a region filter) and ``GET /api/v1/ratings/summary`` (all, a region and a month, grouped by
  terminal). Target: p95 under 200 ms.

Run: ``KIOSK_BENCH=1 .venv/bin/python -m pytest -q -s tests/bench/bench_fleet.py
-o python_files='bench_*.py'`` or ``kiosk bench -k fleet``. ``FLEET_BENCH_RATINGS`` and
``FLEET_BENCH_BACKLOG`` scale it down for a quick look.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fleet.broker import BrokerSpec, MosquittoProcess, TerminalEntry, free_port
from fleet.db import Database
from fleet.ingest import insert_for
from fleet.models import (
    Rating,
    RatingCount,
    RatingRegionDay,
    RatingTerminalDay,
    SessionCount,
    SessionRegionDay,
    Terminal,
)
from fleet.pki import TestCA
from fleet.services import users
from fleet.testing import PostgresServer, ServerProcess, health, rating, session_event

pytestmark = [
    pytest.mark.bench,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(not os.environ.get("KIOSK_BENCH"), reason="set KIOSK_BENCH=1 to run"),
]
REPO = Path(__file__).resolve().parents[2]
BACKLOG = int(os.environ.get("FLEET_BENCH_BACKLOG", "40000"))
TERMINALS = 5000
RATINGS = int(os.environ.get("FLEET_BENCH_RATINGS", "1000000"))
REQUESTS = 200
REGIONS = ("370102", "370103", "370112", "370202", "370203", "370602", "370702", "370802")
LEVELS = (("very_satisfied", 62), ("satisfied", 24), ("basic", 8), ("dissatisfied", 4),
          ("very_dissatisfied", 2))


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- ingest ------------------------------------------------------------------------------------
def measure_ingest(directory: Path, db_url: str, count: int = BACKLOG) -> dict[str, float]:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    terminals = [TerminalEntry(f"BN-{i:04d}", REGIONS[i % len(REGIONS)]) for i in range(200)]
    ca = TestCA(directory / "pki")
    ca.init()
    ca.server()
    ca.client("fleet")
    ca.client("loader")
    spec = BrokerSpec(directory / "broker", port=free_port(), ca_file=ca.ca.cert,
                      cert_file=directory / "pki" / "server.pem",
                      key_file=directory / "pki" / "server.key", terminals=terminals,
                      fleet_users=["fleet"], max_queued_messages=2_000_000)
    broker = MosquittoProcess(spec)
    with open(spec.directory / "acl", "a") as acl:  # the loader writes terminals' topics
        acl.write("\nuser loader\ntopic write kiosk/v1/#\n")
    broker.start()
    url = f"mqtts://127.0.0.1:{spec.port}"
    db = Database(db_url)
    db.upgrade()
    common = ["--db", db_url, "--mqtt", url, "--pki", str(directory / "pki")]
    procs: list[subprocess.Popen[str]] = []
    try:
        # both workers subscribe once (persistent sessions), then go away
        for name in ("b1", "b2"):
            proc = _spawn(["ingest", *common, "--worker", name], directory / f"{name}.log")
            _wait_line(proc, "subscribed", 60)
            proc.terminate()
            proc.wait(20)
        # the backlog: published by a fleet identity allowed to write (a loader stands in
        # for a thousand terminals, so the broker, not the publisher, sets the pace)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="loader",
                             protocol=mqtt.MQTTv311)
        client.tls_set(ca_certs=str(ca.ca.cert), certfile=str(directory / "pki" / "loader.pem"),
                       keyfile=str(directory / "pki" / "loader.key"))
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.connect("127.0.0.1", spec.port)
        client.loop_start()
        infos = []
        for i in range(count):
            term = terminals[i % len(terminals)]
            kind = ("rating", "rating", "event", "health")[i % 4]
            if kind == "rating":
                body = rating(term.id, term.region, _level(random.Random(i)))
            elif kind == "event":
                body = session_event(term.id)
            else:
                body = health(term.id)
            infos.append(client.publish(f"kiosk/v1/{term.region}/{term.id}/{kind}",
                                        json.dumps(body), qos=1))
        for info in infos:
            info.wait_for_publish(120)
        client.disconnect()
        client.loop_stop()
        for name in ("b1", "b2"):
            procs.append(_spawn(["ingest", *common, "--worker", name],
                                directory / f"{name}.log"))
        for proc in procs:  # start-up (imports, migrations check, retained snapshot) excluded
            _wait_line(proc, "subscribed", 120)
        started = time.perf_counter()
        base = _stored(db)
        deadline = time.monotonic() + 1800
        stored = 0
        while time.monotonic() < deadline:
            stored = _stored(db)
            if stored >= count:
                break
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        result: dict[str, Any] = {"records": count, "stored": stored, "seconds": elapsed,
                                  "per_s": (stored - base) / elapsed, "before_timing": base}
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(20)
        broker.stop()
        db.dispose()
    # the workers' own timing counters (fleet.worker), logged when they stop
    result["workers"] = []
    for name in ("b1", "b2"):
        lines = [line.split(f"ingest worker {name}: ", 1)[-1].strip()
                 for line in (directory / f"{name}.log").read_text().splitlines()
                 if f"ingest worker {name}: " in line and " messages in " in line]
        result["workers"] += [f"{name}: {lines[-1]}"] if lines else []
    return result


def _stored(db: Database) -> int:
    from sqlalchemy import func, select

    from fleet.models import Event, HealthSample

    with db.session() as s:
        return sum(int(s.scalar(select(func.count()).select_from(m)) or 0)
                   for m in (Rating, Event, HealthSample))


def _level(rng: random.Random) -> str:
    x = rng.randrange(100)
    for level, share in LEVELS:
        if x < share:
            return level
        x -= share
    return "satisfied"


def _spawn(args: list[str], log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "fleet.cli", *args], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=open(log, "a"))


def _wait_line(proc: subprocess.Popen[str], word: str, timeout: float) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if word in line:
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"exited before {word!r}")
    raise AssertionError(f"no {word!r}")


# -- API latency -------------------------------------------------------------------------------
def load_fleet(db: Database, ratings: int = RATINGS, terminals: int = TERMINALS) -> None:
    """5,000 terminals and ``ratings`` ratings over a year, with their per-day counts."""
    rng = random.Random(5)
    now = int(time.time() * 1000)
    first_day = date.today() - timedelta(days=365)
    with db.session() as s:
        insert = insert_for(s)
        rows = []
        for i in range(terminals):
            region = REGIONS[i % len(REGIONS)]
            rows.append({"id": f"LT-{i:05d}", "region_code": region, "site": f"{region} 中心",
                         "name": f"终端 {i}", "latitude": 36 + rng.random(),
                         "longitude": 117 + rng.random(), "timezone": "Asia/Shanghai",
                         "opening_hours": [], "services": ["queue", "rating"],
                         "version": "0.1.0", "profile": "hall", "config_hash": "0" * 16,
                         "device_types": {"printer": "escpos"}, "online": rng.random() < 0.9,
                         "presence_reason": "", "drops": [], "health": health(
                             f"LT-{i:05d}")["values"], "health_ts": now, "last_seen": now})
        s.execute(insert(Terminal), rows)
    counts: dict[tuple, int] = {}
    sessions: dict[tuple, int] = {}
    batch: list[dict] = []
    for n in range(ratings):
        t = rng.randrange(terminals)
        term, region = f"LT-{t:05d}", REGIONS[t % len(REGIONS)]
        day = first_day + timedelta(days=rng.randrange(365))
        level = _level(rng)
        item = f"ITEM-{rng.randrange(40):03d}"
        ts = int(time.mktime(day.timetuple()) * 1000) + rng.randrange(86_400_000)
        batch.append({"id": uuid.UUID(int=rng.getrandbits(128)).hex, "terminal": term,
                      "region_code": region, "ts": ts, "day": day, "item_code": item,
                      "item_name": "", "handling_number": "", "level": level,
                      "gbt39046_code": 1, "assess_number": 1, "reasons": [], "text": "",
                      "source": "pad", "user_prop": None, "identified": False,
                      "real_name_sealed": None, "key_id": None, "received": ts})
        key = (day, term, item, level, region)
        counts[key] = counts.get(key, 0) + 1
        skey = (day, term, "completed", region)
        sessions[skey] = sessions.get(skey, 0) + (1 if rng.random() < 0.7 else 2)
        if len(batch) >= 20_000 or n == ratings - 1:
            with db.session() as s:
                s.execute(insert_for(s)(Rating), batch)
            batch = []
    with db.session() as s:
        ins = insert_for(s)
        items = [{"day": k[0], "terminal": k[1], "item_code": k[2], "level": k[3],
                  "region_code": k[4], "count": v} for k, v in counts.items()]
        for start in range(0, len(items), 20_000):
            s.execute(ins(RatingCount), items[start:start + 20_000])
        items = [{"day": k[0], "terminal": k[1], "outcome": k[2], "region_code": k[3],
                  "count": v} for k, v in sessions.items()]
        for start in range(0, len(items), 20_000):
            s.execute(ins(SessionCount), items[start:start + 20_000])
        coarse: dict[type, dict[tuple, int]] = {RatingTerminalDay: {}, RatingRegionDay: {},
                                                SessionRegionDay: {}}
        for (day, term, _item, level, region), v in counts.items():
            d = coarse[RatingTerminalDay]
            d[(day, term, level, region)] = d.get((day, term, level, region), 0) + v
            d = coarse[RatingRegionDay]
            d[(day, region, level)] = d.get((day, region, level), 0) + v
        for (day, _term, outcome, region), v in sessions.items():
            d = coarse[SessionRegionDay]
            d[(day, region, outcome)] = d.get((day, region, outcome), 0) + v
        shapes = {RatingTerminalDay: ("day", "terminal", "level", "region_code"),
                  RatingRegionDay: ("day", "region_code", "level"),
                  SessionRegionDay: ("day", "region_code", "outcome")}
        for model, data in coarse.items():
            items = [{**dict(zip(shapes[model], k, strict=True)), "count": v}
                     for k, v in data.items()]
            for start in range(0, len(items), 20_000):
                s.execute(ins(model), items[start:start + 20_000])
    if db.dialect == "postgresql":  # what autovacuum does to a loaded table: statistics,
        # and the visibility map that lets the covering indexes answer alone
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")


def measure_api(directory: Path, db_url: str) -> dict[str, dict[str, float]]:
    db = Database(db_url)
    db.upgrade()
    began = time.perf_counter()
    load_fleet(db)
    loaded_s = time.perf_counter() - began
    with db.session() as s:
        token = users.create_token(s, "bench", "viewer")[1]
    db.dispose()
    month = (date.today() - timedelta(days=60)).replace(day=1)
    paths = {
        "terminals page": "/api/v1/terminals?per_page=100&page=7",
        "terminals region": "/api/v1/terminals?region=370202&per_page=100",
        "summary all": "/api/v1/ratings/summary",
        "summary region+month by terminal": f"/api/v1/ratings/summary?region=370102&from="
        f"{month}&to={month.replace(day=28)}&group_by=terminal",
        "summary by region": "/api/v1/ratings/summary?group_by=region",
    }
    out: dict[str, dict[str, float]] = {"load": {"seconds": loaded_s}}
    with ServerProcess(["--db", db_url, "--no-ingest"], log_path=directory / "serve.log") as srv:
        with httpx.Client(base_url=srv.url, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            for name, path in paths.items():
                assert http.get(path).status_code == 200, path  # warm
                samples = []
                for _ in range(REQUESTS):
                    started = time.perf_counter()
                    resp = http.get(path)
                    samples.append((time.perf_counter() - started) * 1000)
                    assert resp.status_code == 200
                out[name] = {"p50_ms": statistics.median(samples), "p95_ms": _pct(samples, 95)}
    return out


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


def _url(kind: str, directory: Path, pg: PostgresServer, name: str) -> str:
    return f"sqlite:///{directory / name}" if kind == "sqlite" else pg.database()


def _load_average() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_fleet_bench_ingest(kind: str, tmp_path: Path, pg: PostgresServer) -> None:
    before = _load_average()
    ing = measure_ingest(tmp_path, _url(kind, tmp_path, pg, "ingest.db"))
    print(f"\n[{kind}] ingest, 2 workers, TLS, ratings:events:health 2:1:1: "
          f"{ing['stored']:.0f} records in {ing['seconds']:.1f} s = "
          f"{ing['per_s']:.0f} records/s (target >= 5000/s); {before} before, "
          f"{_load_average()} after")
    for line in ing["workers"]:
        print(f"    worker: {line}")
    assert ing["stored"] >= ing["records"]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_fleet_bench_api(kind: str, tmp_path: Path, pg: PostgresServer) -> None:
    api = measure_api(tmp_path, _url(kind, tmp_path, pg, "api.db"))
    print(f"\n[{kind}] {TERMINALS} terminals, {RATINGS} ratings loaded in "
          f"{api.pop('load')['seconds']:.0f} s; API latency over {REQUESTS} requests "
          f"(target p95 < 200 ms), {_load_average()}:")
    for name, fig in api.items():
        print(f"    {name:38s} p50 {fig['p50_ms']:6.1f} ms   p95 {fig['p95_ms']:6.1f} ms")
    assert all(fig["p50_ms"] > 0 for fig in api.values())


if __name__ == "__main__":
    os.environ["KIOSK_BENCH"] = "1"
    raise SystemExit(pytest.main(["-q", "-s", __file__, "-o", "python_files=bench_*.py"]))

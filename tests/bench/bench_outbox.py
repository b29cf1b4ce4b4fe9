"""Outbox benchmarks: write cost per record, and drain rate after reconnect.

* write cost: one durable ``Outbox.put`` (WAL, synchronous=FULL: a synced commit) of a real
  rating payload, and the whole ``Reporter.rate`` (check, seal the real-name part, encode,
  put) as the UI pays it;
* drain rate: 10,000 ratings wait in the outbox, the reporter connects to a local mosquitto
  and publishes them at QoS 1, deleting each on its PUBACK; records per second from connect
  to an empty outbox, over TLS and over plain loopback. Target: at least 2,000/s.

Run: ``KIOSK_BENCH=1 .venv/bin/python -m pytest -q -s tests/bench/bench_outbox.py
-o python_files='bench_*.py'`` or ``.venv/bin/python tests/bench/bench_outbox.py``.
"""

from __future__ import annotations

import base64
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from nacl.public import PrivateKey

from fleet.lab import FleetLab
from kiosk.outbox import Outbox
from kiosk.ratings.records import RatingRecordBuilder, RatingSettings, RealNamePart
from kiosk.telemetry import payloads
from kiosk.telemetry.reporter import Reporter
from kiosk.telemetry.topics import Topics

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(not os.environ.get("KIOSK_BENCH"), reason="set KIOSK_BENCH=1 to run"),
]

WRITES = 2000
DRAIN = 10_000
TARGET_PER_S = 2000.0


def _builder() -> RatingRecordBuilder:
    key = base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()
    return RatingRecordBuilder("JN-BENCH-01", "370102", settings=RatingSettings(
        evaluation_public_key=key))


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure_writes(directory: Path, count: int = WRITES) -> dict[str, float]:
    builder = _builder()
    topic = Topics("kiosk/v1", "370102", "JN-BENCH-01").rating
    record = builder.build(item_code="371500-001", level="dissatisfied", reasons=["等待时间长"],
                           handling_number="H000001",
                           real_name=RealNamePart("张三", "370102199001011234"))
    body = payloads.encode(payloads.rating(record))
    put_us: list[float] = []
    with Outbox(directory / "writes.db") as box:
        for i in range(count):
            started = time.perf_counter()
            box.put(f"w{i}", "rating", topic, body)
            put_us.append((time.perf_counter() - started) * 1e6)
    rate_us: list[float] = []
    with Outbox(directory / "rate.db") as box:
        for _ in range(count // 4):
            started = time.perf_counter()
            rec = builder.build(item_code="371500-001", level="very_dissatisfied",
                                reasons=["操作复杂"], handling_number="H1",
                                real_name=RealNamePart("张三", "370102199001011234"))
            box.put(rec.id, "rating", topic, payloads.encode(payloads.rating(rec)))
            rate_us.append((time.perf_counter() - started) * 1e6)
    return {"payload_bytes": len(body), "put_median_us": statistics.median(put_us),
            "put_p95_us": _pct(put_us, 95), "rate_median_us": statistics.median(rate_us),
            "rate_p95_us": _pct(rate_us, 95)}


def measure_drain(directory: Path, tls: bool, count: int = DRAIN) -> dict[str, float]:
    terminal = "JN-BENCH-01"
    with FleetLab(directory, terminals=[(terminal, "370102")], plain=not tls) as lab:
        receiver = lab.receiver()
        receiver.start()
        assert receiver.wait_connected(5)
        config = lab.kiosk_config(terminal)
        if not tls:
            config = config.model_copy(update={"mqtt": config.mqtt.model_copy(update={
                "url": f"mqtt://127.0.0.1:{lab.plain_port}", "ca_file": "", "cert_file": "",
                "key_file": ""})})
        builder = _builder()
        outbox_path = directory / "drain.db"
        topic = Topics.from_config(config).rating
        with Outbox(outbox_path) as box:  # the backlog built up while offline
            for i in range(count):
                rec = builder.build(item_code=f"X{i % 50}", level="satisfied",
                                    handling_number=f"H{i}")
                box.put(rec.id, "rating", topic, payloads.encode(payloads.rating(rec)))
        reporter = Reporter(config, dict, outbox_path, fleet=lab.fleet_settings())
        reporter.start()
        try:
            assert reporter.wait_connected(10)
            started = time.perf_counter()
            assert reporter.wait_drained(120), reporter.status()
            elapsed = time.perf_counter() - started
        finally:
            reporter.stop()
        arrived = receiver.wait_for(lambda: receiver.count("rating") >= count, 60)
        return {"records": count, "seconds": elapsed, "per_s": count / elapsed,
                "all_arrived": float(arrived), "duplicates": receiver.duplicates}


def report(directory: Path) -> dict[str, dict[str, float]]:
    writes = measure_writes(directory)
    print(f"\noutbox write cost ({writes['payload_bytes']} B rating payload, WAL, "
          f"synchronous=FULL): put median {writes['put_median_us']:.0f} µs, "
          f"p95 {writes['put_p95_us']:.0f} µs; Reporter.rate (check + seal + encode + put) "
          f"median {writes['rate_median_us']:.0f} µs, p95 {writes['rate_p95_us']:.0f} µs")
    out = {"writes": writes}
    for tls in (True, False):
        sub = directory / ("tls" if tls else "plain")
        sub.mkdir()
        drain = measure_drain(sub, tls)
        out["drain_tls" if tls else "drain_plain"] = drain
        print(f"outbox drain after reconnect ({'mqtts' if tls else 'mqtt'}, QoS 1, local "
              f"mosquitto): {drain['records']:.0f} records in {drain['seconds']:.2f} s = "
              f"{drain['per_s']:.0f} records/s (target >= {TARGET_PER_S:.0f}/s); all at the "
              f"fleet receiver: {bool(drain['all_arrived'])}")
    return out


@pytest.mark.skipif(shutil.which("mosquitto") is None, reason="needs mosquitto")
def test_outbox_bench(tmp_path: Path) -> None:
    figures = report(tmp_path)
    assert figures["writes"]["put_median_us"] > 0
    assert figures["drain_tls"]["all_arrived"] and figures["drain_plain"]["all_arrived"]
    assert figures["drain_plain"]["per_s"] >= TARGET_PER_S
    assert figures["drain_tls"]["per_s"] >= TARGET_PER_S


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as tmp:
        report(Path(tmp))

"""Self-test benchmark: the fleet round trip's time, as `kiosk-provision selftest` reports it.

A TLS mosquitto (``fleet.lab.FleetLab``), a real ``kiosk-fleet ingest`` with the lab's command
key; 20 round trips with the self-test's own client (each: TLS connect, subscribe, the nonce
event up, the ingest's batch committed, the signed echo down and verified). Printed: the
round-trip figures the check reports (from publishing the event to the verified echo) and the
whole check's time including the TLS connection.

Run: ``KIOSK_BENCH=1 .venv/bin/python -m pytest -q -s tests/bench/bench_selftest.py
-o python_files='bench_*.py'`` or ``.venv/bin/python tests/bench/bench_selftest.py``.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fleet_stack import lab_ingest

from fleet.lab import FleetLab
from provisioning.selftest_fleet import check_fleet

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(not os.environ.get("KIOSK_BENCH"), reason="set KIOSK_BENCH=1 to run"),
]
ROUNDS = 20


def report(rounds: int = ROUNDS) -> str:
    with tempfile.TemporaryDirectory(prefix="bench-selftest-") as tmp:
        lab = FleetLab(Path(tmp) / "lab", terminals=[("JN-BENCH-1", "370102")]).start()
        try:
            with lab_ingest(lab, Path(tmp) / "fleet"):
                config = lab.kiosk_config("JN-BENCH-1").model_copy(
                    update={"fleet": lab.fleet_settings()})
                trips, wholes = [], []
                for _ in range(rounds):
                    began = time.perf_counter()
                    _broker, trip = check_fleet(config, echo_wait_s=10)
                    wholes.append((time.perf_counter() - began) * 1000)
                    found = re.fullmatch(r"signed echo after (\d+) ms", trip.detail)
                    if found is None:
                        return f"fleet round trip failed: {trip.detail}"
                    trips.append(float(found.group(1)))
        finally:
            lab.close()
    return (f"self-test fleet round trip over TLS, {rounds} runs, one ingest worker "
            f"(batch_wait_s 0.05): median {statistics.median(trips):.0f} ms, max "
            f"{max(trips):.0f} ms; whole check with its TLS connection: median "
            f"{statistics.median(wholes):.0f} ms")


def test_bench_selftest_round_trip() -> None:
    text = report()
    print("\n" + text)
    assert "median" in text, text


if __name__ == "__main__":
    print(report())

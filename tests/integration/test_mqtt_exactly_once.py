"""Must show: against a real mosquitto with TLS, 5,000 ratings produced while the broker is
stopped and restarted three times and the kiosk process is killed with SIGKILL twice arrive
exactly once after dedupe, none lost (this test counts them)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from fleet.lab import FleetLab
from fleet.schemas import errors
from kiosk.telemetry.loadgen import last_index, record_id

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 5000
RATE = 600  # ratings per second produced by the kiosk process


def wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_5000_ratings_arrive_exactly_once(tmp_path: Path) -> None:
    terminal = "JN-SOAK-01"
    with FleetLab(tmp_path, terminals=[(terminal, "370102")]) as lab:
        receiver = lab.receiver()
        receiver.start()
        assert receiver.wait_connected(5)
        config = lab.kiosk_config(terminal).model_dump(mode="json")
        progress = tmp_path / "progress.txt"
        setup = tmp_path / "setup.json"
        setup.write_text(json.dumps({
            "config": config, "fleet": {"command_keys": []},
            "outbox": str(tmp_path / "kiosk" / "outbox.db"), "progress": str(progress),
            "run": "soak", "reconnect_delay": [0.1, 0.5]}))

        procs: list[subprocess.Popen[bytes]] = []

        def spawn() -> subprocess.Popen[bytes]:
            proc = subprocess.Popen(
                [sys.executable, "-m", "kiosk.telemetry.loadgen", "--setup", str(setup),
                 "--count", str(TOTAL), "--rate", str(RATE), "--linger", "60"],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": str(ROOT)})
            procs.append(proc)
            return proc

        def produced_at_least(n: int, timeout: float = 30) -> None:
            wait(lambda: last_index(progress) + 1 >= n, timeout, f"{n} ratings produced")

        def kill(proc: subprocess.Popen[bytes]) -> None:
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(10) == -signal.SIGKILL

        try:
            kiosk = spawn()
            produced_at_least(600)
            lab.broker.stop()  # 1st broker stop: ratings wait in the outbox
            produced_at_least(1100)
            lab.broker.start()
            produced_at_least(1500)
            wait(lambda: (receiver.state(terminal, "state") or {}).get("values", {}).get(
                "online") is True, 10, "presence online")
            kill(kiosk)  # 1st SIGKILL, broker up: the Last Will says offline
            wait(lambda: receiver.state(terminal, "state")["values"] == {
                "online": False, "reason": "connection lost"}, 10, "Last Will")
            kiosk = spawn()
            produced_at_least(2200)
            lab.broker.stop()  # 2nd broker stop
            produced_at_least(2700)
            kill(kiosk)  # 2nd SIGKILL, while the broker is down
            kiosk = spawn()
            produced_at_least(2900)
            lab.broker.start()
            produced_at_least(3600)
            lab.broker.stop()  # 3rd broker stop
            produced_at_least(4200)
            lab.broker.start()
            out, err = kiosk.communicate(timeout=90)
            assert kiosk.returncode == 0, err.decode()[-2000:]
            summary = json.loads(out.decode().strip().splitlines()[-1])
            assert summary["drained"] is True and summary["depth"] == 0, summary
            wait(lambda: receiver.count("rating") >= TOTAL, 30, "all ratings at the fleet")
            time.sleep(0.5)  # late duplicates, if any, would land now
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(10)
                for stream in (proc.stdout, proc.stderr):
                    if stream:
                        stream.close()

        ids = receiver.ids("rating")
        expected = {record_id("soak", i) for i in range(TOTAL)}
        assert len(procs) == 3
        assert receiver.count("rating") == TOTAL  # exactly once after dedupe
        assert ids == expected  # none lost, none invented
        print(f"\n5000 ratings: {receiver.deliveries} deliveries, {receiver.duplicates} "
              f"duplicates removed by id, {receiver.rejected} rejected")
        assert receiver.rejected == 0
        sample = receiver.records("rating")[:: TOTAL // 10]
        for payload in sample:
            assert errors(payload) == []
        final = receiver.state(terminal, "state")
        assert final["values"] == {"online": False, "reason": "shutdown"}

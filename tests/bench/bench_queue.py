"""Queue benchmarks: tickets per second and issue latency.

- embedded engine: tickets/s from one thread and from 4 threads on one database
  (synchronous FULL, the default, and NORMAL for comparison);
- hall server (``python -m kiosk.queue serve`` in its own process, loopback, FastAPI +
  uvicorn, kiosk keys checked on every request): tickets/s from
  8 client threads, and the median and p95 time of ``issue_ticket`` (what the 取号 screen calls
  on a tap) from a kiosk, alone and while another kiosk issues at full speed.
  Target: p95 under 100 ms against the hall server on loopback.

Run: ``KIOSK_BENCH=1 .venv/bin/python -m pytest -q -s tests/bench/bench_queue.py
-o python_files='bench_*.py'`` or ``.venv/bin/python tests/bench/bench_queue.py``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from kiosk.queue import HttpQueueService, QueueEngine, QueueSettings  # noqa: E402
from kiosk.queue.loadgen import run as loadgen  # noqa: E402

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(not os.environ.get("KIOSK_BENCH"), reason="set KIOSK_BENCH=1 to run"),
]

SETTINGS = """
[queue]
categories = [
  {code = "A", name = "综合业务", daily_capacity = 999},
  {code = "B", name = "社保医保", daily_capacity = 999},
  {code = "C", name = "不动产登记", daily_capacity = 999},
  {code = "D", name = "公积金", daily_capacity = 999},
  {code = "E", name = "税务", daily_capacity = 999},
  {code = "F", name = "公安", daily_capacity = 999},
]
windows = [{id = "1", categories = ["A", "B", "C", "D", "E", "F"]}]
"""
CATEGORIES = list("ABCDEF")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def embedded_rate(folder: Path, threads: int, count: int, synchronous: str) -> float:
    settings = QueueSettings.model_validate({**_settings_dict(), "synchronous": synchronous})
    engine = QueueEngine(folder / f"embedded-{threads}-{synchronous}.sqlite", settings)
    per = count // threads

    def work(offset: int) -> None:
        for i in range(per):
            engine.issue_ticket(CATEGORIES[(offset + i) % len(CATEGORIES)])

    started = time.perf_counter()
    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    engine.close()
    return per * threads / elapsed


def _settings_dict() -> dict:
    import tomllib

    return tomllib.loads(SETTINGS)["queue"]


# the hand-written http.server hall server before the move to FastAPI + uvicorn (same VM,
# docs/queue.md before issue 14), for comparison
OLD_STACK = ("old stack (stdlib http.server, no auth): 650-750 tickets/s with 8 client threads; "
             "issue_ticket median 1-4 ms, p95 1.5-8 ms")


class HallServer:
    def __init__(self, folder: Path) -> None:
        settings = folder / "queue.toml"
        settings.write_text(SETTINGS, encoding="utf-8")
        (folder / "secret").mkdir(mode=0o700, exist_ok=True)
        db = folder / "db" / "hall.sqlite"
        db.parent.mkdir(exist_ok=True)
        from zoneinfo import ZoneInfo

        from kiosk.queue.hall import HallStore

        hall = HallStore(db, ZoneInfo("Asia/Shanghai"), synchronous="normal")
        self.keys = {t: hall.add_terminal(t) for t in ("bench", "other", "kiosk")}
        hall.close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk.queue", "serve", "--db", str(db),
             "--port", "0", "--settings", str(settings), "--log-level", "WARNING",
             "--key-file", str(folder / "secret" / "id.key")],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
            text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert "listening on" in line, line
        self.url = line.split("listening on ")[1].split(" ")[0]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def latency(url: str, count: int, key: str) -> list[float]:
    client = HttpQueueService(url, timeout_s=5, retries=2, api_key=key)
    client.categories()  # warm-up: connection, server caches
    samples = []
    for i in range(count):
        started = time.perf_counter()
        client.issue_ticket(CATEGORIES[i % len(CATEGORIES)])
        samples.append((time.perf_counter() - started) * 1000)
    client.close()
    return samples


def report() -> str:
    lines = []
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        folder = Path(tmp)
        for sync in ("full", "normal"):
            one = embedded_rate(folder, 1, 1200, sync)
            four = embedded_rate(folder, 4, 1200, sync)
            lines.append(f"embedded engine, synchronous {sync}: {one:,.0f} tickets/s (1 thread), "
                         f"{four:,.0f} tickets/s (4 threads)")
        server = HallServer(folder)
        try:
            idle = latency(server.url, 300, server.keys["kiosk"])
            result = loadgen(server.url, 1800, 8, CATEGORIES, terminal="bench",
                             api_key=server.keys["bench"])
            assert not result["errors"], result["errors"][:3]
            rate = len(result["tickets"]) / result["seconds"]
            lines.append(f"hall server over HTTP on loopback: {rate:,.0f} tickets/s "
                         f"(8 client threads, {len(result['tickets'])} tickets)")
            lines.append(f"issue_ticket latency, one kiosk alone (300): median "
                         f"{statistics.median(idle):.1f} ms, p95 {percentile(idle, 95):.1f} ms, "
                         f"max {max(idle):.1f} ms (target p95 < 100 ms)")
            background: dict = {}
            other = threading.Thread(target=lambda: background.update(
                loadgen(server.url, 1200, 2, CATEGORIES, terminal="other",
                        api_key=server.keys["other"])))
            other.start()
            busy = latency(server.url, 300, server.keys["kiosk"])
            other.join()
            lines.append(f"issue_ticket latency while another kiosk issues flat out (300): "
                         f"median {statistics.median(busy):.1f} ms, p95 "
                         f"{percentile(busy, 95):.1f} ms, max {max(busy):.1f} ms")
            lines.append(OLD_STACK)
        finally:
            server.stop()
    return "\n".join(lines)


def test_bench_queue() -> None:
    text = report()
    print("\n" + text)
    assert "tickets/s" in text and "p95" in text


if __name__ == "__main__":
    print(report())

"""Call-to-display latency: from a window's "call next" (staff API, HTTP) to the call event
arriving on the calling display's event stream (/display/events), through the live server on
loopback. Target: p95 under 500 ms. Also the time to make an announcement's audio (espeak-ng),
first time and cached.

Run: ``KIOSK_BENCH=1 .venv/bin/python -m pytest -q -s tests/bench/bench_queue_display.py
-o python_files='bench_*.py'`` or ``.venv/bin/python tests/bench/bench_queue_display.py``.
"""

from __future__ import annotations

import json
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from kiosk.queue import QueueEngine, QueueHttpServer, QueueSettings  # noqa: E402
from kiosk.speech import call_phrase, synthesize  # noqa: E402

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(not os.environ.get("KIOSK_BENCH"), reason="set KIOSK_BENCH=1 to run"),
]
CALLS = 200


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def listen(url: str, events: queue.Queue[tuple[float, dict]], ready: threading.Event,
           stop: threading.Event) -> None:
    with httpx.stream("GET", f"{url}/display/events", timeout=None) as response:
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
                if kind == "hello":
                    ready.set()
            elif line.startswith("data: ") and kind == "call":
                events.put((time.perf_counter(), json.loads(line[6:])))
            if stop.is_set():
                return


def report() -> str:
    lines = []
    with tempfile.TemporaryDirectory(prefix="bench-display-") as tmp:
        folder = Path(tmp)
        engine = QueueEngine(folder / "db" / "hall.sqlite", QueueSettings(synchronous="normal"),
                             key_path=folder / "secret" / "id.key")
        with QueueHttpServer(engine, speech_dir=folder / "speech") as server:
            key = server.hall.add_terminal("K-1")
            server.hall.add_staff("li", "password-1", ["1"])
            kiosk = httpx.Client(base_url=server.url, headers={"X-Api-Key": key})
            staff = httpx.Client(base_url=server.url)
            csrf = staff.post("/api/v1/session", json={"name": "li",
                                                        "password": "password-1"}).json()["csrf"]
            staff.headers["X-CSRF-Token"] = csrf
            for _ in range(CALLS):
                kiosk.post("/api/v1/tickets", json={"category": "A"})
            events: queue.Queue[tuple[float, dict]] = queue.Queue()
            ready, stop = threading.Event(), threading.Event()
            thread = threading.Thread(target=listen, args=(server.url, events, ready, stop),
                                      daemon=True)
            thread.start()
            ready.wait(10)
            samples = []
            for _ in range(CALLS):
                started = time.perf_counter()
                ticket = staff.post("/api/v1/windows/1/call-next", json={}).json()["ticket"]
                arrived, event = events.get(timeout=10)
                assert event["number"] == ticket["number"]
                samples.append((arrived - started) * 1000)
            stop.set()
            staff.post("/api/v1/windows/1/recall")  # wakes the stream so it can end
            lines.append(f"call → display event ({CALLS} calls, live server on loopback): median "
                         f"{statistics.median(samples):.1f} ms, p95 {percentile(samples, 95):.1f}"
                         f" ms, max {max(samples):.1f} ms (target p95 < 500 ms)")
            kiosk.close()
            staff.close()
        engine.close()
        cache = folder / "speech-bench"
        made = []
        for number in ("A101", "A102", "A103", "A104", "A105"):
            started = time.perf_counter()
            synthesize(call_phrase(number, "3"), cache_dir=cache)
            made.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        for _ in range(100):
            synthesize(call_phrase("A101", "3"), cache_dir=cache)
        cached = (time.perf_counter() - started) * 10
        lines.append(f"announcement audio (espeak-ng cmn): first time median "
                     f"{statistics.median(made):.0f} ms, cached {cached:.2f} ms")
    return "\n".join(lines)


def test_bench_queue_display() -> None:
    text = report()
    print("\n" + text)
    assert "p95" in text and "cached" in text


if __name__ == "__main__":
    print(report())

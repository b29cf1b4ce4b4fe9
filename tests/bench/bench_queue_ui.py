"""取号 on screen against a real hall server: the time from a tap on a category tile to the
ticket drawn on screen (median and p95; target p95 under 100 ms on loopback).

A hall server (``python -m kiosk.queue serve``, i.e. ``kiosk.queue.QueueHttpServer`` on its
own SQLite database, synchronous FULL) runs in its own process on 127.0.0.1, as it would on
the hall's machine. A kiosk app configured with ``backends.queue = {type = "http", url = …}``
runs in a child process (Kivy allows one window per process; the UI tests' shared app uses the
embedded queue) under a virtual display, driven by the pilot through Kivy's real input
pipeline. Frames are paced at 60 per second as on a kiosk (``maxfps = 60``), so a measure
includes waiting for the next frame, as a resident would.

For each ticket: a new session, 取号, wait for the tiles; then the clock starts when the finger
lifts (the tile acts on release) and stops after the frame that draws the ticket number has
been drawn. The worker's ``issue_ticket`` round trip is reported too. Between tickets the
printout finishes and the session ends.

Run: ``KIOSK_BENCH=1 .venv/bin/python -m pytest -q -s tests/bench/bench_queue_ui.py
-o python_files='bench_*.py'`` or ``.venv/bin/python tests/bench/bench_queue_ui.py [N]``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(not os.environ.get("KIOSK_BENCH"), reason="set KIOSK_BENCH=1 to run"),
]

TICKETS = 50
FRAME_S = 1 / 60
SETTINGS = """
[queue]
categories = [
  {code = "A", name = "综合业务", daily_capacity = 999},
  {code = "B", name = "社保医保", daily_capacity = 999},
  {code = "C", name = "不动产登记", daily_capacity = 999},
  {code = "D", name = "公积金", daily_capacity = 999},
]
windows = [{id = "1", area = "A区", categories = ["A", "B", "C", "D"]}]
"""


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class HallServer:
    """``kiosk queue serve`` in its own process on a free loopback port."""

    def __init__(self, folder: Path) -> None:
        settings = folder / "queue.toml"
        settings.write_text(SETTINGS, encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk.queue", "serve", "--db", str(folder / "hall.sqlite"),
             "--host", "127.0.0.1", "--port", "0", "--settings", str(settings),
             "--log-level", "WARNING"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
            text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert "listening on" in line, line
        self.url = line.split("listening on ")[1].split(" ")[0]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


# -- the child: one kiosk app, driven tap by tap -----------------------------------------------
def _paced(pilot, started: list[float]) -> None:
    """One frame, then sleep until the next 1/60 s tick (a kiosk runs at maxfps = 60)."""
    pilot.pump()
    started[0] += FRAME_S
    pause = started[0] - time.perf_counter()
    if pause > 0:
        time.sleep(pause)
    else:
        started[0] = time.perf_counter()


def _measure(pilot, count: int) -> dict:
    from kivy.base import EventLoop

    from screens.pilot import _Touch

    kiosk = pilot.kiosk
    service = kiosk.queue
    round_trips: list[float] = []
    original = service.issue_ticket

    def timed_issue(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            round_trips.append((time.perf_counter() - started) * 1000)

    service.issue_ticket = timed_issue
    screen = pilot.manager.get_screen("queue")
    dialog = pilot.app.controller.print_dialog
    samples: list[float] = []
    rasters: list[float] = []
    gpu_bounds: list[float] = []
    frame_counts: list[int] = []
    numbers: list[str] = []
    categories = "ABCD"
    for i in range(count):
        pilot.tap("start")
        pilot.wait_screen("home")
        pilot.tap("queue")
        pilot.wait_screen("queue")
        pilot.wait_for(lambda: not screen.loading and screen.categories
                       and screen.categories[0]["waiting"] >= 0, 10, "tiles from the server")
        tile = pilot.find(f"category_{categories[i % 4]}")
        x, y = tile.to_window(*tile.center)
        touch = _Touch(x, y)
        EventLoop.post_dispatch_input("begin", touch)
        pilot.pump(2)
        touch.move({"x": touch.sx, "y": touch.sy})
        first_frame = len(pilot.frame_times)
        clock = [time.perf_counter()]
        started = clock[0]
        EventLoop.post_dispatch_input("end", touch)
        deadline = started + 10
        while not (screen.page == "ticket" and screen.ticket.get("number")):
            if time.perf_counter() > deadline:
                raise AssertionError(f"no ticket on screen after 10 s (page {screen.page})")
            _paced(pilot, clock)
        # the frame in which the callback ran has been drawn: the number is on screen
        wall = (time.perf_counter() - started) * 1000
        raster = sum(pilot.render_times[first_frame:]) * 1000
        frames = len(pilot.frame_times) - first_frame
        samples.append(wall)
        rasters.append(raster)
        # on a kiosk's GPU drawing takes a few ms, but each frame may wait up to a full
        # 1/60 s for its turn: an upper bound of the same tap without the software rasteriser
        gpu_bounds.append(wall - raster + frames * FRAME_S * 1000)
        frame_counts.append(frames)
        number = screen.ticket["number"]
        numbers.append(number)
        assert number in pilot.texts(), number
        pilot.wait_for(lambda: dialog.state in ("done", "failed"), 10, "printout")
        pilot.tap("print_close")
        pilot.tap("exit")
        pilot.wait_screen("attract")
    service.issue_ticket = original
    assert len(set(numbers)) == len(numbers), "a number was given twice"
    return {"count": len(samples), "median_ms": statistics.median(samples),
            "p95_ms": percentile(samples, 95), "max_ms": max(samples),
            "raster_median_ms": statistics.median(rasters),
            "gpu_median_ms": statistics.median(gpu_bounds),
            "gpu_p95_ms": percentile(gpu_bounds, 95), "gpu_max_ms": max(gpu_bounds),
            "frames_median": statistics.median(frame_counts),
            "issue_median_ms": statistics.median(round_trips),
            "issue_p95_ms": percentile(round_trips, 95), "numbers": numbers[:3]}


def child(url: str, folder: str, count: int) -> dict:
    from kiosk.cli.xvfb import virtual_display

    with virtual_display(1920, 1080):
        from screens.bootstrap import prepare_kivy

        prepare_kivy(1920, 1080, maxfps=0, home=str(Path(folder) / "kivy"))
        from config.loader import load_config
        from kiosk.core import build_kiosk
        from kiosk.queue import HttpQueueService
        from screens.pilot import Pilot

        config = load_config("demo", env={
            "KIOSK_BACKENDS__QUEUE__TYPE": "http", "KIOSK_BACKENDS__QUEUE__URL": url,
            "KIOSK_STORAGE__DATA_DIR": str(Path(folder) / "data")})
        kiosk = build_kiosk(config)
        assert isinstance(kiosk.queue, HttpQueueService), type(kiosk.queue)
        pilot = Pilot(kiosk).start()
        try:
            return _measure(pilot, count)
        finally:
            pilot.stop()


# -- the parent: server, child, report --------------------------------------------------------
def run(count: int = TICKETS) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-queue-ui-") as tmp:
        folder = Path(tmp)
        server = HallServer(folder)
        try:
            env = {k: v for k, v in os.environ.items()
                   if not (k.startswith("KIOSK_") and "__" in k)}
            env["PYTHONPATH"] = str(ROOT)
            done = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--child", server.url, tmp,
                 str(count)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        finally:
            server.stop()
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise AssertionError(f"benchmark child failed ({done.returncode}):\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def report(result: dict) -> str:
    return "\n".join((
        f"取号 against the hall server on loopback, {result['count']} tickets, 1920×1080:",
        f"  issue_ticket round trip (worker thread): median {result['issue_median_ms']:.1f} ms, "
        f"p95 {result['issue_p95_ms']:.1f} ms",
        f"  tap → ticket drawn, as measured here (Mesa software GL): median "
        f"{result['median_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, max "
        f"{result['max_ms']:.1f} ms, of which GL rasterising median "
        f"{result['raster_median_ms']:.1f} ms ({result['frames_median']:.0f} frames)",
        f"  tap → ticket on screen without the software rasteriser, each frame waiting a full "
        f"1/60 s (upper bound): median {result['gpu_median_ms']:.1f} ms, p95 "
        f"{result['gpu_p95_ms']:.1f} ms, max {result['gpu_max_ms']:.1f} ms "
        f"(target p95 < 100 ms)"))


def test_bench_queue_ui() -> None:
    result = run()
    print("\n" + report(result))
    assert result["count"] == TICKETS
    # the target is about the kiosk (a GPU), not about this machine's software rasteriser
    assert result["gpu_p95_ms"] < 100, report(result)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3], int(sys.argv[4]))), flush=True)
    else:
        print(report(run(int(sys.argv[1]) if len(sys.argv) > 1 else TICKETS)))

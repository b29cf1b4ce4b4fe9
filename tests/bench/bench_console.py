"""Console benchmarks: how soon an offline terminal shows on the open overview, and how long
each page takes to load, against a real fleet (mosquitto, kiosk-fleet serve, simulate).

- offline: from the terminal's process being killed (the broker publishes its Last Will) to
  its tile turning 离线 on an open overview in Chromium, without a reload. Target: within the
  offline grace (default 120 s) plus 10 s; the console adds at most its 2 s push interval.
- page loads: median and p95 of ``load`` for every page, with 60 simulated terminals.

Run: ``KIOSK_BENCH=1 .venv/bin/python -m pytest -q -s tests/bench/bench_console.py
-o python_files='bench_*.py'`` or ``kiosk bench -k console``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fleet.console.stack import VICTIM, ConsoleStack, StackOptions, launch_chromium  # noqa: E402
from fleet.console.walk import pages, wait_for_data  # noqa: E402

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(not os.environ.get("KIOSK_BENCH"), reason="set KIOSK_BENCH=1 to run"),
]
TERMINALS = 60


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def test_console_figures(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with ConsoleStack(tmp_path, StackOptions(terminals=TERMINALS)) as stack, \
            sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        stack.login(page, "admin")
        wait_for_data(stack, page, terminals=TERMINALS + 1, timeout=180)
        loads: dict[str, list[float]] = {}
        for name, path in pages(stack, page):
            for _ in range(5):
                began = time.perf_counter()
                page.goto(stack.url + path, wait_until="load")
                loads.setdefault(name, []).append((time.perf_counter() - began) * 1000)
        page.goto(stack.url)
        tile = f'#tiles li[data-terminal="{VICTIM}"]'
        page.wait_for_selector(tile)
        began = time.perf_counter()
        stack.kill_terminal()
        page.wait_for_selector(f'{tile}[data-state="offline"]', timeout=130_000)
        offline_s = time.perf_counter() - began
        browser.close()
    print(f"\nconsole, {TERMINALS + 1} simulated terminals, Chromium on loopback")
    print(f"  offline shown on the open overview after {offline_s:.1f} s "
          f"(grace {stack.opts.offline_grace_s:.0f} s)")
    for name, samples in loads.items():
        print(f"  {name:9s} load median {statistics.median(samples):6.0f} ms, "
              f"p95 {percentile(samples, 95):6.0f} ms")
    assert offline_s > 0


if __name__ == "__main__":
    os.environ["KIOSK_BENCH"] = "1"
    raise SystemExit(pytest.main(["-q", "-s", __file__, "-o", "python_files=bench_*.py"]))

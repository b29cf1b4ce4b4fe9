"""The full soak: 2,000 randomised sessions through the real screens after 20 of warm-up
(``kiosk soak``), with its figures per 100 sessions and the plot.

Targets (issue 17): RSS growth under 10 MB after warm-up, no growth of threads or open file
descriptors at rest, no frame with more than 100 ms of UI-thread work, SQLite files bounded.
On a shared machine the wall-clock UI work per frame includes the neighbours' load: it is
printed beside the UI thread's CPU time, which is what the verdict checks.

Run: ``kiosk bench -k soak`` (``KIOSK_SOAK_SESSIONS=500`` for a shorter run,
``KIOSK_SOAK_PLOT=FILE.png`` to keep the plot, ``KIOSK_SOAK_SAMPLES=FILE.jsonl`` to keep every
sample as it is taken, ``KIOSK_SOAK_TRACE=1`` for the heap's top growth via tracemalloc, which
slows every allocation 2-4x and makes the run take hours) or
``.venv/bin/python tests/bench/bench_soak.py [N]``.

Why an earlier run stopped at 750 sessions: ``kiosk bench`` runs pytest, whose configured
time-out (300 s, pyproject.toml) ended the run long before 2,000 sessions, and the report was
printed only at the end, so nothing of a stopped run survived. This benchmark now has its own
time-out (:data:`TIME_LIMIT_S`), each sample is written to a file as it is taken, and the run
is untraced by default.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: 2,000 untraced sessions take about an hour on the shared 2-core machine; traced, several
TIME_LIMIT_S = 6 * 3600

pytestmark = [
    pytest.mark.bench,
    pytest.mark.timeout(TIME_LIMIT_S),
    pytest.mark.skipif(not os.environ.get("KIOSK_BENCH"), reason="set KIOSK_BENCH=1 to run"),
]

SESSIONS = int(os.environ.get("KIOSK_SOAK_SESSIONS", "2000"))


def run(sessions: int = SESSIONS) -> dict:
    with tempfile.TemporaryDirectory(prefix="kiosk-soak-bench-") as scratch:
        plot = Path(os.environ.get("KIOSK_SOAK_PLOT", "") or Path(scratch) / "soak.png")
        samples = Path(os.environ.get("KIOSK_SOAK_SAMPLES", "") or Path(scratch) / "samples.jsonl")
        trace = [] if os.environ.get("KIOSK_SOAK_TRACE") == "1" else ["--no-trace"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
        env.pop("DISPLAY", None)
        proc = subprocess.run(
            [sys.executable, "-m", "kiosk.cli.main", "soak", "--sessions", str(sessions),
             "--warmup", "20", "--every", "100", "--size", "640x480", "--json",
             "--plot", str(plot), "--samples", str(samples), *trace],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, timeout=TIME_LIMIT_S - 60)
        if not proc.stdout.strip().startswith("{"):
            taken = samples.read_text(encoding="utf-8").splitlines() if samples.exists() else []
            raise AssertionError(f"the soak ended with status {proc.returncode} and no report "
                                 f"after {len(taken)} samples; the last: {taken[-1:]}")
        report = json.loads(proc.stdout)
    print(f"\nsoak: {report['sessions']} sessions in {report['seconds']} s "
          f"(load average {report['load_average']}, traced: {report['traced']})")
    print(" sessions   RSS MB  heap MB  threads  fds  max UI work ms (CPU)  stalls  SQLite KB")
    for s in report["samples"]:
        print(f" {s['sessions']:8d} {s['rss_mb']:8.1f} {s['heap_mb']:8.1f} {s['threads']:8d} "
              f"{s['fds']:4d} {s['max_ui_work_ms']:10.1f} ({s['max_ui_cpu_ms']:5.1f})"
              f" {s['stalls']:7d}  {sum(s['sqlite_kb'].values()):8.0f}")
    print(f"RSS growth {report['rss_growth_mb']} MB, heap growth {report['heap_growth_mb']} MB, "
          f"threads {report['threads_growth']:+d}, fds {report['fds_growth']:+d}, max UI-thread "
          f"CPU per frame {report['max_ui_cpu_ms']} ms; SQLite {report['sqlite_kb']}")
    print("top heap growth:", json.dumps(report["samples"][-1]["top_growth"]))
    print("objects growth:", json.dumps(report["objects_growth"]))
    print("missed:", report["violations"] or "nothing")
    return report


def test_two_thousand_sessions() -> None:
    report = run()
    assert len(report["samples"]) == SESSIONS // 100 + 1 + (SESSIONS % 100 > 0)
    assert report["failures"] == [], report["failures"]


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else SESSIONS)

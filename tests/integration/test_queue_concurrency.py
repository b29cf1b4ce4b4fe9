"""Concurrent issue on one queue database: 8 threads, then 4 processes; no number twice,
no number skipped."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections import defaultdict
from pathlib import Path

import pytest

from kiosk.queue import QueueEngine, QueueSettings

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]
CATEGORIES = ("A", "B", "C", "D")


def check_numbers(numbers: list[str], db: Path) -> None:
    """Unique, and per category exactly 1..n; the database agrees."""
    assert len(numbers) == len(set(numbers)), "a number was given twice"
    per: dict[str, list[int]] = defaultdict(list)
    for number in numbers:
        per[number[0]].append(int(number[1:]))
    for category, got in per.items():
        assert sorted(got) == list(range(1, len(got) + 1)), f"gap in {category}"
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT category, number FROM tickets").fetchall()
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert sorted(f"{c}{n:03d}" for c, n in rows) == sorted(numbers)


def issue_in_threads(engines: list[QueueEngine], per_thread: int) -> list[str]:
    numbers: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(engines))
    failures: list[BaseException] = []

    def work(index: int) -> None:
        engine = engines[index]
        try:
            barrier.wait(timeout=10)
            mine = [engine.issue_ticket(CATEGORIES[(index + i) % 4]).number
                    for i in range(per_thread)]
        except BaseException as exc:  # surfaced below
            failures.append(exc)
            return
        with lock:
            numbers.extend(mine)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert not failures, failures
    return numbers


def test_eight_threads_one_engine(tmp_path: Path) -> None:
    db = tmp_path / "queue.sqlite"
    engine = QueueEngine(db, QueueSettings())
    try:
        numbers = issue_in_threads([engine] * 8, 60)
    finally:
        engine.close()
    assert len(numbers) == 480
    check_numbers(numbers, db)


def test_eight_threads_eight_connections(tmp_path: Path) -> None:
    db = tmp_path / "queue.sqlite"
    engines = [QueueEngine(db, QueueSettings()) for _ in range(8)]
    try:
        numbers = issue_in_threads(engines, 40)
    finally:
        for engine in engines:
            engine.close()
    assert len(numbers) == 320
    check_numbers(numbers, db)


WORKER = """
import json, os, sys, time
from kiosk.queue import QueueEngine, QueueSettings
db, flags, count, offset = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
engine = QueueEngine(db, QueueSettings())
cats = "ABCD"
out = [engine.issue_ticket(cats[offset % 4]).number]
# a barrier: the rest is issued only once every process holds a ticket, so all four are
# issuing at the same time by construction (bounded wait)
open(os.path.join(flags, str(offset)), "w").close()
deadline = time.monotonic() + 60
while len(os.listdir(flags)) < 4 and time.monotonic() < deadline:
    time.sleep(0.005)
waited = len(os.listdir(flags))
out += [engine.issue_ticket(cats[(offset + i) % 4]).number for i in range(1, count)]
engine.close()
print(json.dumps({"numbers": out, "saw": waited}))
"""


def test_four_processes_one_database(tmp_path: Path) -> None:
    db = tmp_path / "queue.sqlite"
    QueueEngine(db, QueueSettings()).close()  # schema in place before the race
    flags = tmp_path / "started"
    flags.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(db), str(flags), "200",
                               str(i)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
             for i in range(4)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    numbers = [n for result in results for n in result["numbers"]]
    assert len(numbers) == 800
    check_numbers(numbers, db)
    # all four were issuing at the same time (SQLite's write lock orders them): each saw the
    # other three holding a ticket before it issued the rest
    assert [r["saw"] for r in results] == [4, 4, 4, 4]

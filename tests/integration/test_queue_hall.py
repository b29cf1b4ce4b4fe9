"""A hall on loopback: the hall server and the kiosks as separate processes.

- two kiosk processes and one server process issue 2,000 tickets at the same time: no number
  twice, none skipped;
- the server is killed with SIGKILL in the middle and restarted: no issued ticket is lost and
  still no number is given twice or skipped (the kiosks retry with the same request id);
- a kiosk gives numbers from its reserved range while the server is down, and the restarted
  server takes them in.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kiosk.queue import HttpQueueService, OfflineStore
from kiosk.queue.hours import OpeningHours
from kiosk.queue.settings import load_settings_file

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

SETTINGS = """
[queue]
synchronous = "full"
categories = [
  {code = "A", name = "综合业务", daily_capacity = 999},
  {code = "B", name = "社保医保", daily_capacity = 999},
  {code = "C", name = "不动产登记", daily_capacity = 999},
  {code = "D", name = "公积金", daily_capacity = 999},
]
windows = [{id = "1", name = "1号窗口", categories = ["A", "B", "C", "D"]}]
offline_ranges = [{terminal = "K-0001", first = 901, last = 950}]
"""


class ServerProcess:
    """``python -m kiosk.queue serve`` in a subprocess."""

    def __init__(self, db: Path, settings: Path, port: int = 0) -> None:
        self.log_path = db.with_suffix(".log")
        self.log = open(self.log_path, "a")  # closed in stop() or kill()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk.queue", "serve", "--db", str(db), "--port", str(port),
             "--settings", str(settings), "--log-level", "WARNING",
             "--key-file", str(key_file(db))],
            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        line = self._line(20)
        if "listening on http://127.0.0.1:" not in line:
            self.proc.wait(timeout=10)
            self.log.close()
            raise AssertionError(f"the queue server did not start: {self.log_text()}")
        self.url = line.split("listening on ")[1].split(" ")[0]
        self.port = int(self.url.rsplit(":", 1)[1])

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")

    def _line(self, timeout: float) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise AssertionError("the queue server printed nothing in time") from None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> int:
        """SIGTERM; the exit code. The log must hold no traceback."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=20)
        self.log.close()
        assert "Traceback" not in self.log_text(), self.log_text()
        return code

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def key_file(db: Path) -> Path:
    """The ID-number key, outside the database folder as the server demands."""
    folder = db.parent.parent / f"{db.parent.name}-secrets"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / "id.key"


def kiosk_key(db: Path, terminal: str) -> str:
    """A kiosk credential (what `kiosk queue terminal add` makes)."""
    from zoneinfo import ZoneInfo

    from kiosk.queue.hall import HallStore

    hall = HallStore(db, ZoneInfo("Asia/Shanghai"), synchronous="normal")
    try:
        return hall.add_terminal(terminal)
    finally:
        hall.close()


def hall_account(db: Path) -> None:
    """A staff account for window 1 (what `kiosk queue staff add` makes)."""
    from zoneinfo import ZoneInfo

    from kiosk.queue.hall import HallStore

    hall = HallStore(db, ZoneInfo("Asia/Shanghai"), synchronous="normal")
    try:
        hall.add_staff("li", "password-1", ["1"])
    finally:
        hall.close()


def start_server(db: Path, settings: Path, port: int = 0) -> ServerProcess:
    """Start, retrying briefly while a killed predecessor's port is being released."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return ServerProcess(db, settings, port)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def loadgen(url: str, count: int, threads: int, out: Path, terminal: str,
            db: Path | None = None) -> subprocess.Popen:
    db = db or out.parent / "hall.sqlite"
    env = {**ENV, "KIOSK_QUEUE_API_KEY": kiosk_key(db, terminal)}
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk.queue.loadgen", "--url", url, "--count", str(count),
         "--threads", str(threads), "--categories", "A,B,C,D", "--out", str(out),
         "--terminal", terminal, "--retries", "60", "--timeout", "5"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(procs: list[subprocess.Popen], outs: list[Path]) -> list[dict[str, Any]]:
    tickets: list[dict[str, Any]] = []
    for proc, out in zip(procs, outs, strict=True):
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        result = json.loads(out.read_text(encoding="utf-8"))
        assert result["errors"] == []
        tickets += result["tickets"]
    return tickets


def db_tickets(db: Path) -> list[tuple[str, str, int, str]]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT id, category, number, source FROM tickets").fetchall()
    finally:
        conn.close()


def assert_no_duplicate_no_gap(tickets: list[dict[str, Any]], db: Path) -> None:
    numbers = [t["number"] for t in tickets]
    assert len(set(numbers)) == len(numbers), "a number was given twice"
    assert len({t["id"] for t in tickets}) == len(tickets)
    per: dict[str, list[int]] = defaultdict(list)
    for number in numbers:
        per[number[0]].append(int(number[1:]))
    for category, got in per.items():
        assert sorted(got) == list(range(1, len(got) + 1)), f"gap in {category}"
    stored = db_tickets(db)
    # every ticket a kiosk handed out is in the database, and nothing else is
    assert sorted(row[0] for row in stored) == sorted(t["id"] for t in tickets)
    assert sorted(f"{c}{n:03d}" for _, c, n, _ in stored) == sorted(numbers)


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "queue.toml"
    path.write_text(SETTINGS, encoding="utf-8")
    return path


def test_two_kiosks_and_a_server_issue_2000_tickets(tmp_path: Path, settings_file: Path) -> None:
    db = tmp_path / "hall.sqlite"
    server = start_server(db, settings_file)
    try:
        outs = [tmp_path / "kiosk1.json", tmp_path / "kiosk2.json"]
        procs = [loadgen(server.url, 1000, 4, outs[0], "K-0001"),
                 loadgen(server.url + "/api/v1", 1000, 4, outs[1], "K-0002")]
        tickets = finish(procs, outs)
    finally:
        code = server.stop()
    assert code == 0
    assert len(tickets) == 2000
    assert_no_duplicate_no_gap(tickets, db)
    assert {len([t for t in tickets if t["category"] == c]) for c in "ABCD"} == {500}
    assert all(row[3] == "online" for row in db_tickets(db))


def test_sigkill_mid_run_loses_no_issued_ticket(tmp_path: Path, settings_file: Path) -> None:
    db = tmp_path / "hall.sqlite"
    server = start_server(db, settings_file)
    port = server.port
    outs = [tmp_path / "kiosk1.json", tmp_path / "kiosk2.json"]
    procs = [loadgen(server.url, 700, 2, outs[0], "K-0001"),
             loadgen(server.url, 700, 2, outs[1], "K-0002")]
    try:
        deadline = time.monotonic() + 60
        count = 0
        while count < 300:
            assert time.monotonic() < deadline, "the kiosks issued too little"
            time.sleep(0.05)
            try:
                conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
                count = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
                conn.close()
            except sqlite3.OperationalError:
                count = 0
        server.kill()
        killed_at = len(db_tickets(db))
        assert killed_at < 1400, "the run ended before the kill: nothing was tested"
        assert all(p.poll() is None for p in procs), "a kiosk gave up while the server was down"
        time.sleep(0.5)  # the kiosks keep trying meanwhile
        server = start_server(db, settings_file, port)
        tickets = finish(procs, outs)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        code = server.stop()
    assert code == 0
    assert len(tickets) == 1400
    assert_no_duplicate_no_gap(tickets, db)


def test_offline_range_is_reconciled_after_a_crash(tmp_path: Path, settings_file: Path) -> None:
    db = tmp_path / "hall.sqlite"
    settings = load_settings_file(settings_file)
    hours = OpeningHours([], ZoneInfo("Asia/Shanghai"))
    server = start_server(db, settings_file)
    port = server.port
    store = OfflineStore(tmp_path / "kiosk-offline.sqlite", settings, "K-0001", hours)
    kiosk = HttpQueueService(server.url, timeout_s=1, retries=1, backoff_s=0.05,
                             terminal="K-0001", settings=settings, hours=hours, offline=store,
                             probe_s=0.3, api_key=kiosk_key(db, "K-0001"))
    try:
        online = [kiosk.issue_ticket("A").number for _ in range(3)]
        assert online == ["A001", "A002", "A003"]
        server.kill()
        offline = [kiosk.issue_ticket("A") for _ in range(4)]
        assert [t.number for t in offline] == ["A901", "A902", "A903", "A904"]
        assert all(t.offline for t in offline)
        server = start_server(db, settings_file, port)
        deadline = time.monotonic() + 15
        while store.pending_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.pending_count() == 0, "the offline tickets were not handed over"
        after = kiosk.issue_ticket("A")
        assert after.number == "A004" and not after.offline
        # the server knows them, in issue order, and calls them like any other
        first_offline = kiosk.ticket(offline[0].id)
        assert first_offline.offline and first_offline.people_ahead == 3
        staff = HttpQueueService(server.url, timeout_s=2)
        hall_account(db)
        staff.login("li", "password-1")
        called = [staff.call_next("1").number for _ in range(8)]
        staff.close()
        assert called == ["A001", "A002", "A003", "A901", "A902", "A903", "A904", "A004"]
    finally:
        kiosk.close()
        server.stop()
    stored = db_tickets(db)
    assert sorted((c, n) for _, c, n, _ in stored) == [
        ("A", n) for n in (1, 2, 3, 4, 901, 902, 903, 904)]
    assert sum(1 for row in stored if row[3] == "offline") == 4

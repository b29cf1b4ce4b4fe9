"""A terminal runs for months: the outbox and the queue database do not keep growing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from config.queue import CategorySettings, QueueSettings, WindowSettings
from kiosk.outbox import Outbox
from kiosk.queue.engine import KEEP_DAYS, QueueEngine
from kiosk.queue.hours import OpeningHours

SH = ZoneInfo("Asia/Shanghai")


def file_size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def test_a_drained_outbox_gives_its_space_back(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    with Outbox(path) as outbox:
        payload = b"x" * 2000
        for i in range(3000):  # a long broker outage
            outbox.put(f"r{i}", "rating", "t", payload)
        peak = file_size(path)
        assert peak > 6_000_000
        for start in range(0, 3000, 500):  # the broker is back: PUBACKs arrive in batches
            outbox.ack(f"r{i}" for i in range(start, start + 500))
        assert outbox.depth == 0
        assert file_size(path) < peak // 10
        outbox.put("after", "rating", "t", payload)  # still a working outbox
        assert [r.id for r in outbox.peek()] == ["after"]


def test_a_small_drain_does_not_vacuum_every_time(tmp_path: Path) -> None:
    with Outbox(tmp_path / "outbox.db") as outbox:
        outbox.put("one", "event", "t", b"{}")
        outbox.ack(["one"])
        assert outbox.compact() is False  # nothing worth compacting


class Clock:
    def __init__(self, when: datetime) -> None:
        self.t = when.timestamp()

    def __call__(self) -> float:
        return self.t


def test_the_queue_keeps_a_few_weeks_of_tickets(tmp_path: Path) -> None:
    clock = Clock(datetime(2024, 5, 6, 10, tzinfo=SH))
    settings = QueueSettings(synchronous="normal",
                             categories=[CategorySettings(code="A", name="综合业务")],
                             windows=[WindowSettings(id="1", name="1号窗口", area="A区",
                                                     categories=["A"])])
    with QueueEngine(tmp_path / "queue.sqlite", settings, OpeningHours([], SH),
                     clock=clock) as engine:
        old = [engine.issue_ticket("A") for _ in range(5)]
        clock.t += timedelta(days=KEEP_DAYS - 1).total_seconds()
        recent = engine.issue_ticket("A")
        assert engine.ticket(old[0].id).number == old[0].number  # still within the weeks kept
        clock.t += timedelta(days=2).total_seconds()
        today = engine.issue_ticket("A")  # the first ticket of a new day purges
        assert today.number == "A001"
        conn = engine._conn
        days = {row[0] for row in conn.execute("SELECT DISTINCT day FROM tickets")}
        assert days == {recent.day, today.day}
        assert conn.execute("SELECT COUNT(*) FROM counters WHERE day = ?",
                            (old[0].day,)).fetchone()[0] == 0

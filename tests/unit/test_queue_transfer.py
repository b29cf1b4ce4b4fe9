"""Transfer, park and resume at the window (engine, real SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.queue import BadTransition, InvalidRequest, QueueEngine, QueueSettings, TicketState
from kiosk.queue.db import add_columns


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[QueueEngine]:
    now = [1_780_000_000.0]

    def clock() -> float:
        now[0] += 1
        return now[0]

    engine = QueueEngine(tmp_path / "q.sqlite", QueueSettings(synchronous="normal"), clock=clock)
    yield engine
    engine.close()


def test_transfer_to_another_category_keeps_the_number_and_the_place(
        engine: QueueEngine) -> None:
    a1 = engine.issue_ticket("A")
    c1 = engine.issue_ticket("C")
    engine.issue_ticket("C")
    called = engine.call_next("1")
    assert called is not None and called.id == a1.id
    moved = engine.transfer(a1.id, category="C")
    assert moved.number == "A001" and moved.state is TicketState.WAITING
    # issued before both C tickets: first in C's queue, served by C's windows
    assert moved.people_ahead == 0 and moved.windows == ("3号窗口", "4号窗口")
    assert engine.ticket(c1.id).people_ahead == 1
    assert engine.category("C").waiting == 3 and engine.category("A").waiting == 0
    assert engine.call_next("3").id == a1.id  # type: ignore[union-attr]
    assert engine.call_next("1") is None  # window 1 (A, B) does not get it back


def test_transfer_to_a_window_makes_it_that_windows_next_call(engine: QueueEngine) -> None:
    engine.issue_ticket("B")
    a1 = engine.issue_ticket("A")
    engine.issue_ticket("A")
    first = engine.call_next("1")
    assert first is not None and first.number == "B001"
    engine.transfer(first.id, window="2")  # window 2 serves A only, yet takes it first
    assert [t.number for t in engine.waiting(["A"], 5, "2")] == ["B001", "A001", "A002"]
    assert engine.call_next("2").number == "B001"  # type: ignore[union-attr]
    assert engine.call_next("1").id == a1.id  # type: ignore[union-attr]


def test_park_and_resume(engine: QueueEngine) -> None:
    a1 = engine.issue_ticket("A")
    engine.issue_ticket("A")
    engine.call_next("1")
    parked = engine.park(a1.id)
    assert parked.state is TicketState.PARKED and parked.window == "1"
    assert [t.id for t in engine.parked("1")] == [a1.id]
    assert engine.category("A").waiting == 1  # parked is not waiting
    a2 = engine.call_next("1")
    assert a2 is not None and a2.number == "A002"
    back = engine.resume(a1.id)
    assert back.state is TicketState.CALLED and back.window == "1"
    assert engine.ticket(a2.id).state is TicketState.SERVED  # finished, as with call-next
    assert engine.resume(a1.id).state is TicketState.CALLED  # again: no-op
    assert engine.parked("1") == []


def test_bad_moves_are_refused_with_reasons(engine: QueueEngine) -> None:
    a1 = engine.issue_ticket("A")
    with pytest.raises(BadTransition, match="等待中，不能暂挂"):
        engine.park(a1.id)
    with pytest.raises(BadTransition, match="不能恢复"):
        engine.resume(a1.id)
    with pytest.raises(InvalidRequest, match="category or a window"):
        engine.transfer(a1.id)
    with pytest.raises(InvalidRequest):
        engine.transfer(a1.id, category="Z")
    engine.cancel(a1.id)
    with pytest.raises(BadTransition, match="已取消，不能转移"):
        engine.transfer(a1.id, category="B")


def test_an_older_database_gains_the_columns(tmp_path: Path) -> None:
    engine = QueueEngine(tmp_path / "old.sqlite", QueueSettings(synchronous="normal"))
    engine.close()
    import sqlite3

    conn = sqlite3.connect(tmp_path / "old.sqlite")
    conn.execute("ALTER TABLE tickets DROP COLUMN target_window")
    add_columns(conn, "tickets", {"target_window": "TEXT"})
    add_columns(conn, "tickets", {"target_window": "TEXT"})  # twice: no error
    assert "target_window" in {r[1] for r in conn.execute("PRAGMA table_info(tickets)")}
    conn.close()

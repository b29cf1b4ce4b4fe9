"""The configurable order of call (kiosk.queue.lane): the priority lane rule, the place of
transferred tickets, people ahead agreeing with the real order of call, and the migration of
a schema-1 database (engine on real SQLite files)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.queue import CategorySettings, QueueSettings, WindowSettings, load_settings_file
from kiosk.queue import Priority, QueueEngine
from kiosk.queue import lane as lane_rules
from kiosk.queue.db import SCHEMA_VERSION
from kiosk.queue.hall import HallStore

G, N = Priority.GREEN, Priority.NORMAL


def hall_settings(**changes: object) -> QueueSettings:
    base: dict[str, object] = dict(
        synchronous="normal",
        categories=[CategorySettings(code="A", name="综合业务"),
                    CategorySettings(code="B", name="社保医保")],
        windows=[WindowSettings(id="1", name="1号窗口", categories=["A"]),
                 WindowSettings(id="2", name="2号窗口", categories=["B"]),
                 WindowSettings(id="3", name="3号窗口", categories=["A"])])
    base.update(changes)
    return QueueSettings(**base)


class Tick:
    def __init__(self) -> None:
        self.t = 1_780_000_000.0

    def __call__(self) -> float:
        self.t += 1
        return self.t


@pytest.fixture
def make(tmp_path: Path) -> Iterator[object]:
    engines: list[QueueEngine] = []

    def build(**changes: object) -> QueueEngine:
        engine = QueueEngine(tmp_path / f"q{len(engines)}.sqlite", hall_settings(**changes),
                             clock=Tick())
        engines.append(engine)
        return engine

    yield build
    for engine in engines:
        engine.close()


def issue(engine: QueueEngine, kinds: str, category: str = "A") -> list[str]:
    """``"NNG"`` → a normal, a normal, a green ticket; their numbers."""
    return [engine.issue_ticket(category, priority=G if k == "G" else N).number for k in kinds]


def drain(engine: QueueEngine, window: str = "1") -> list[str]:
    called = []
    for _ in range(100):
        ticket = engine.call_next(window)
        if ticket is None:
            return called
        called.append(ticket.number)
    raise AssertionError("the queue did not drain")


@pytest.mark.parametrize(("rule", "order"), [
    ("strict", ["A003", "A005", "A001", "A002", "A004", "A006", "A007"]),
    ("off", ["A001", "A002", "A003", "A004", "A005", "A006", "A007"]),
    ("ratio:2", ["A001", "A002", "A003", "A004", "A006", "A005", "A007"]),
    ("ratio:1", ["A001", "A003", "A002", "A005", "A004", "A006", "A007"]),
])
def test_each_priority_lane_rule_calls_in_its_order(make, rule: str, order: list[str]) -> None:
    engine = make(priority_lane=rule)
    issue(engine, "NNGNGNN")  # A003 and A005 are green
    before = [t.number for t in engine.waiting(["A"], 10, "1")]
    assert before == order  # what the staff page shows next is what call-next does
    assert drain(engine) == order


@pytest.mark.parametrize("rule", ["strict", "off", "ratio:2", "ratio:3"])
def test_people_ahead_agree_with_the_order_of_call(make, rule: str) -> None:
    engine = make(priority_lane=rule)
    issue(engine, "NGNNGGNNNG")
    engine.call_next("1")
    engine.call_next("1")  # the window's ratio count is no longer zero
    waiting = engine.waiting(["A"], 20, "1")
    assert [t.people_ahead for t in waiting] == list(range(len(waiting)))
    assert engine.ticket(waiting[-1].id).people_ahead == len(waiting) - 1


@settings(max_examples=40, deadline=None)
@given(kinds=st.text(alphabet="NG", min_size=1, max_size=14),
       calls=st.integers(min_value=0, max_value=6),
       rule=st.sampled_from(["strict", "off", "ratio:1", "ratio:2", "ratio:4"]))
def test_people_ahead_match_the_calls_for_any_queue(tmp_path_factory, kinds: str, calls: int,
                                                    rule: str) -> None:
    path = tmp_path_factory.mktemp("lane") / "q.sqlite"
    with QueueEngine(path, hall_settings(priority_lane=rule), clock=Tick()) as engine:
        issue(engine, kinds)
        for _ in range(calls):
            engine.call_next("1")
        ahead = {t.number: t.people_ahead for t in engine.waiting(["A"], 50, "1")}
        called = drain(engine)
        assert {number: called.index(number) for number in ahead} == ahead


def test_ratio_counts_per_window(make) -> None:
    engine = make(priority_lane="ratio:1")
    issue(engine, "NNGG")
    assert engine.call_next("1").number == "A001"  # type: ignore[union-attr]
    assert engine.call_next("3").number == "A002"  # window 3 has made no regular call yet
    assert engine.call_next("1").number == "A003"  # window 1's turn for the priority lane


@pytest.mark.parametrize(("rule", "place_of_a1"), [
    ("keep_issue_time", 0), ("front", 0), ("back", 3)])
def test_transfer_to_another_category_by_rule(make, rule: str, place_of_a1: int) -> None:
    engine = make(transfer_to_category=rule)
    a1 = engine.issue_ticket("A")
    issue(engine, "NNN", "B")
    assert engine.call_next("1").id == a1.id  # type: ignore[union-attr]
    moved = engine.transfer(a1.id, category="B")
    assert moved.people_ahead == place_of_a1
    assert drain(engine, "2").index("A001") == place_of_a1


def test_keep_issue_time_respects_the_lane_and_front_overtakes_it(make) -> None:
    keep = make(transfer_to_category="keep_issue_time")
    a1 = keep.issue_ticket("A")
    issue(keep, "NG", "B")
    keep.call_next("1")
    keep.transfer(a1.id, category="B")
    assert drain(keep, "2") == ["B002", "A001", "B001"]  # the green one still first
    front = make(transfer_to_category="front")
    a1 = front.issue_ticket("A")
    issue(front, "NG", "B")
    front.call_next("1")
    front.transfer(a1.id, category="B")
    assert drain(front, "2") == ["A001", "B002", "B001"]  # first in line, ahead of priority


@pytest.mark.parametrize(("rule", "order"), [
    ("front", ["B001", "A002", "A003"]),
    ("keep_issue_time", ["A002", "B001", "A003"]),
    ("back", ["A002", "A003", "B001"])])
def test_transfer_to_a_window_by_rule(make, rule: str, order: list[str]) -> None:
    engine = make(transfer_to_window=rule)
    engine.issue_ticket("A")
    engine.issue_ticket("A")
    b1 = engine.issue_ticket("B")
    engine.issue_ticket("A")
    assert engine.call_next("1").number == "A001"  # type: ignore[union-attr]
    assert engine.call_next("2").id == b1.id  # type: ignore[union-attr]
    engine.transfer(b1.id, window="1")  # window 1 serves A only, yet takes it
    assert engine.call_next("2") is None  # sent to window 1: not back to B's window
    assert [t.number for t in engine.waiting(["A"], 5, "1")] == order
    assert drain(engine, "1") == order


def test_two_front_transfers_keep_the_order_they_were_sent_in(make) -> None:
    engine = make(transfer_to_category="front")
    a1, a2 = engine.issue_ticket("A"), engine.issue_ticket("A")
    issue(engine, "N", "B")
    engine.call_next("1")
    engine.transfer(a1.id, category="B")
    engine.call_next("1")
    engine.transfer(a2.id, category="B")
    assert drain(engine, "2") == ["A001", "A002", "B001"]


def test_rules_are_validated_with_the_allowed_values(tmp_path: Path) -> None:
    assert hall_settings(priority_lane=" Ratio:3 ").lane_ratio == 3
    assert hall_settings().lane_mode == "strict" and hall_settings().lane_ratio == 0
    for bad in ("ratio:0", "ratio:21", "ratio", "fifo", "ratio:x"):
        path = tmp_path / "queue.toml"
        path.write_text(f'[queue]\npriority_lane = "{bad}"\n', encoding="utf-8")
        with pytest.raises(ValueError, match=r"queue\.priority_lane: unknown priority lane rule"
                           r".*allowed: \"strict\".*ratio:N"):
            load_settings_file(path)
    path.write_text('[queue]\ntransfer_to_window = "middle"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"queue\.transfer_to_window:.*keep_issue_time"):
        load_settings_file(path)


def test_interleave_and_take_priority() -> None:
    assert lane_rules.interleave(["f"], ["p1", "p2"], ["r1", "r2", "r3"], 0, 2, 10) == \
        ["f", "r1", "r2", "p1", "r3", "p2"]
    assert lane_rules.interleave([], ["p1"], ["r1"], 5, 2, 10) == ["p1", "r1"]
    assert not lane_rules.take_priority(0, 3, False, True)
    assert lane_rules.take_priority(0, 3, True, False)


# -- migration of a schema-1 file ----------------------------------------------------------------

V1_TICKETS = """
CREATE TABLE counters (day TEXT NOT NULL, category TEXT NOT NULL, last INTEGER NOT NULL,
    issued INTEGER NOT NULL, PRIMARY KEY (day, category)) WITHOUT ROWID;
CREATE TABLE tickets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, request_id TEXT UNIQUE,
    day TEXT NOT NULL, category TEXT NOT NULL, number INTEGER NOT NULL,
    priority INTEGER NOT NULL, state TEXT NOT NULL, holder TEXT NOT NULL DEFAULT '',
    terminal TEXT NOT NULL DEFAULT '', source TEXT NOT NULL, appointment TEXT,
    issued_at REAL NOT NULL, called_at REAL, finished_at REAL,
    window TEXT, call_request TEXT UNIQUE, UNIQUE (day, category, number));
CREATE INDEX tickets_queue ON tickets (day, category, state, priority, issued_at);
"""


def _v1_file(path: Path, day: str, *, transfer_columns: bool) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V1_TICKETS)
    if transfer_columns:  # the last release added these when it opened a file
        conn.execute("ALTER TABLE tickets ADD COLUMN serve_category TEXT")
        conn.execute("ALTER TABLE tickets ADD COLUMN target_window TEXT")
        conn.execute("CREATE INDEX tickets_serve ON tickets (day, COALESCE(serve_category, "
                     "category), state, priority, issued_at)")
    t0 = 1_780_000_000.0
    rows = [("a1", 1, "waiting", t0), ("a2", 2, "waiting", t0 + 1), ("a3", 3, "served", t0 + 2)]
    for tid, number, state, issued in rows:
        conn.execute("INSERT INTO tickets (id, day, category, number, priority, state, source, "
                     "issued_at) VALUES (?, ?, 'A', ?, 0, ?, 'online', ?)",
                     (tid, day, number, state, issued))
    if transfer_columns:  # B001 was sent to window 1: under schema 1, its next call
        conn.execute("INSERT INTO tickets (id, day, category, number, priority, state, source, "
                     "issued_at, target_window) VALUES ('b1', ?, 'B', 1, 0, 'waiting', "
                     "'online', ?, '1')", (day, t0 + 3))
    conn.execute("INSERT INTO counters VALUES (?, 'A', 3, 3)", (day,))
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("transfer_columns", [True, False])
def test_a_schema_1_database_is_migrated_in_place(tmp_path: Path,
                                                  transfer_columns: bool) -> None:
    clock = Tick()
    path = tmp_path / "hall.sqlite"
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    day = datetime.fromtimestamp(clock.t, tz).date().isoformat()
    _v1_file(path, day, transfer_columns=transfer_columns)
    # the hall's tables share the file and its version number: opened first, they must not
    # make the engine skip its migration
    HallStore(path, tz).close()
    with QueueEngine(path, hall_settings(), clock=clock) as engine:
        order = [t.number for t in engine.waiting(["A"], 10, "1")]
        assert order == (["B001", "A001", "A002"] if transfer_columns else ["A001", "A002"])
        fresh = engine.issue_ticket("A")
        assert fresh.number == "A004" and fresh.people_ahead == 2  # no duplicate, no gap
        assert drain(engine, "1") == [*order, "A004"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    # a writer of schema 1 still running inserts without a place: it gets its issue time
    conn.execute("INSERT INTO tickets (id, day, category, number, priority, state, source, "
                 "issued_at) VALUES ('old', ?, 'A', 9, 0, 'waiting', 'online', 5.0)", (day,))
    conn.commit()
    assert conn.execute("SELECT COUNT(*) FROM tickets WHERE place IS NULL").fetchone()[0] == 0
    indexes = {r[1] for r in conn.execute("PRAGMA index_list(tickets)")}
    assert "tickets_place" in indexes and "tickets_serve" not in indexes
    conn.close()
    QueueEngine(path, hall_settings(), clock=clock).close()  # again: nothing left to do


def test_a_newer_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    QueueEngine(path, hall_settings()).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(sqlite3.OperationalError, match="newer version"):
        QueueEngine(path, hall_settings())

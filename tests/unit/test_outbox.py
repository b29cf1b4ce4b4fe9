"""The durable outbox: stored before publishing, deleted only on ack, resumes after restart."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kiosk.outbox import Outbox, OutboxError, OutboxFull


def test_put_peek_ack_in_order(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as box:
        for i in range(5):
            assert box.put(f"r{i}", "rating", "t/rating", f"p{i}".encode())
        assert box.depth == 5
        records = box.peek(3)
        assert [r.id for r in records] == ["r0", "r1", "r2"]
        assert records[0].payload == b"p0" and records[0].qos == 1
        assert [r.id for r in box.peek(10, after_seq=records[-1].seq)] == ["r3", "r4"]
        assert [r.id for r in box.peek(2, exclude={"r0"})] == ["r1", "r2"]
        assert box.ack(["r0", "r2", "unknown"]) == 2
        assert box.depth == 3
        assert [r.id for r in box.peek(10)] == ["r1", "r3", "r4"]


def test_same_id_is_stored_once(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as box:
        assert box.put("same", "rating", "t", b"1")
        assert not box.put("same", "rating", "t", b"2")
        assert box.depth == 1
        assert box.peek(5)[0].payload == b"1"


def test_wal_and_synchronous_full(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as box:
        mode = box._db.execute("PRAGMA journal_mode").fetchone()[0]
        sync = box._db.execute("PRAGMA synchronous").fetchone()[0]
    assert mode == "wal"
    assert sync == 2  # FULL


def test_survives_a_killed_process_and_resumes(tmp_path: Path) -> None:
    """A record whose put() returned is there after SIGKILL; acked records are gone."""
    path = tmp_path / "o.db"
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from kiosk.outbox import Outbox
        box = Outbox({str(path)!r})
        for i in range(50):
            box.put(f"r{{i}}", "rating", "t", b"x")
        box.ack([f"r{{i}}" for i in range(10)])
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert proc.returncode == -9
    with Outbox(path) as box:
        assert box.depth == 40
        assert box.peek(1)[0].id == "r10"


def test_alarm_before_the_cap_and_events_make_room(tmp_path: Path) -> None:
    alarms: list[tuple[bool, int, int]] = []
    with Outbox(tmp_path / "o.db", max_records=10, alarm_fraction=0.8,
                on_alarm=lambda on, depth, cap: alarms.append((on, depth, cap))) as box:
        for i in range(7):
            box.put(f"e{i}", "event", "t", b"e")
        assert not box.alarm and alarms == []
        box.put("e7", "event", "t", b"e")
        assert box.alarm and alarms == [(True, 8, 10)]
        box.put("e8", "event", "t", b"e")
        box.put("e9", "event", "t", b"e")
        with pytest.raises(OutboxFull, match="all of them ratings"):
            box.put("e10", "event", "t", b"e")  # events never push anything out
        assert box.put("r0", "rating", "t", b"r")  # a rating pushes out the oldest event
        assert box.depth == 10
        ids = [r.id for r in box.peek(20)]
        assert "e0" not in ids and ids[-1] == "r0"
        stats = box.stats()
        assert stats.evicted == 1 and stats.refused == 1 and stats.ratings == 1
        box.ack(ids[:5])
        assert not box.alarm and alarms[-1] == (False, 5, 10)


def test_full_of_ratings_refuses_and_keeps_everything(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db", max_records=3) as box:
        for i in range(3):
            box.put(f"r{i}", "rating", "t", b"r")
        with pytest.raises(OutboxFull) as info:
            box.put("r3", "rating", "t", b"r")
        assert "mqtt.url" in str(info.value) and "r3" in str(info.value)
        assert [r.id for r in box.peek(5)] == ["r0", "r1", "r2"]


def test_bad_input_is_explained(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as box:
        with pytest.raises(OutboxError, match="non-empty id"):
            box.put("", "rating", "t", b"x")
        with pytest.raises(OutboxError, match="qos"):
            box.put("a", "rating", "t", b"x", qos=3)
    with pytest.raises(OutboxError, match="max_records"):
        Outbox(tmp_path / "p.db", max_records=0)


def test_a_damaged_file_is_reported_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError, match="move it aside"):
        Outbox(path)
    assert path.read_bytes().startswith(b"this is not")


def test_a_newer_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    Outbox(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='9' WHERE key='format'")
    db.commit()
    db.close()
    with pytest.raises(OutboxError, match="format 9"):
        Outbox(path)


def test_stats_age(tmp_path: Path) -> None:
    now = [1000.0]
    with Outbox(tmp_path / "o.db", clock=lambda: now[0]) as box:
        assert box.stats().oldest_age_s == 0
        box.put("a", "rating", "t", b"x")
        now[0] = 1042.0
        assert box.stats().oldest_age_s == pytest.approx(42.0)
        assert box.stats().as_dict()["depth"] == 1

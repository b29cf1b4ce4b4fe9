"""Tide windows by crowd (潮汐窗口): a window takes on a category while many wait and gives
it back below the lower mark (engine, real SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.errors import ConfigError
from kiosk.queue import QueueEngine, QueueSettings


def windows_of(engine: QueueEngine, window: str) -> tuple[tuple[str, ...], str]:
    status = next(w for w in engine.windows() if w.id == window)
    return status.categories, status.source


def test_a_window_helps_while_the_queue_is_long(tmp_path: Path) -> None:
    settings = QueueSettings(synchronous="normal",
                             surge=[{"window": "4", "category": "A", "above": 3, "below": 1}])
    engine = QueueEngine(tmp_path / "q.sqlite", settings)
    try:
        tickets = [engine.issue_ticket("A") for _ in range(3)]
        assert windows_of(engine, "4") == (("C", "D"), "default")  # 3 waiting: not above 3
        tickets.append(engine.issue_ticket("A"))
        assert windows_of(engine, "4") == (("C", "D", "A"), "surge")
        assert "4号窗口" in engine.category("A").windows
        assert engine.ticket(tickets[-1].id).windows == ("1号窗口", "2号窗口", "4号窗口")
        # window 4 calls A now (it has no C or D waiting)
        assert engine.call_next("4").number == "A001"  # type: ignore[union-attr]
        engine.call_next("1")
        assert windows_of(engine, "4")[1] == "surge"  # 2 waiting: between the marks, kept
        engine.call_next("2")
        assert windows_of(engine, "4") == (("C", "D"), "default")  # 1 waiting: given back
        # a staff override for the day wins over the rule
        for _ in range(5):
            engine.issue_ticket("A")
        engine.set_window_categories("4", ["D"])
        assert windows_of(engine, "4") == (("D",), "override")
    finally:
        engine.close()


def test_surge_rules_are_checked() -> None:
    with pytest.raises((ConfigError, ValueError), match="below"):
        QueueSettings(surge=[{"window": "1", "category": "A", "above": 3, "below": 3}])
    with pytest.raises((ConfigError, ValueError), match="not in windows"):
        QueueSettings(surge=[{"window": "9", "category": "A"}])
    with pytest.raises((ConfigError, ValueError), match="unknown category"):
        QueueSettings(surge=[{"window": "1", "category": "Z"}])

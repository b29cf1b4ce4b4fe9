"""Which window serves which category right now (tide windows, 潮汐窗口).

Precedence: a staff override for today (``PUT /windows/{id}/categories``), then the first tide
line of the window covering the moment, then the window's default categories. On top of the
last two, a surge rule in force (many waiting, :class:`SurgeRule`) adds its category
(source ``surge``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from kiosk.queue.settings import QueueSettings


@dataclass(frozen=True)
class Assignment:
    window: str
    categories: tuple[str, ...]
    source: str  # "default" | "tide" | "override"


def surging(settings: QueueSettings, waiting: Mapping[str, int], active: set[int]) -> set[int]:
    """Indexes of the surge rules in force, given the waiting counts per category and the
    rules in force before (between `below` and `above` a rule keeps its state)."""
    now: set[int] = set()
    for index, rule in enumerate(settings.surge):
        count = waiting.get(rule.category, 0)
        if count > rule.above or (index in active and count > rule.below):
            now.add(index)
    return now


def assignments(settings: QueueSettings, local: datetime,
                overrides: Mapping[str, tuple[str, ...]] | None = None,
                surge: set[int] | None = None) -> dict[str, Assignment]:
    """Window id → what it serves at site-local time ``local``."""
    overrides = overrides or {}
    minute = local.hour * 60 + local.minute
    result: dict[str, Assignment] = {}
    for window in settings.windows:
        if window.id in overrides:
            result[window.id] = Assignment(window.id, tuple(overrides[window.id]), "override")
            continue
        line = next((t for t in settings.tide
                     if t.window == window.id and t.covers(local.weekday(), minute)), None)
        if line is not None:
            result[window.id] = Assignment(window.id, tuple(line.categories), "tide")
        else:
            result[window.id] = Assignment(window.id, tuple(window.categories), "default")
    for index in sorted(surge or ()):
        rule = settings.surge[index]
        current = result[rule.window]
        if current.source != "override" and rule.category not in current.categories:
            result[rule.window] = Assignment(rule.window, (*current.categories, rule.category),
                                             "surge")
    return result


def serving(category: str, mapping: Mapping[str, Assignment]) -> list[str]:
    """Ids of the windows serving ``category``, in configuration order."""
    return [wid for wid, a in mapping.items() if category in a.categories]


def servers(category: str, mapping: Mapping[str, Assignment]) -> float:
    """How many windows' worth of service the category gets: a window serving three
    categories counts a third for each."""
    return sum(1.0 / len(a.categories) for a in mapping.values() if category in a.categories)


def where(category: str, settings: QueueSettings,
          mapping: Mapping[str, Assignment]) -> tuple[tuple[str, ...], str]:
    """(window names, areas) serving ``category`` now, for the ticket."""
    ids = serving(category, mapping)
    names = tuple(settings.window_map[i].name for i in ids)
    areas = list(dict.fromkeys(settings.window_map[i].area for i in ids
                               if settings.window_map[i].area))
    return names, "、".join(areas)

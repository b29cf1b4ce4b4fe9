"""Which window serves which category right now (tide windows, 潮汐窗口).

Precedence: a staff override for today (``PUT /windows/{id}/categories``), then the first tide
line of the window covering the moment, then the window's default categories.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from config.queue import QueueSettings


@dataclass(frozen=True)
class Assignment:
    window: str
    categories: tuple[str, ...]
    source: str  # "default" | "tide" | "override"


def assignments(settings: QueueSettings, local: datetime,
                overrides: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, Assignment]:
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

"""The hall's day in counts for the fleet: one ``queue_daily`` event per service day.

Counts and times only (tickets, served, no-shows, waits, service times per category and per
window): no numbers, names, ticket ids or terminals of residents. The event's id is
``queue-daily-<hall>-<day>``, so a day reported twice (a restart) is one record for the fleet.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from kiosk.queue.hall import HallStore


def _weighted(rows: list[dict[str, Any]], key: str, weight: str) -> float | None:
    pairs = [(r[key], r[weight]) for r in rows if r[key] is not None and r[weight]]
    total = sum(w for _, w in pairs)
    return round(sum(v * w for v, w in pairs) / total, 1) if total else None


def daily_counts(hall: HallStore, day: str) -> dict[str, Any]:
    """``{"day", "categories": [...], "windows": [...]}`` for the ``queue_daily`` event."""
    rows = hall.stats(day, day)
    by_cat: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_win: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_cat[row["category"]].append(row)
        if row["window"]:
            by_win[row["window"]].append(row)

    def summary(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {"tickets": sum(r["tickets"] for r in items),
                "served": sum(r["served"] for r in items),
                "no_show": sum(r["no_show"] for r in items),
                "wait_mean_s": _weighted(items, "wait_mean_s", "tickets"),
                "wait_p90_s": max((r["wait_p90_s"] for r in items
                                   if r["wait_p90_s"] is not None), default=None),
                "service_mean_s": _weighted(items, "service_mean_s", "served")}

    return {"day": day,
            "categories": [{"category": c, **summary(v)} for c, v in sorted(by_cat.items())],
            "windows": [{"window": w, **summary(v)} for w, v in sorted(by_win.items())]}


def record_id(hall_id: str, day: str) -> str:
    return f"queue-daily-{hall_id}-{day}"

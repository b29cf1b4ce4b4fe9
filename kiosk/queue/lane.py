"""The order of call: the priority lane rule and the place of transferred tickets.

Every waiting ticket has a ``place`` (a column of ``tickets``): its issue time when issued,
and when transferred, by ``transfer_to_category`` / ``transfer_to_window``:

- ``keep_issue_time``: its issue time again (it queues as if it had waited there all along);
- ``back``: the time of the transfer (last in line);
- ``front``: the transfer time minus :data:`FRONT` (negative: first in line, ahead of every
  priority; two sent to the front keep the order they were sent in).

Then ``queue.priority_lane`` orders the rest:

- ``strict``: front, then priority (green channel, then appointments), then regular; within
  each, by place;
- ``off``: front, then everyone by place (priority is only a label);
- ``ratio:N``: front first; otherwise a window calls a regular ticket unless it has made N
  regular calls since its last priority call (or no regular ticket waits). The count per
  window and day is kept in ``lane_counters`` (same transaction as the call).

Pure functions here; :mod:`kiosk.queue.engine` holds the SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

#: subtracted from the transfer time for "front": any place below zero is first in line
FRONT = 1e10

#: ORDER BY of a lane (front, then priority, then place) for the strict rule, and of one line
ORDER_STRICT = "place >= 0, priority DESC, place, seq"
ORDER_OFF = "place, seq"


def transfer_place(rule: str, issued_at: float, now_ts: float) -> float:
    """The ``place`` of a ticket transferred under ``rule`` at ``now_ts``."""
    if rule == "front":
        return now_ts - FRONT
    if rule == "back":
        return now_ts
    return issued_at


def order_sql(mode: str) -> str:
    """ORDER BY for ``strict`` and ``off`` (``ratio`` picks from the strict lanes)."""
    return ORDER_OFF if mode == "off" else ORDER_STRICT


def take_priority(regular_calls: int, ratio: int, priority_waiting: bool,
                  regular_waiting: bool) -> bool:
    """``ratio:N`` at one window: is the next call from the priority lane?"""
    if not priority_waiting:
        return False
    return not regular_waiting or regular_calls >= ratio


def interleave(front: Sequence[T], priority: Sequence[T], regular: Sequence[T],
               regular_calls: int, ratio: int, limit: int) -> list[T]:
    """The next ``limit`` calls of a window under ``ratio:N`` (each list in its lane's order)."""
    out = list(front[:limit])
    p = r = 0
    count = regular_calls
    while len(out) < limit and (p < len(priority) or r < len(regular)):
        if take_priority(count, ratio, p < len(priority), r < len(regular)):
            out.append(priority[p])
            p += 1
            count = 0
        else:
            out.append(regular[r])
            r += 1
            count += 1
    return out


def ratio_ahead(*, front: int, priority_ahead: int, priority_total: int, regular_ahead: int,
                regular_total: int, is_priority: bool, regular_calls: int, ratio: int) -> int:
    """People called before a ticket (not itself at the front) under ``ratio:N``.

    ``regular_calls`` is the count of the window that will call it (clamped to N: after N
    regular calls the next priority ticket goes first, however many more were made while none
    waited). A priority ticket with k priority tickets ahead waits for the regular calls
    left before the lane's next turn, then N per ticket ahead; a regular ticket with r
    regular tickets ahead waits for one priority call each time the count reaches N.
    """
    c0 = min(max(regular_calls, 0), ratio)
    if is_priority:
        regular_before = min(regular_total, max(0, ratio - c0) + priority_ahead * ratio)
        return front + priority_ahead + regular_before
    return front + regular_ahead + min(priority_total, (regular_ahead + c0) // ratio)


_PLACE_WORDS = {"keep_issue_time": "按原取号时间排队", "front": "排在最前",
                "back": "排在最后（按转移时间）"}


def describe(priority_lane: str, to_category: str, to_window: str) -> list[dict[str, str]]:
    """The configured rules in the words of the staff page (``rule`` is the config value)."""
    mode, _, n = priority_lane.partition(":")
    lane_words = {"strict": "严格优先：绿色通道、预约号总是先叫",
                  "off": "不分优先：按取号时间叫号",
                  "ratio": f"比例：每叫 {n} 位普通号，插叫 1 位优先号"}[mode]
    return [{"name": "优先通道", "rule": priority_lane, "text": lane_words},
            {"name": "转到其他业务", "rule": to_category, "text": _PLACE_WORDS[to_category]},
            {"name": "转到指定窗口", "rule": to_window, "text": _PLACE_WORDS[to_window]}]

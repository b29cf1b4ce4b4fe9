"""Opening hours for the queue: open now? and if not, when next?

Built from the lines of ``terminal.opening_hours`` (``config.schema.OpeningHours``: ``days``,
``open``, ``close``); no lines means open around the clock. All times are the site's local
time (``terminal.timezone``), so "09:00" is 09:00 in Jinan whatever the machine's zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol


class HoursLine(Protocol):
    @property
    def day_set(self) -> frozenset[int]: ...
    @property
    def open_minute(self) -> int: ...
    @property
    def close_minute(self) -> int: ...


def _at(day: date, minute: int, tz: tzinfo) -> datetime:
    if minute >= 24 * 60:
        return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)


class OpeningHours:
    """The opening hours of one site in its time zone."""

    def __init__(self, lines: Sequence[HoursLine], tz: tzinfo) -> None:
        self.lines = tuple(lines)
        self.tz = tz

    @classmethod
    def from_terminal(cls, terminal: Any) -> OpeningHours:
        """From ``config.schema.TerminalConfig`` (``opening_hours`` and ``tzinfo``)."""
        return cls(terminal.opening_hours, terminal.tzinfo)

    @property
    def always_open(self) -> bool:
        return not self.lines

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.tz) if when.tzinfo else when.replace(tzinfo=self.tz)

    def is_open(self, when: datetime) -> bool:
        if not self.lines:
            return True
        local = self.local(when)
        minute = local.hour * 60 + local.minute
        return any(local.weekday() in line.day_set
                   and line.open_minute <= minute < line.close_minute for line in self.lines)

    def next_open(self, when: datetime, *, after_today: bool = False) -> datetime | None:
        """The first opening strictly after ``when`` (or after today, for a full day's
        capacity). Open around the clock: the next midnight for ``after_today``, else None."""
        local = self.local(when)
        if not self.lines:
            return _at(local.date() + timedelta(days=1), 0, self.tz) if after_today else None
        minute = local.hour * 60 + local.minute
        for offset in range(0, 8):
            day = local.date() + timedelta(days=offset)
            if offset == 0 and after_today:
                continue
            starts = sorted(line.open_minute for line in self.lines
                            if day.weekday() in line.day_set
                            and (offset > 0 or line.open_minute > minute))
            if starts:
                return _at(day, starts[0], self.tz)
        return None


def describe(when: datetime | None, now: datetime) -> str:
    """``今天 13:00`` / ``明天 09:00`` / ``5月6日 09:00`` for messages to residents."""
    if when is None:
        return ""
    local = when.astimezone(now.tzinfo) if now.tzinfo else when
    days = (local.date() - now.date()).days
    clock = local.strftime("%H:%M")
    if days == 0:
        return f"今天 {clock}"
    if days == 1:
        return f"明天 {clock}"
    return f"{local.month}月{local.day}日 {clock}"

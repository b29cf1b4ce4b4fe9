"""Time in one place: milliseconds since the epoch, and injectable for tests."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def now_ms() -> int:
    return int(time.time() * 1000)


def local_date(ms: int, tz: str = "Asia/Shanghai") -> date:
    """The calendar day of ``ms`` in the site's time zone (ratings count by the local day)."""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(tz)).date()


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")

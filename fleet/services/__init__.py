"""The service layer: what the API, the console, the ingest workers and the CLI call.

It knows nothing of HTTP. Every function takes a SQLAlchemy ``Session`` first; functions that
read or change data on someone's behalf take a :class:`fleet.auth.Principal` and apply its
role and region; times are milliseconds since the epoch, passed in (``now``) where the rule
depends on them, so tests choose the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


def clamp_page(page: int, per_page: int, max_per_page: int = 500) -> tuple[int, int]:
    return max(1, page), max(1, min(per_page, max_per_page))

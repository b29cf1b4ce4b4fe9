"""好差评 levels and the recorder interface (issue 7 adds the durable outbox and MQTT).

One internal enum; mappings to external codes live next to it so that no screen or adapter
invents its own numbering.
"""

from __future__ import annotations

import enum
import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol

from config.ratings import BAD_REASONS  # noqa: F401 (the [ratings] defaults, re-exported)


class Level(enum.StrEnum):
    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    BASIC = "basic"
    DISSATISFIED = "dissatisfied"
    VERY_DISSATISFIED = "very_dissatisfied"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def is_bad(self) -> bool:
        """差评: a reason is required."""
        return self in (Level.DISSATISFIED, Level.VERY_DISSATISFIED)

    @property
    def gbt39046_code(self) -> int:
        """GB/T 39046-2020 满意度代码: 1 = 非常满意 … 5 = 非常不满意."""
        return list(Level).index(self) + 1

    @property
    def provincial_code(self) -> int:
        """Provincial interface ``satisfaction``: 1 = 非常不满意 … 5 = 非常满意 (reversed)."""
        return 5 - list(Level).index(self)


LABELS = {
    Level.VERY_SATISFIED: "非常满意",
    Level.SATISFIED: "满意",
    Level.BASIC: "基本满意",
    Level.DISSATISFIED: "不满意",
    Level.VERY_DISSATISFIED: "非常不满意",
}



@dataclass(frozen=True)
class RatingRecord:
    """Personal-data-free part of a rating (real-name data is sealed separately, issue 7)."""

    item: str
    level: Level | None  # None = not rated (timed out); never a default level
    reasons: tuple[str, ...] = ()
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: float = field(default_factory=time.time)


class RatingRecorder(Protocol):
    def record(self, record: RatingRecord) -> None: ...

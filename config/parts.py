"""Building blocks of config sections, shared by ``config/`` and the settings models of the
kiosk packages (queue, …) that ``config/schema.py`` mounts.

A leaf module: it imports nothing from ``config`` (importing ``config`` runs its ``__init__``,
which loads the schema, which loads those settings models: a cycle).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAYS_WORDS = ('"daily", day names mon tue wed thu fri sat sun, ranges such as "mon-fri", '
              'or a comma-separated list such as "sat,sun" or "mon-fri,sun"')

_TIME_RE = re.compile(r"^(\d{2}):(\d{2})$")


def parse_days(text: str) -> frozenset[int]:
    """``"mon-fri"`` → {0..4}; ``"sat,sun"`` → {5, 6}; ``"daily"`` → all; ranges may wrap."""
    spec = text.strip().lower()
    if spec == "daily":
        return frozenset(range(7))
    days: set[int] = set()
    for part in spec.split(","):
        first, sep, last = part.strip().partition("-")
        if first not in DAY_NAMES or (sep and last not in DAY_NAMES):
            raise ValueError(f"cannot read days {text!r}")
        start = DAY_NAMES.index(first)
        span = ((DAY_NAMES.index(last) if sep else start) - start) % 7
        days.update((start + i) % 7 for i in range(span + 1))
    return frozenset(days)


def parse_hhmm(text: str, allow_24: bool = False) -> int:
    """``"09:30"`` → 570 minutes after midnight; ``"24:00"`` → 1440 when ``allow_24``."""
    match = _TIME_RE.match(text.strip())
    if match:
        hours, minutes = int(match.group(1)), int(match.group(2))
        if hours < 24 and minutes < 60:
            return hours * 60 + minutes
        if allow_24 and hours == 24 and minutes == 0:
            return 24 * 60
    raise ValueError(f"cannot read time {text!r}")


def config_problem(message: str, *, value: Any = None, allowed: str = "", key: str = "",
                   subkey: str = "", related: tuple[str, ...] = ()) -> PydanticCustomError:
    """An error for validators that carries what :mod:`config.errors` needs to explain it.

    ``key`` replaces the error location (dotted, absolute), ``subkey`` is appended to it (for
    a model validator blaming one field), ``related`` names other keys whose source may be the
    one to blame (cross-section checks).
    """
    ctx = {"message": message, "value": value, "allowed": allowed, "key": key,
           "subkey": subkey, "related": ",".join(related)}
    return PydanticCustomError("kiosk_config", "{message}", ctx)


def config_field(default: Any = ..., description: str = "", *, allowed: str | None = None,
                 default_doc: str | None = None, **kwargs: Any) -> Any:
    """A documented field: ``allowed`` and ``default_doc`` feed error messages and
    docs/config.md."""
    extra: dict[str, Any] = {}
    if allowed:
        extra["allowed"] = allowed
    if default_doc:
        extra["default_doc"] = default_doc
    factory = kwargs.pop("default_factory", None)
    if factory is not None:
        return Field(default_factory=factory, description=description,
                     json_schema_extra=extra or None, **kwargs)
    return Field(default, description=description, json_schema_extra=extra or None, **kwargs)


class Section(BaseModel):
    """Base of every config section: frozen, unknown keys refused, defaults validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

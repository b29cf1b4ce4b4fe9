"""Opening hours at the attract screen: is the terminal serving now, and what to tell people
when it is not (a hosted terminal in a bank or post office closes with its branch).

A terminal in a 24-hour self-service zone (``terminal.open_24h``) or without hours always
serves. Plain Python; the attract screen asks :func:`serves` and :func:`closed_notice`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from config.parts import DAY_NAMES

_ZH_DAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_EN_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def serves(terminal: Any, when: datetime | None = None) -> bool:
    return bool(terminal.serves(when))


def _days_text(spec: str, lang: str) -> str:
    names = _ZH_DAYS if lang == "zh_CN" else _EN_DAYS
    if spec == "daily":
        return "每天" if lang == "zh_CN" else "Daily"
    parts = []
    for part in spec.split(","):
        first, sep, last = part.strip().partition("-")
        one = names[DAY_NAMES.index(first)]
        parts.append(one + (("至" if lang == "zh_CN" else "–") + names[DAY_NAMES.index(last)]
                            if sep else ""))
    return ("、" if lang == "zh_CN" else ", ").join(parts)


def hours_text(terminal: Any, lang: str = "zh_CN") -> str:
    """``周一至周五 09:00-17:00；周六 09:00-12:00`` (or English)."""
    separator = "；" if lang == "zh_CN" else "; "
    return separator.join(f"{_days_text(line.days, lang)} {line.open}-{line.close}"
                          for line in terminal.opening_hours)


def closed_notice(terminal: Any, lang: str = "zh_CN") -> dict[str, str]:
    """What the closed attract screen shows: the hours and the nearest 24-hour zone."""
    return {"hours": hours_text(terminal, lang), "nearest": terminal.nearest_24h_zone}

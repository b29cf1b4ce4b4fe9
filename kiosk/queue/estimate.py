"""Estimated wait from recent service times of a category (not a constant).

A service time is from the call to the end of service (served), as recorded by the windows.
With few samples the configured ``service_min`` pulls the figure towards itself, so the first
residents of a new category do not get a wild estimate from one fast or slow case.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

MIN_SAMPLES = 5  # below this the configured default still weighs in
MIN_SERVICE_S = 10.0  # shorter "services" are mis-clicks and are ignored
MAX_SERVICE_S = 4 * 3600.0


def service_seconds(durations: Sequence[float], default_s: float) -> float:
    """Typical seconds per resident: the median of recent times, shrunk towards the default
    while there are fewer than :data:`MIN_SAMPLES`."""
    usable = [d for d in durations if MIN_SERVICE_S <= d <= MAX_SERVICE_S]
    if not usable:
        return default_s
    median = statistics.median(usable)
    if len(usable) >= MIN_SAMPLES:
        return median
    weight = len(usable) / MIN_SAMPLES
    return weight * median + (1 - weight) * default_s


def wait_minutes(people_ahead: int, service_s: float, servers: float) -> int | None:
    """Whole minutes until a resident with ``people_ahead`` before them is called, or None
    when no window serves the category at the moment."""
    if servers <= 0:
        return None
    if people_ahead <= 0:
        return 0
    return math.ceil(people_ahead * service_s / servers / 60)

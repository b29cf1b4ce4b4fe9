"""Rating pads (好差评评价器): canonical levels, the key-press event and the device contract.

A press counts only while a rating prompt is open: the kiosk calls :meth:`RatingPad.arm`
when it shows the evaluation screen and :meth:`RatingPad.disarm` when it closes it. A press
outside a prompt is dropped, never stored as a rating (no default rating, PROTOCOLS §3).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drivers.base import Device, DeviceEvent

KIND = "ratingpad"

#: Canonical level names, best to worst (非常满意, 满意, 基本满意, 不满意, 非常不满意).
LEVELS: tuple[str, ...] = (
    "very_satisfied",
    "satisfied",
    "basic",
    "dissatisfied",
    "very_dissatisfied",
)


@dataclass(frozen=True)
class RatingKeyPressed(DeviceEvent):
    """A level key was pressed on the pad while a prompt was open."""

    kind: str = field(default=KIND, init=False)
    level: str

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown rating level {self.level!r}; expected one of {LEVELS}")


class RatingPad(Device):
    """Abstract rating pad (kind ``"ratingpad"``) with the arm/disarm gate.

    Backends call :meth:`_key_pressed` for every key they decode; it publishes only while
    armed.
    """

    kind = KIND
    type_name = "abstract"

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)
        self._armed = False
        self._arm_lock = threading.Lock()

    @property
    def armed(self) -> bool:
        return self._armed

    def arm(self) -> None:
        """A rating prompt is open: report presses from now on."""
        with self._arm_lock:
            self._armed = True
            self._on_arm(True)

    def disarm(self) -> None:
        """The prompt is closed: ignore presses."""
        with self._arm_lock:
            self._armed = False
            self._on_arm(False)

    def _on_arm(self, armed: bool) -> None:
        """Hook for backends whose pad shows a prompt light or needs a command to listen."""

    def _key_pressed(self, level: str) -> bool:
        """Publish a press if armed; returns whether it was published."""
        if level not in LEVELS:
            raise ValueError(f"unknown rating level {level!r}")
        with self._arm_lock:
            if not self._armed:
                return False
        self._emit(RatingKeyPressed(level))
        return True

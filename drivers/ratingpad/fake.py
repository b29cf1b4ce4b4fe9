"""In-process fake rating pad for unit tests, demos and the UI."""

from __future__ import annotations

from drivers.fake_base import PluggableFake
from drivers.ratingpad.interface import LEVELS, RatingPad


class FakeRatingPad(PluggableFake, RatingPad):
    """A pad driven by test code: :meth:`press` a level, :meth:`set_available`. Thread-safe."""

    type_name = "fake"
    unplugged_reason = "rating pad unplugged"

    def press(self, level: str) -> bool:
        """Press a key (one of :data:`LEVELS`); published only if running, available, armed."""
        with self._ops:
            if not (self._running and self._available):
                if level not in LEVELS:
                    raise ValueError(f"unknown rating level {level!r}")
                return False
            return self._key_pressed(level)


"""Rating pads (好差评评价器): interface and fake (serial vendor adapters go beside them)."""

from drivers.ratingpad.interface import KIND, LEVELS, RatingKeyPressed, RatingPad

BACKENDS: dict[str, str] = {
    "fake": "drivers.ratingpad.fake:FakeRatingPad",
}

__all__ = ["BACKENDS", "KIND", "LEVELS", "RatingKeyPressed", "RatingPad"]

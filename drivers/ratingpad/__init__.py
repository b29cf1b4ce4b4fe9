"""Rating pads (好差评评价器): interface, fake, and the serial pad (reference protocol RP1 and
vendor adapters, see :mod:`drivers.ratingpad.protocol`) with its pty emulator."""

from drivers.ratingpad.interface import KIND, LEVELS, RatingKeyPressed, RatingPad

BACKENDS: dict[str, str] = {
    "fake": "drivers.ratingpad.fake:FakeRatingPad",
    "serial": "drivers.ratingpad.serial_pad:SerialRatingPad",
}

__all__ = ["BACKENDS", "KIND", "LEVELS", "RatingKeyPressed", "RatingPad"]

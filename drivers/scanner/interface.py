"""QR / barcode scanners: the event every code reader publishes and the device contract.

:class:`CodeScanned` is shared with the camera (``source="camera"``) so the kiosk handles a
code the same way whichever device saw it. Its ``kind`` is the emitting device's kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.base import Device, DeviceEvent

KIND = "scanner"
SOURCES = ("scanner", "camera")


def mask_payload(payload: str) -> str:
    """What may be logged of a scanned code: its length and first two characters."""
    return f"<{len(payload)} chars: {payload[:2]!r}…>"


@dataclass(frozen=True, repr=False)
class CodeScanned(DeviceEvent):
    """A code was read. ``payload`` is the decoded text (opaque: a resident code, a ticket QR…).

    ``source`` is ``"scanner"`` for a dedicated scanner, ``"camera"`` for a code seen by the
    camera. The repr shows only the length and first two characters of the payload.
    """

    payload: str
    source: str = "scanner"

    def __repr__(self) -> str:
        return (f"CodeScanned(kind={self.kind!r}, source={self.source!r}, "
                f"payload={mask_payload(self.payload)})")

    __str__ = __repr__


class Scanner(Device):
    """Abstract code scanner (kind ``"scanner"``)."""

    kind = KIND
    type_name = "abstract"

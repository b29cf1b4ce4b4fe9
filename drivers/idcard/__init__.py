"""2nd-generation resident ID card readers (居民身份证阅读器, SAM module).

Backends: ``fake`` (in-process, driven by tests and the demo) and ``sam`` (the serial "GA 467"
framed protocol over a pyserial URL). ``drivers.idcard.emulator`` speaks the same bytes on a
pseudo-terminal or TCP for tests and technicians.
"""

from drivers.idcard.interface import (
    CardType,
    IdCardData,
    IdCardRead,
    IdCardReader,
    IdCardReadFailed,
    IdCardRemoved,
)

BACKENDS: dict[str, str] = {
    "fake": "drivers.idcard.fake:FakeIdCardReader",
    "sam": "drivers.idcard.sam_driver:SamIdCardReader",
}

__all__ = [
    "BACKENDS",
    "CardType",
    "IdCardData",
    "IdCardRead",
    "IdCardReadFailed",
    "IdCardReader",
    "IdCardRemoved",
]

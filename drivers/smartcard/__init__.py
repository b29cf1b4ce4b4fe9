"""Social security card (社会保障卡) readers: interface, fake and the PC/SC backend.

Backends are imported lazily by :mod:`drivers.registry`; importing this package does not
need pyscard.
"""

from drivers.smartcard.interface import (
    KIND,
    SocialSecurityCardReader,
    SsCardData,
    SsCardInserted,
    SsCardRead,
    SsCardReadFailed,
    SsCardRemoved,
)

BACKENDS: dict[str, str] = {
    "fake": "drivers.smartcard.fake:FakeSocialSecurityCardReader",
    "pcsc": "drivers.smartcard.pcsc:PcscSocialSecurityReader",
}

__all__ = [
    "BACKENDS",
    "KIND",
    "SocialSecurityCardReader",
    "SsCardData",
    "SsCardInserted",
    "SsCardRead",
    "SsCardReadFailed",
    "SsCardRemoved",
]

"""What every ID card reader backend publishes: the card data and three events.

The UI subscribes to an :class:`IdCardReader` and receives, from the driver's own thread:

- :class:`IdCardRead` once per card presentation (the card must be lifted before it is read
  again),
- :class:`IdCardRemoved` when the card is lifted (or the reader goes away while a card was on it),
- :class:`IdCardReadFailed` when a card was found but could not be read (plain-language reason),
- :class:`drivers.base.DeviceStateChanged` for READY / UNAVAILABLE.

Every object here that holds personal data masks it in ``repr`` so that it can never leak into a
log line by accident.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar

from drivers.base import Device, DeviceEvent
from drivers.idcard.idnumber import is_valid_id_number
from drivers.privacy import mask_id_number, mask_name, mask_text

KIND = "idcard"


class CardType(enum.StrEnum):
    """The card families a 2nd-generation reader can read (marker at text bytes 248-249)."""

    RESIDENT = "resident"  # 居民身份证 (no marker)
    HMT_RESIDENCE = "hmt_residence"  # 港澳台居民居住证, marker "J"
    FOREIGNER_2017 = "foreigner_2017"  # 外国人永久居留身份证 (2017), marker "I"
    FOREIGNER_2023 = "foreigner_2023"  # 外国人永久居留身份证 (2023), marker "Y"

    @property
    def marker(self) -> str:
        """The character the card carries at text bytes 248-249 (blank for resident cards)."""
        return _MARKERS[self]

    @property
    def label(self) -> str:
        """The card's Chinese name, for screens and receipts."""
        return _LABELS[self]

    @classmethod
    def from_marker(cls, marker: str) -> CardType | None:
        """``"J"`` → HMT_RESIDENCE…; blank/NUL → RESIDENT; anything else → ``None``."""
        marker = (marker or "").strip(" \x00")
        for card_type, value in _MARKERS.items():
            if value == marker:
                return card_type
        return None


_MARKERS = {
    CardType.RESIDENT: "",
    CardType.HMT_RESIDENCE: "J",
    CardType.FOREIGNER_2017: "I",
    CardType.FOREIGNER_2023: "Y",
}
_LABELS = {
    CardType.RESIDENT: "居民身份证",
    CardType.HMT_RESIDENCE: "港澳台居民居住证",
    CardType.FOREIGNER_2017: "外国人永久居留身份证（2017版）",
    CardType.FOREIGNER_2023: "外国人永久居留身份证（2023版）",
}


@dataclass(frozen=True, repr=False)
class IdCardData:
    """One card's content as decoded from the reader.

    ``id_number`` is the citizen ID number, the residence-permit number (81/82/83…) or the
    permanent-residence number (15 characters on 2017 cards, 18 digits on 2023 cards).
    ``valid_to`` is ``None`` for a long-term (长期) card. ``photo_wlt`` is the raw 1024-byte WLT
    photo; decoding it needs a vendor library.
    """

    card_type: CardType
    name: str
    gender: str
    nation: str
    birth_date: date | None
    address: str
    id_number: str
    authority: str
    valid_from: date | None
    valid_to: date | None
    appended_address: str = ""
    english_name: str = ""
    nationality: str = ""
    pass_number: str = ""
    issue_count: str = ""
    photo_wlt: bytes = b""

    @property
    def masked_name(self) -> str:
        """``李*``; the English name for foreigners without a Chinese name."""
        return mask_name(self.name or self.english_name)

    @property
    def masked_id(self) -> str:
        """``3701**********123X``."""
        return mask_id_number(self.id_number)

    @property
    def is_long_term(self) -> bool:
        """A 长期 (no end date) card."""
        return self.valid_to is None

    @property
    def id_number_valid(self) -> bool:
        """True when the number passes its check: MOD 11-2 for 18-digit numbers; 2017 foreigner
        numbers (3 letters + 12 digits) have no public check rule, so only their shape is
        checked."""
        if self.card_type is CardType.FOREIGNER_2017:
            value = self.id_number
            return (len(value) == 15 and value[:3].isascii() and value[:3].isalpha()
                    and value[3:].isascii() and value[3:].isdigit())
        return is_valid_id_number(self.id_number)

    def expired(self, today: date) -> bool:
        """True when ``today`` is after the last day of validity (never for 长期 cards)."""
        return self.valid_to is not None and today > self.valid_to

    def __repr__(self) -> str:
        return (f"IdCardData(card_type={self.card_type.value}, name={self.masked_name!r}, "
                f"id_number={self.masked_id!r}, address={mask_text(self.address)!r}, "
                f"valid_to={'长期' if self.valid_to is None else self.valid_to.isoformat()}, "
                f"photo={len(self.photo_wlt)} B)")

    __str__ = __repr__


@dataclass(frozen=True)
class IdCardRead(DeviceEvent):
    """A card was read. Published once per presentation."""

    kind: str = field(default=KIND, init=False)
    data: IdCardData

    def __repr__(self) -> str:
        return f"IdCardRead({self.data!r})"


@dataclass(frozen=True)
class IdCardRemoved(DeviceEvent):
    """The card was lifted from the reader (or the reader went away while it was there)."""

    kind: str = field(default=KIND, init=False)


@dataclass(frozen=True)
class IdCardReadFailed(DeviceEvent):
    """A card is on the reader but could not be read; ``reason`` is plain language, no PII."""

    kind: str = field(default=KIND, init=False)
    reason: str


class IdCardReader(Device):
    """Base class of the ID card reader backends (``fake``, ``sam``)."""

    kind: ClassVar[str] = KIND
    type_name: ClassVar[str] = "base"

    def _publish_read(self, data: IdCardData) -> None:
        self._emit(IdCardRead(data))

    def _publish_removed(self) -> None:
        self._emit(IdCardRemoved())

    def _publish_failed(self, reason: str) -> None:
        self._emit(IdCardReadFailed(reason))

"""Social security card (社会保障卡, LD/T 32) reader: data, events and the device contract.

The reader publishes, in order, :class:`SsCardInserted` when a card lands in the reader,
:class:`SsCardRead` once its basic data was read (or :class:`SsCardReadFailed`), and
:class:`SsCardRemoved` when it is taken out. A reader never asks for the card's PIN.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.base import Device, DeviceEvent
from drivers.privacy import mask_id_number, mask_name, mask_text

KIND = "smartcard"


@dataclass(frozen=True, repr=False)
class SsCardData:
    """The basic data of one social security card (files EF05 and EF06 of the SSSE).

    Every value is a decoded, trimmed string ("" when the card did not give it). ``missing``
    names the items the card refused to give (a 3rd-generation card without a PSAM, for
    example), using the field names of this class.
    """

    card_id: str  # EF05/01 card identifier (hex); first 6 digits are the region code
    region_code: str  # 6-digit administrative division code (行政区划)
    card_type: str  # EF05/02
    spec_version: str  # EF05/03, e.g. "2.00" or "3.00"
    issuer: str  # EF05/04 issuing body code
    issue_date: str  # EF05/05, YYYYMMDD
    expiry: str  # EF05/06, YYYYMMDD
    card_number: str  # EF05/07, 9 characters
    ss_number: str  # EF06/08 social security number (the citizen ID number)
    name: str  # EF06/09 (+ 4E extension)
    gender: str  # EF06/0A, GB/T 2261.1 code: "1" male, "2" female
    nation: str  # EF06/0B, two-digit code ("01" 汉)
    birth_date: str  # EF06/0D, YYYYMMDD
    missing: tuple[str, ...] = ()
    birthplace: str = ""  # EF06/0C, 6-digit administrative division code

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_id(self) -> str:
        return mask_id_number(self.ss_number)

    @property
    def complete(self) -> bool:
        return not self.missing

    def __repr__(self) -> str:
        return (
            f"SsCardData(name={self.masked_name!r}, ss_number={self.masked_id!r}, "
            f"card_number={mask_text(self.card_number, 1)!r}, region_code={self.region_code!r}, "
            f"card_type={self.card_type!r}, spec_version={self.spec_version!r}, "
            f"missing={self.missing!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class SsCardInserted(DeviceEvent):
    """A card was put into ``reader`` (the PC/SC reader name)."""

    kind: str = field(default=KIND, init=False)
    reader: str


@dataclass(frozen=True, repr=False)
class SsCardRead(DeviceEvent):
    """The card's data was read."""

    kind: str = field(default=KIND, init=False)
    data: SsCardData

    def __repr__(self) -> str:
        return f"SsCardRead(data={self.data!r})"


@dataclass(frozen=True)
class SsCardRemoved(DeviceEvent):
    """The card was taken out of ``reader``."""

    kind: str = field(default=KIND, init=False)
    reader: str


@dataclass(frozen=True)
class SsCardReadFailed(DeviceEvent):
    """A card was inserted but could not be read; ``reason`` is plain words, no personal data."""

    kind: str = field(default=KIND, init=False)
    reason: str


class SocialSecurityCardReader(Device):
    """Abstract social security card reader (kind ``"smartcard"``)."""

    kind = KIND
    type_name = "abstract"

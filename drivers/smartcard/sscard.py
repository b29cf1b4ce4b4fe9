"""Read the basic data of a social security card (LD/T 32, PROTOCOLS §2).

Sequence, over any ``transmit(apdu) -> (data, sw1, sw2)``:

1. SELECT the SSSE application by name (``sx1.sh.社会保障``); 9000 or 61xx is fine. On 6A82
   the card is asked for EF05 directly (some issuers' cards answer that way).
2. SELECT EF05, READ RECORD 01-07 by number: card identifier, card type, spec version,
   issuing body, issue date, expiry, card number.
3. SELECT EF06, READ RECORD by tag 08, 09, 4E, 0A, 0B, 0C, 0D: social security number, name,
   name extension, gender, nation, birthplace, birth date.

Items the card refuses (6982 on a 3rd-generation card without a PSAM, 6A83…) are left empty
and named in :attr:`SsCardData.missing`; the read fails only if the card is not a social
security card at all or answers nothing useful. No PIN is ever presented.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from drivers.smartcard.apdu import (
    ApduError,
    CardChannel,
    Transmit,
    decode_an,
    decode_bcd,
    read_record_by_number,
    read_record_by_tag,
    select_by_name,
    select_ef,
    sw_text,
    tlv_value,
)
from drivers.smartcard.interface import SsCardData

log = logging.getLogger(__name__)

#: "sx1.sh." + 社会保障 in GBK: the social security application (SSSE)
SSSE_AID = b"sx1.sh." + "社会保障".encode("gbk")
EF05 = 0xEF05  # card information (卡片基本信息)
EF06 = 0xEF06  # holder information (持卡人基本信息)


@dataclass(frozen=True)
class Item:
    """One data item: where it lives, how long its value is, how it is encoded."""

    tag: int
    field: str  # SsCardData field it feeds
    length: int  # value length per LD/T 32 (Le = length + 2 for tag and length)
    fmt: str  # "b" hex, "an" text, "cn" BCD
    optional: bool = False  # absence (6A83) is normal, not "missing"

    @property
    def le(self) -> int:
        return self.length + 2


EF05_ITEMS: tuple[Item, ...] = (
    Item(0x01, "card_id", 16, "b"),
    Item(0x02, "card_type", 1, "an"),
    Item(0x03, "spec_version", 4, "an"),
    Item(0x04, "issuer", 16, "an"),
    Item(0x05, "issue_date", 4, "cn"),
    Item(0x06, "expiry", 4, "cn"),
    Item(0x07, "card_number", 9, "an"),
)

EF06_ITEMS: tuple[Item, ...] = (
    Item(0x08, "ss_number", 18, "an"),
    Item(0x09, "name", 30, "an"),
    Item(0x4E, "name", 20, "an", optional=True),  # name extension for long names
    Item(0x0A, "gender", 1, "an"),
    Item(0x0B, "nation", 1, "cn"),
    Item(0x0C, "birthplace", 3, "cn"),
    Item(0x0D, "birth_date", 4, "cn"),
)

#: status words meaning "this item is not for you" rather than "the card is broken"
_REFUSED = {0x6982, 0x6985, 0x6A83, 0x6A82, 0x6A86, 0x6B00}


class SsCardError(Exception):
    """The card could not be read as a social security card; the message is plain words."""


@dataclass
class ReadStats:
    """Personal-data-free facts about one read, for health details and the provisioning check."""

    apdus: int = 0
    seconds: float = 0.0
    fallback_ef05: bool = False  # SSSE select answered 6A82 and EF05 was selected directly
    refused: dict[str, str] = field(default_factory=dict)  # field -> status word text


def _decode(item: Item, value: bytes) -> str:
    if item.fmt == "b":
        return value.hex().upper()
    if item.fmt == "cn":
        try:
            return decode_bcd(value)
        except ApduError:
            return value.hex().upper()
    return decode_an(value)


def _select(channel: CardChannel, apdu: bytes) -> int:
    _data, sw1, sw2 = channel.send(apdu)
    return (sw1 << 8) | sw2


def read_sscard(transmit: Transmit, stats: ReadStats | None = None) -> SsCardData:
    """Read one card through ``transmit``; raises :class:`SsCardError` if it cannot."""
    stats = stats if stats is not None else ReadStats()
    channel = CardChannel(transmit)
    started = time.monotonic()
    try:
        return _read(channel, stats)
    finally:
        stats.apdus = channel.sent
        stats.seconds = time.monotonic() - started


def _read(channel: CardChannel, stats: ReadStats) -> SsCardData:
    sw = _select(channel, select_by_name(SSSE_AID))
    if sw == 0x6A82:
        stats.fallback_ef05 = True
    elif sw != 0x9000:
        raise SsCardError(f"the card refused the social security application ({sw_text(*_sw(sw))})")

    values: dict[str, str] = {}
    missing: list[str] = []

    sw = _select(channel, select_ef(EF05))
    if sw != 0x9000:
        if stats.fallback_ef05:
            raise SsCardError("not a social security card (no SSSE application, no EF05)")
        raise SsCardError(f"the card has no card information file EF05 ({sw_text(*_sw(sw))})")
    for item in EF05_ITEMS:
        _read_item(channel, item, read_record_by_number(item.tag, item.le), values, missing,
                   stats)

    sw = _select(channel, select_ef(EF06))
    if sw == 0x9000:
        for item in EF06_ITEMS:
            _read_item(channel, item, read_record_by_tag(item.tag, item.le), values, missing,
                       stats)
    else:
        log.info("EF06 not readable: %s", sw_text(*_sw(sw)))
        for item in EF06_ITEMS:
            if not item.optional and item.field not in missing:
                missing.append(item.field)
                stats.refused[item.field] = sw_text(*_sw(sw))

    if not any(values.get(f) for f in ("card_id", "card_number", "ss_number")):
        raise SsCardError("the card gave none of its identifying data")

    card_id = values.get("card_id", "")
    region = card_id[:6] if card_id[:6].isdigit() else ""
    return SsCardData(
        card_id=card_id,
        region_code=region,
        card_type=values.get("card_type", ""),
        spec_version=values.get("spec_version", ""),
        issuer=values.get("issuer", ""),
        issue_date=values.get("issue_date", ""),
        expiry=values.get("expiry", ""),
        card_number=values.get("card_number", ""),
        ss_number=values.get("ss_number", ""),
        name=values.get("name", ""),
        gender=values.get("gender", ""),
        nation=values.get("nation", ""),
        birth_date=values.get("birth_date", ""),
        missing=tuple(missing),
        birthplace=values.get("birthplace", ""),
    )


def _sw(sw: int) -> tuple[int, int]:
    return sw >> 8, sw & 0xFF


def _read_item(channel: CardChannel, item: Item, apdu: bytes, values: dict[str, str],
               missing: list[str], stats: ReadStats) -> None:
    data, sw1, sw2 = channel.send(apdu)
    sw = (sw1 << 8) | sw2
    reason = sw_text(sw1, sw2)
    if sw == 0x9000:
        try:
            text = _decode(item, tlv_value(data, item.tag))
        except ApduError as exc:
            log.warning("item %02X unreadable: %s", item.tag, exc)
            reason = "undecodable answer"
        else:
            if item.tag == 0x4E:  # the name extension continues the name
                if values.get(item.field):
                    values[item.field] += text
            else:
                values[item.field] = text
            return
    elif sw not in _REFUSED:
        log.info("item %02X: unexpected %s", item.tag, reason)
    if item.optional:
        return
    if item.field not in missing:
        missing.append(item.field)
        stats.refused[item.field] = reason

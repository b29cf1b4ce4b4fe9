"""Fictitious social security cards for the fake reader, the emulator, demos and tests.

No real person: names are placeholders and ID numbers are made up, but every ID number has a
valid GB 11643 check digit so code that validates it accepts the samples.
"""

from __future__ import annotations

from dataclasses import replace

from drivers.smartcard.interface import SsCardData

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """GB 11643 (ISO 7064 MOD 11-2) check character of the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need the first 17 digits of an ID number")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def id_number_valid(value: str) -> bool:
    """True for an 18-character ID number whose check character matches."""
    value = value.strip().upper()
    return len(value) == 18 and value[:17].isdigit() and id_check_digit(value[:17]) == value[17]


def _id(first17: str) -> str:
    return first17 + id_check_digit(first17)


#: A 2nd-generation (spec 2.00) card issued in Jinan (济南, 370100).
SAMPLE_CARD = SsCardData(
    card_id="370100D15600000500A1B2C3D4E5F6A7",
    region_code="370100",
    card_type="1",
    spec_version="2.00",
    issuer="370100",
    issue_date="20180315",
    expiry="20280315",
    card_number="A00012345",
    ss_number=_id("37010219850612003"),
    name="测试样卡",
    gender="1",
    nation="01",
    birth_date="19850612",
    birthplace="370102",
)

#: A 3rd-generation (spec 3.00) card issued in Qingdao (青岛, 370200).
SAMPLE_CARD_V3 = SsCardData(
    card_id="370200D15600000500F6E5D4C3B2A190",
    region_code="370200",
    card_type="3",
    spec_version="3.00",
    issuer="370200",
    issue_date="20230901",
    expiry="20330901",
    card_number="B00067890",
    ss_number=_id("37020319920228004"),
    name="样例持卡人",
    gender="2",
    nation="01",
    birth_date="19920228",
    birthplace="370203",
)

#: The same 3.00 card read without PSAM access: the name is refused by the card.
SAMPLE_CARD_V3_PARTIAL = replace(SAMPLE_CARD_V3, name="", missing=("name",))

#: A card whose name is longer than the 30 bytes of item 09: the rest is in item 4E.
SAMPLE_CARD_LONG_NAME = replace(
    SAMPLE_CARD,
    card_number="C00024680",
    ss_number=_id("37010419700101005"),
    birth_date="19700101",
    name="阿卜杜热合曼·测试样例长名字持卡人",  # 17 characters, 34 bytes in GBK
)

SAMPLES: dict[str, SsCardData] = {
    "v2": SAMPLE_CARD,
    "v3": SAMPLE_CARD_V3,
    "v3_partial": SAMPLE_CARD_V3_PARTIAL,
    "long_name": SAMPLE_CARD_LONG_NAME,
}

"""Fictitious sample cards for demos, tests and the emulator.

Every person, address and number here is made up; the ID numbers carry correct GB 11643 check
digits (and the sex digit matches the gender) so that they pass the same validation as real
cards. One sample per :class:`CardType`, plus a long-term (长期) card and an expired card.
"""

from __future__ import annotations

import hashlib
from datetime import date

from drivers.idcard.interface import CardType, IdCardData


def fake_photo(seed: str) -> bytes:
    """1024 deterministic bytes standing in for a WLT photo (not decodable: no real face)."""
    out = b""
    counter = 0
    while len(out) < 1024:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return out[:1024]


RESIDENT = IdCardData(
    card_type=CardType.RESIDENT,
    name="李明",
    gender="男",
    nation="汉",
    birth_date=date(1990, 3, 7),
    address="山东省济南市历下区泉城路100号",
    id_number="370102199003070032",
    authority="济南市公安局历下分局",
    valid_from=date(2015, 6, 1),
    valid_to=date(2035, 6, 1),
    photo_wlt=fake_photo("resident"),
)

RESIDENT_LONG_TERM = IdCardData(
    card_type=CardType.RESIDENT,
    name="王秀英",
    gender="女",
    nation="汉",
    birth_date=date(1950, 11, 20),
    address="山东省济南市历下区文化东路20号3单元501室",
    id_number="37010219501120002X",
    authority="济南市公安局历下分局",
    valid_from=date(2010, 5, 10),
    valid_to=None,
    photo_wlt=fake_photo("long-term"),
)

EXPIRED = IdCardData(
    card_type=CardType.RESIDENT,
    name="马丽",
    gender="女",
    nation="回",
    birth_date=date(1985, 6, 12),
    address="山东省济南市槐荫区经七路88号",
    id_number="370104198506120044",
    authority="济南市公安局槐荫分局",
    valid_from=date(2008, 3, 1),
    valid_to=date(2018, 3, 1),
    photo_wlt=fake_photo("expired"),
)

HMT_RESIDENCE = IdCardData(
    card_type=CardType.HMT_RESIDENCE,
    name="陈嘉欣",
    gender="女",
    nation="",
    birth_date=date(1992, 5, 15),
    address="山东省青岛市市南区香港中路10号",
    id_number="810000199205150021",
    authority="青岛市公安局",
    valid_from=date(2024, 9, 1),
    valid_to=date(2029, 9, 1),
    pass_number="H60000001",
    issue_count="01",
    photo_wlt=fake_photo("hmt"),
)

FOREIGNER_2017 = IdCardData(
    card_type=CardType.FOREIGNER_2017,
    name="史密斯",
    gender="男",
    nation="",
    birth_date=date(1990, 3, 7),
    address="",
    id_number="USA370090030701",
    authority="3700",
    valid_from=date(2017, 8, 1),
    valid_to=date(2027, 8, 1),
    english_name="SMITH, ALEX JOHN",
    nationality="USA",
    photo_wlt=fake_photo("foreigner-2017"),
)

FOREIGNER_2023 = IdCardData(
    card_type=CardType.FOREIGNER_2023,
    name="穆安娜",
    gender="女",
    nation="",
    birth_date=date(1988, 4, 12),
    address="",
    id_number="937276198804120024",
    authority="中华人民共和国国家移民管理局",
    valid_from=date(2023, 12, 1),
    valid_to=date(2033, 12, 1),
    english_name="MUELLER-SCHWARZENBERG, ANNA MARIA THERESA",  # > 35 chars: uses the extension
    nationality="DEU",
    issue_count="00",
    photo_wlt=fake_photo("foreigner-2023"),
)

#: one valid card per type, keyed by type
BY_TYPE: dict[CardType, IdCardData] = {
    CardType.RESIDENT: RESIDENT,
    CardType.HMT_RESIDENCE: HMT_RESIDENCE,
    CardType.FOREIGNER_2017: FOREIGNER_2017,
    CardType.FOREIGNER_2023: FOREIGNER_2023,
}

#: every sample, by the short name the emulator's ``--card`` option takes
BY_NAME: dict[str, IdCardData] = {
    "resident": RESIDENT,
    "long_term": RESIDENT_LONG_TERM,
    "expired": EXPIRED,
    "hmt": HMT_RESIDENCE,
    "foreigner_2017": FOREIGNER_2017,
    "foreigner_2023": FOREIGNER_2023,
}

ALL: tuple[IdCardData, ...] = tuple(BY_NAME.values())

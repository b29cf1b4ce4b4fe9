"""Decoding (and, for the emulator, encoding) of the card's 256-byte text block.

The block is UTF-16LE; fields are padded with spaces (sometimes NULs) and trimmed here. The type
marker at bytes 248-249 selects the layout:

========== ===========================================================================
blank      resident card: name 0-29, gender 30-31, nation 32-35, birth 36-51, address
           52-121, ID number 122-157, authority 158-187, valid from 188-203, valid to
           204-219 (``长期`` for long-term cards), reserved 220-255
``J``      Hong Kong/Macau/Taiwan residence permit: as resident for 0-219, pass number
           220-237, issue count 238-241
``I``      2017 foreigner permanent residence card: English name 0-119, gender 120-121,
           number 122-151, nationality 152-157, Chinese name 158-187, valid from 188-203,
           valid to 204-219, birth 220-235, card version 236-239, authority code 240-247
``Y``      2023 foreigner permanent residence card: Chinese name 0-29, gender 30-31,
           renewal count 32-35, birth 36-51, English name 52-121 (characters 1-35),
           number 122-157, reserved 158-187, valid from 188-203, valid to 204-219,
           English name 220-241 (characters 36-46), nationality 242-247, link to the
           previous card number 250-255
========== ===========================================================================

Sources: PROTOCOLS.md §1; the 2023 layout as in Johann356/readinfo ``PCSCGetData.h``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import date

from drivers.idcard.frames import (
    APPENDED_ADDRESS_SIZE,
    FINGERPRINT_SIZE,
    PHOTO_SIZE,
    SAM_ID_SIZE,
    TEXT_SIZE,
    ReplyDataError,
)
from drivers.idcard.interface import CardType, IdCardData

LONG_TERM = "长期"
#: printed authority of 2023 cards (their text block leaves the field reserved)
NIA = "中华人民共和国国家移民管理局"

#: GB/T 2261.1 sex codes
GENDERS: dict[str, str] = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}
_GENDER_CODES = {v: k for k, v in GENDERS.items()}

#: GB 3304 nation codes: the 56 nations plus 97 and 98
NATIONS: dict[str, str] = {
    f"{i:02d}": name for i, name in enumerate((
        "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜",
        "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳",
        "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
        "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
        "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔",
        "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺"), start=1)
}
NATIONS["97"] = "其他"
NATIONS["98"] = "外国血统中国籍人士"
_NATION_CODES = {v: k for k, v in NATIONS.items()}


class TextDecodeError(ReplyDataError):
    """The text block cannot be decoded (wrong size, unknown card type marker)."""

    advice = "the card's data could not be decoded; place it again"


# -- field helpers ----------------------------------------------------------------------------
def _field(block: bytes, start: int, end: int) -> str:
    """Bytes ``start``..``end`` inclusive, UTF-16LE, trimmed of spaces and NULs."""
    return block[start:end + 1].decode("utf-16-le", errors="replace").strip(" \x00\u3000")


def parse_date(text: str) -> date | None:
    """``YYYYMMDD`` → date; ``长期``, blanks and impossible dates → ``None``."""
    text = text.strip(" \x00")
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def gender_name(code: str) -> str:
    return GENDERS.get(code.strip(), "")


def nation_name(code: str) -> str:
    """``"01"`` → ``"汉"``; unknown or blank codes → ``""``."""
    code = code.strip()
    if len(code) == 1 and code.isdigit():
        code = "0" + code
    return NATIONS.get(code, "")


def card_type_of(block: bytes) -> CardType | None:
    """The card type from the marker at bytes 248-249 (``None`` if unknown)."""
    return CardType.from_marker(_field(block, 248, 249))


# -- decoding ---------------------------------------------------------------------------------
def decode_text(block: bytes, photo: bytes = b"", appended_address: str = "") -> IdCardData:
    """Decode a 256-byte text block into :class:`IdCardData`."""
    if len(block) != TEXT_SIZE:
        raise TextDecodeError(f"text block is {len(block)} bytes, expected {TEXT_SIZE}")
    card_type = card_type_of(block)
    if card_type is None:
        raise TextDecodeError("unknown card type marker")
    if card_type is CardType.FOREIGNER_2017:
        return _decode_foreigner_2017(block, photo)
    if card_type is CardType.FOREIGNER_2023:
        return _decode_foreigner_2023(block, photo)
    valid_to_text = _field(block, 204, 219)
    return IdCardData(
        card_type=card_type,
        name=_field(block, 0, 29),
        gender=gender_name(_field(block, 30, 31)),
        nation=nation_name(_field(block, 32, 35)),
        birth_date=parse_date(_field(block, 36, 51)),
        address=_field(block, 52, 121),
        id_number=_field(block, 122, 157).upper(),
        authority=_field(block, 158, 187),
        valid_from=parse_date(_field(block, 188, 203)),
        valid_to=None if valid_to_text == LONG_TERM else parse_date(valid_to_text),
        appended_address=appended_address,
        pass_number=_field(block, 220, 237) if card_type is CardType.HMT_RESIDENCE else "",
        issue_count=_field(block, 238, 241) if card_type is CardType.HMT_RESIDENCE else "",
        photo_wlt=photo,
    )


def _decode_foreigner_2017(block: bytes, photo: bytes) -> IdCardData:
    valid_to_text = _field(block, 204, 219)
    return IdCardData(
        card_type=CardType.FOREIGNER_2017,
        name=_field(block, 158, 187),
        gender=gender_name(_field(block, 120, 121)),
        nation="",
        birth_date=parse_date(_field(block, 220, 235)),
        address="",
        id_number=_field(block, 122, 151).upper(),
        authority=_field(block, 240, 247),
        valid_from=parse_date(_field(block, 188, 203)),
        valid_to=None if valid_to_text == LONG_TERM else parse_date(valid_to_text),
        english_name=_field(block, 0, 119),
        nationality=_field(block, 152, 157),
        photo_wlt=photo,
    )


def _decode_foreigner_2023(block: bytes, photo: bytes) -> IdCardData:
    valid_to_text = _field(block, 204, 219)
    english = (block[52:122] + block[220:242]).decode("utf-16-le", errors="replace")
    return IdCardData(
        card_type=CardType.FOREIGNER_2023,
        name=_field(block, 0, 29),
        gender=gender_name(_field(block, 30, 31)),
        nation="",
        birth_date=parse_date(_field(block, 36, 51)),
        address="",
        id_number=_field(block, 122, 157).upper(),
        authority=_field(block, 158, 187) or NIA,
        valid_from=parse_date(_field(block, 188, 203)),
        valid_to=None if valid_to_text == LONG_TERM else parse_date(valid_to_text),
        english_name=english.strip(" \x00\u3000"),
        nationality=_field(block, 242, 247),
        issue_count=_field(block, 32, 35),
        photo_wlt=photo,
    )


def decode_appended_address(data: bytes) -> str:
    """The 70-byte reply to ``30 03`` (latest appended address, 住址变更)."""
    if len(data) < APPENDED_ADDRESS_SIZE:
        raise ReplyDataError(f"appended address is {len(data)} bytes, expected 70")
    return _field(data, 0, APPENDED_ADDRESS_SIZE - 1)


@dataclass(frozen=True, repr=False)
class ReadBlocks:
    """The parts of a ``30 01`` / ``30 10`` reply."""

    text: bytes
    photo: bytes
    fingerprint: bytes = b""

    def __repr__(self) -> str:
        return (f"ReadBlocks(text={len(self.text)} B, photo={len(self.photo)} B, "
                f"fingerprint={len(self.fingerprint)} B)")


def split_read_reply(data: bytes, with_fingerprint: bool = False) -> ReadBlocks:
    """Split the data of a read reply: lengths (2 B BE each) then the blocks they announce."""
    count = 3 if with_fingerprint else 2
    head = 2 * count
    if len(data) < head:
        raise ReplyDataError("read reply too short for its length fields")
    lengths = struct.unpack(f">{count}H", data[:head])
    if lengths[0] != TEXT_SIZE:
        raise ReplyDataError(f"read reply announces {lengths[0]} bytes of text, expected 256")
    if sum(lengths) != len(data) - head:
        raise ReplyDataError("read reply length fields do not match its size")
    text = data[head:head + lengths[0]]
    photo = data[head + lengths[0]:head + lengths[0] + lengths[1]]
    fingerprint = data[head + lengths[0] + lengths[1]:] if with_fingerprint else b""
    return ReadBlocks(text, photo, fingerprint)


def format_sam_id(data: bytes) -> str:
    """The 16-byte SAM id as printed on readers: ``05.01-20101108-000123456-000654321``."""
    if len(data) < SAM_ID_SIZE:
        raise ReplyDataError(f"SAM id is {len(data)} bytes, expected 16")
    a, b, c = struct.unpack("<III", data[4:16])
    return f"{data[0]:02d}.{data[2]:02d}-{a}-{b:09d}-{c:09d}"


# -- validation -------------------------------------------------------------------------------
def problems(data: IdCardData, today: date) -> list[str]:
    """Plain-language, personal-data-free problems with a decoded card (empty when fine)."""
    found: list[str] = []
    if not data.id_number_valid:
        found.append("the ID number fails its check digit")
    elif data.card_type is not CardType.FOREIGNER_2017 and data.birth_date is not None:
        digits = data.id_number[6:14]
        if digits != data.birth_date.strftime("%Y%m%d"):
            found.append("the birth date does not match the ID number")
    if data.birth_date is None:
        found.append("the birth date is missing or invalid")
    if data.valid_from is None:
        found.append("the start of validity is missing or invalid")
    if data.expired(today):
        found.append("the card has expired")
    return found


# -- encoding (emulator, tests) ---------------------------------------------------------------
def _put(block: bytearray, start: int, end: int, text: str) -> None:
    raw = text.encode("utf-16-le")
    size = end - start + 1
    if len(raw) > size:
        raise ValueError(f"field {start}-{end} holds {size // 2} characters, got {len(text)}")
    block[start:end + 1] = raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def _date_text(value: date | None, long_term: bool = False) -> str:
    if value is None:
        return LONG_TERM if long_term else ""
    return value.strftime("%Y%m%d")


def encode_text(data: IdCardData) -> bytes:
    """The 256-byte text block a card with ``data`` carries (inverse of :func:`decode_text`)."""
    block = bytearray(" ".encode("utf-16-le") * (TEXT_SIZE // 2))
    gender = _GENDER_CODES.get(data.gender, "0")
    if data.card_type is CardType.FOREIGNER_2017:
        _put(block, 0, 119, data.english_name)
        _put(block, 120, 121, gender)
        _put(block, 122, 151, data.id_number)
        _put(block, 152, 157, data.nationality)
        _put(block, 158, 187, data.name)
        _put(block, 220, 235, _date_text(data.birth_date))
        _put(block, 236, 239, "02")
        _put(block, 240, 247, data.authority)
    elif data.card_type is CardType.FOREIGNER_2023:
        english = data.english_name
        _put(block, 0, 29, data.name)
        _put(block, 30, 31, gender)
        _put(block, 32, 35, data.issue_count)
        _put(block, 36, 51, _date_text(data.birth_date))
        _put(block, 52, 121, english[:35])
        _put(block, 122, 157, data.id_number)
        _put(block, 220, 241, english[35:])
        _put(block, 242, 247, data.nationality)
    else:
        _put(block, 0, 29, data.name)
        _put(block, 30, 31, gender)
        _put(block, 32, 35, _NATION_CODES.get(data.nation, ""))
        _put(block, 36, 51, _date_text(data.birth_date))
        _put(block, 52, 121, data.address)
        _put(block, 122, 157, data.id_number)
        _put(block, 158, 187, data.authority)
        if data.card_type is CardType.HMT_RESIDENCE:
            _put(block, 220, 237, data.pass_number)
            _put(block, 238, 241, data.issue_count)
    _put(block, 188, 203, _date_text(data.valid_from))
    _put(block, 204, 219, _date_text(data.valid_to, long_term=True))
    _put(block, 248, 249, data.card_type.marker or " ")
    return bytes(block)


def encode_appended_address(text: str) -> bytes:
    block = bytearray(APPENDED_ADDRESS_SIZE)
    _put(block, 0, APPENDED_ADDRESS_SIZE - 1, text)
    return bytes(block)


def encode_read_data(text: bytes, photo: bytes, fingerprint: bytes | None = None) -> bytes:
    """The data part of a ``30 01`` (or, with ``fingerprint``, ``30 10``) reply."""
    photo = photo.ljust(PHOTO_SIZE, b"\x00")[:PHOTO_SIZE]
    if fingerprint is None:
        return struct.pack(">HH", len(text), len(photo)) + text + photo
    fingerprint = fingerprint.ljust(FINGERPRINT_SIZE, b"\x00")[:FINGERPRINT_SIZE]
    return (struct.pack(">HHH", len(text), len(photo), len(fingerprint))
            + text + photo + fingerprint)


def encode_sam_id(major: int, minor: int, a: int, b: int, c: int) -> bytes:
    return bytes([major, 0, minor, 0]) + struct.pack("<III", a, b, c)

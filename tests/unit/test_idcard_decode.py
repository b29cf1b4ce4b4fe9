"""Decoding of the text block, the read reply, the SAM id and the validation rules."""

from __future__ import annotations

import struct
from dataclasses import replace
from datetime import date

import pytest

from drivers.idcard import decode, samples
from drivers.idcard.decode import (
    GENDERS,
    NATIONS,
    TextDecodeError,
    decode_text,
    encode_text,
    nation_name,
    parse_date,
    problems,
)
from drivers.idcard.frames import ReplyDataError
from drivers.idcard.interface import CardType


def _u16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _resident_block() -> bytes:
    """A text block assembled by hand from the byte offsets (not with encode_text)."""
    block = bytearray(_u16(" ") * 128)

    def put(start: int, text: str) -> None:
        raw = _u16(text)
        block[start:start + len(raw)] = raw

    put(0, "李明")
    put(30, "1")
    put(32, "01")
    put(36, "19900307")
    put(52, "山东省济南市历下区泉城路100号")
    put(122, "370102199003070032")
    put(158, "济南市公安局历下分局")
    put(188, "20150601")
    put(204, "20350601")
    return bytes(block)


def test_resident_block_from_offsets() -> None:
    card = decode_text(_resident_block())
    assert card.card_type is CardType.RESIDENT
    assert (card.name, card.gender, card.nation) == ("李明", "男", "汉")
    assert card.birth_date == date(1990, 3, 7)
    assert card.address == "山东省济南市历下区泉城路100号"
    assert card.id_number == "370102199003070032"
    assert card.authority == "济南市公安局历下分局"
    assert (card.valid_from, card.valid_to) == (date(2015, 6, 1), date(2035, 6, 1))
    assert card == replace(samples.RESIDENT, photo_wlt=b"")


def test_nul_padding_is_trimmed_too() -> None:
    block = bytearray(_resident_block())
    block[0:30] = _u16("李明") + bytes(26)
    assert decode_text(bytes(block)).name == "李明"


@pytest.mark.parametrize("card", samples.ALL, ids=list(samples.BY_NAME))
def test_every_sample_round_trips(card) -> None:
    block = encode_text(card)
    assert len(block) == 256
    assert decode_text(block, card.photo_wlt) == card


def test_long_term_card() -> None:
    block = encode_text(samples.RESIDENT_LONG_TERM)
    assert block[204:208] == _u16("长期")
    card = decode_text(block)
    assert card.valid_to is None and card.is_long_term


def test_hmt_fields_and_marker() -> None:
    block = encode_text(samples.HMT_RESIDENCE)
    assert block[248:250] == _u16("J")
    assert block[220:238].decode("utf-16-le").strip() == "H60000001"
    card = decode_text(block)
    assert (card.pass_number, card.issue_count, card.nation) == ("H60000001", "01", "")


def test_foreigner_2017_layout() -> None:
    block = encode_text(samples.FOREIGNER_2017)
    assert block[248:250] == _u16("I")
    assert block[0:32].decode("utf-16-le") == "SMITH, ALEX JOHN"
    assert block[122:152].decode("utf-16-le") == "USA370090030701"
    assert block[152:158].decode("utf-16-le") == "USA"
    assert block[158:164].decode("utf-16-le") == "史密斯"
    assert block[220:236].decode("utf-16-le") == "19900307"
    card = decode_text(block)
    assert card.english_name == "SMITH, ALEX JOHN" and card.nationality == "USA"
    assert card.id_number_valid


def test_foreigner_2023_layout_with_long_english_name() -> None:
    card = samples.FOREIGNER_2023
    assert len(card.english_name) > 35
    block = encode_text(card)
    assert block[248:250] == _u16("Y")
    assert block[52:122].decode("utf-16-le") == card.english_name[:35]
    assert block[220:242].decode("utf-16-le").rstrip() == card.english_name[35:]
    assert block[242:248].decode("utf-16-le") == "DEU"
    assert block[32:36].decode("utf-16-le") == "00"
    decoded = decode_text(block)
    assert decoded.english_name == card.english_name
    assert decoded.authority == decode.NIA


def test_nation_table_is_complete() -> None:
    assert len(NATIONS) == 58
    assert [NATIONS[f"{i:02d}"] for i in (1, 2, 3, 4, 5, 8, 10, 11, 44, 56)] == [
        "汉", "蒙古", "回", "藏", "维吾尔", "壮", "朝鲜", "满", "俄罗斯", "基诺"]
    assert NATIONS["97"] == "其他" and NATIONS["98"] == "外国血统中国籍人士"
    assert len(set(NATIONS.values())) == 58
    assert nation_name("3") == "回" and nation_name("") == "" and nation_name("57") == ""


@pytest.mark.parametrize("code", sorted(NATIONS))
def test_every_nation_round_trips(code: str) -> None:
    card = replace(samples.RESIDENT, nation=NATIONS[code])
    block = encode_text(card)
    assert block[32:36] == _u16(code)
    assert decode_text(block).nation == NATIONS[code]


@pytest.mark.parametrize(("code", "name"), sorted(GENDERS.items()))
def test_gender_codes(code: str, name: str) -> None:
    block = bytearray(_resident_block())
    block[30:32] = _u16(code)
    assert decode_text(bytes(block)).gender == name


def test_dates() -> None:
    assert parse_date("20240229") == date(2024, 2, 29)
    assert parse_date("20230229") is None
    assert parse_date("长期") is None
    assert parse_date("") is None
    assert parse_date("2024022") is None
    assert parse_date("２０２４０２２９") is None  # full-width digits are not accepted


def test_bad_blocks_raise_typed_errors() -> None:
    with pytest.raises(TextDecodeError):
        decode_text(b"\x00" * 255)
    block = bytearray(_resident_block())
    block[248:250] = _u16("Z")
    with pytest.raises(TextDecodeError):
        decode_text(bytes(block))
    assert issubclass(TextDecodeError, ReplyDataError)


def test_garbage_text_decodes_without_crashing() -> None:
    block = bytes(range(256))
    block = block[:248] + _u16(" ") + block[250:]
    card = decode_text(block)
    assert card.card_type is CardType.RESIDENT  # odd text, but no exception


def test_appended_address() -> None:
    data = decode.encode_appended_address("山东省济南市市中区经四路1号")
    assert len(data) == 70
    assert decode.decode_appended_address(data) == "山东省济南市市中区经四路1号"
    with pytest.raises(ReplyDataError):
        decode.decode_appended_address(b"\x00" * 10)


def test_split_read_reply() -> None:
    text, photo = encode_text(samples.RESIDENT), samples.RESIDENT.photo_wlt
    data = decode.encode_read_data(text, photo)
    assert data[:4] == bytes.fromhex("01000400")
    blocks = decode.split_read_reply(data)
    assert (blocks.text, blocks.photo, blocks.fingerprint) == (text, photo, b"")
    assert "256 B" in repr(blocks) and "李" not in repr(blocks)
    fdata = decode.encode_read_data(text, photo, b"\x01" * 1024)
    fblocks = decode.split_read_reply(fdata, with_fingerprint=True)
    assert fblocks.fingerprint == b"\x01" * 1024
    with pytest.raises(ReplyDataError):
        decode.split_read_reply(data[:-1])
    with pytest.raises(ReplyDataError):
        decode.split_read_reply(struct.pack(">HH", 200, 1024) + bytes(1224))
    with pytest.raises(ReplyDataError):
        decode.split_read_reply(b"\x01")


def test_sam_id_format() -> None:
    raw = decode.encode_sam_id(5, 1, 20101108, 123, 4567)
    assert decode.format_sam_id(raw) == "05.01-20101108-000000123-000004567"
    with pytest.raises(ReplyDataError):
        decode.format_sam_id(raw[:10])


def test_problems() -> None:
    today = date(2026, 1, 1)
    assert problems(samples.RESIDENT, today) == []
    assert problems(samples.EXPIRED, today) == ["the card has expired"]
    bad = replace(samples.RESIDENT, id_number="370102199003070033")
    assert "the ID number fails its check digit" in problems(bad, today)
    assert not bad.id_number_valid
    moved = replace(samples.RESIDENT, birth_date=date(1990, 3, 8))
    assert problems(moved, today) == ["the birth date does not match the ID number"]
    for card in samples.ALL:
        assert all("李" not in p and card.id_number not in p for p in problems(card, today))

"""APDU builders, the VERIFY guard, TLV, BCD and GBK decoding, 61xx/6Cxx handling."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.smartcard.apdu import (
    ApduError,
    CardChannel,
    ForbiddenApdu,
    build_apdu,
    check_allowed,
    decode_an,
    decode_bcd,
    encode_an,
    encode_bcd,
    encode_tlv,
    get_response,
    parse_tlv,
    read_record_by_number,
    read_record_by_tag,
    select_by_name,
    select_ef,
    sw_text,
    tlv_value,
    with_le,
)
from drivers.smartcard.sscard import SSSE_AID


def test_select_ssse_matches_protocols_md() -> None:
    expected = bytes.fromhex("00A404000F7378312E73682EC9E7BBE1B1A3D5CF")
    assert select_by_name(SSSE_AID) == expected


def test_select_ef_and_reads() -> None:
    assert select_ef(0xEF05) == bytes.fromhex("00A4020002EF05")
    assert select_ef(0xEF06) == bytes.fromhex("00A4020002EF06")
    assert read_record_by_tag(0x08, 0x14) == bytes.fromhex("00B2080014")
    assert read_record_by_tag(0x09, 0x20) == bytes.fromhex("00B2090020")
    assert read_record_by_number(0x01, 0x12) == bytes.fromhex("00B2010412")
    assert get_response(0x1A) == bytes.fromhex("00C000001A")
    assert get_response(0) == bytes.fromhex("00C0000000")  # 0 = 256


def test_build_apdu_cases() -> None:
    assert build_apdu(0, 0xA4, 0, 0) == bytes.fromhex("00A40000")
    assert build_apdu(0, 0xB0, 0, 0, le=256) == bytes.fromhex("00B0000000")
    assert build_apdu(0, 0xA4, 4, 0, b"\x01\x02", le=0x10) == bytes.fromhex("00A40400020102" "10")
    with pytest.raises(ApduError):
        build_apdu(0, 0xB0, 0, 0, le=257)
    with pytest.raises(ApduError):
        build_apdu(0x100, 0xB0, 0, 0)
    with pytest.raises(ApduError):
        build_apdu(0, 0xA4, 0, 0, b"x" * 256)


@pytest.mark.parametrize("ins", [0x20, 0x24, 0x2C])
def test_pin_commands_cannot_be_built(ins: int) -> None:
    with pytest.raises(ForbiddenApdu, match=r"PIN|VERIFY"):
        build_apdu(0x00, ins, 0x00, 0x00, b"\x12\x34\x56")


def test_verify_named_in_guard_message() -> None:
    with pytest.raises(ForbiddenApdu, match="VERIFY"):
        check_allowed(bytes.fromhex("0020000003123456"))


@pytest.mark.parametrize("ins", [0xD6, 0xDC, 0xE2, 0x0E, 0x84, 0x88])
def test_write_and_other_commands_refused(ins: int) -> None:
    with pytest.raises(ForbiddenApdu):
        check_allowed(bytes((0x00, ins, 0, 0)))


def test_channel_refuses_hand_made_verify_and_sends_nothing() -> None:
    sent: list[bytes] = []

    def transmit(apdu: bytes) -> tuple[bytes, int, int]:
        sent.append(apdu)
        return b"", 0x90, 0x00

    channel = CardChannel(transmit)
    with pytest.raises(ForbiddenApdu):
        channel.send(bytes.fromhex("0020000103313233"))
    assert sent == [] and channel.sent == 0


def test_with_le_replaces_or_adds() -> None:
    assert with_le(bytes.fromhex("00B2010412"), 0x0E) == bytes.fromhex("00B201040E")
    assert with_le(bytes.fromhex("00A4020002EF05"), 0x10) == bytes.fromhex("00A4020002EF0510")
    assert with_le(bytes.fromhex("00A4020002EF0500"), 0x10) == bytes.fromhex("00A4020002EF0510")
    assert with_le(bytes.fromhex("00B20104"), 0x12) == bytes.fromhex("00B2010412")


class ScriptedCard:
    """Answers from a list; records the commands."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = [bytes.fromhex(a) for a in answers]
        self.commands: list[bytes] = []

    def __call__(self, apdu: bytes) -> tuple[bytes, int, int]:
        self.commands.append(apdu)
        answer = self.answers.pop(0)
        return answer[:-2], answer[-2], answer[-1]


def test_61xx_get_response_chain_joined() -> None:
    card = ScriptedCard(["6106", "0102030405066103", "0708099000"])
    channel = CardChannel(card)
    data, sw1, sw2 = channel.send(read_record_by_tag(0x09, 0x20))
    assert (data, sw1, sw2) == (bytes(range(1, 10)), 0x90, 0x00)
    assert card.commands[1] == bytes.fromhex("00C0000006")
    assert card.commands[2] == bytes.fromhex("00C0000003")
    assert channel.sent == 3


def test_6cxx_resends_with_le() -> None:
    card = ScriptedCard(["6C0E", "040C" + "31" * 12 + "9000"])
    data, sw1, _ = CardChannel(card).send(read_record_by_number(0x04, 0x12))
    assert sw1 == 0x90 and data[:2] == b"\x04\x0c"
    assert card.commands[1] == bytes.fromhex("00B204040E")


def test_6cxx_then_61xx() -> None:
    card = ScriptedCard(["6C03", "6103", "0A01319000"])
    data, sw1, sw2 = CardChannel(card).send(read_record_by_tag(0x0A, 0x05))
    assert data == bytes.fromhex("0A0131") and (sw1, sw2) == (0x90, 0x00)
    assert [c[1] for c in card.commands] == [0xB2, 0xB2, 0xC0]


def test_endless_61xx_gives_up() -> None:
    card = ScriptedCard(["6101"] + ["006101"] * 40)
    with pytest.raises(ApduError, match="61xx"):
        CardChannel(card).send(read_record_by_tag(0x0A, 0x03))
    assert len(card.commands) <= 18


def test_error_status_passed_through() -> None:
    card = ScriptedCard(["6982"])
    assert CardChannel(card).send(read_record_by_tag(0x09, 0x20)) == (b"", 0x69, 0x82)


def test_sw_text() -> None:
    assert sw_text(0x6A, 0x82) == "6A82 file or application not found"
    assert "PSAM" in sw_text(0x69, 0x82)
    assert "3 tries" in sw_text(0x63, 0xC3)
    assert "10 more" in sw_text(0x61, 10)
    assert sw_text(0x12, 0x34).endswith("unknown status")


# -- TLV -------------------------------------------------------------------------------------
def test_parse_tlv_examples() -> None:
    items = parse_tlv(bytes.fromhex("0A0131" "0B0101" "0000"))
    assert [(i.tag, i.value) for i in items] == [(0x0A, b"1"), (0x0B, b"\x01")]
    assert tlv_value(bytes.fromhex("0D0419850612"), 0x0D) == bytes.fromhex("19850612")
    with pytest.raises(ApduError):
        tlv_value(bytes.fromhex("0A0131"), 0x0B)


@pytest.mark.parametrize("raw", ["0A", "0A05313233", "0A81", "0A8302000000"])
def test_parse_tlv_rejects_truncated(raw: str) -> None:
    with pytest.raises(ApduError):
        parse_tlv(bytes.fromhex(raw))


@given(st.lists(st.tuples(st.integers(1, 0xFE), st.binary(max_size=300)), max_size=6))
def test_tlv_roundtrip(items: list[tuple[int, bytes]]) -> None:
    raw = b"".join(encode_tlv(tag, value) for tag, value in items)
    assert [(i.tag, i.value) for i in parse_tlv(raw)] == items


# -- value encodings ---------------------------------------------------------------------------
def test_bcd_examples() -> None:
    assert decode_bcd(bytes.fromhex("19850612")) == "19850612"
    assert decode_bcd(bytes.fromhex("370102")) == "370102"
    assert decode_bcd(bytes.fromhex("01")) == "01"
    assert decode_bcd(bytes.fromhex("12345FFF")) == "12345"
    assert decode_bcd(bytes.fromhex("FFFF")) == ""
    assert encode_bcd("12345", 4) == bytes.fromhex("12345FFF")
    with pytest.raises(ApduError):
        decode_bcd(bytes.fromhex("1A"))
    with pytest.raises(ValueError):
        encode_bcd("123", 1)


@given(st.text(alphabet="0123456789", max_size=16))
def test_bcd_roundtrip(digits: str) -> None:
    assert decode_bcd(encode_bcd(digits, 8)) == digits


def test_gbk_examples() -> None:
    raw = "测试样卡".encode("gbk").ljust(30, b"\x00")
    assert decode_an(raw) == "测试样卡"
    assert decode_an(b"A00012345") == "A00012345"
    assert decode_an(b"3.00") == "3.00"
    assert decode_an(b"  \x00\x00") == ""
    assert decode_an(b"\x81") == "\ufffd"  # a broken byte does not fail the card
    # a rare character outside GBK but inside GB18030 (some names have them)
    assert decode_an("䶮".encode("gb18030")) == "䶮"
    assert encode_an("张三", 6) == "张三".encode("gbk") + b"\x00\x00"
    with pytest.raises(ValueError):
        encode_an("张三丰", 4)


@given(st.text(alphabet="张王李赵刘陈杨黄周吴欧阳娜丽华伟强ABC", max_size=15))
def test_gbk_roundtrip(name: str) -> None:
    assert decode_an(encode_an(name, 30)) == name.strip()

"""Reading a social security card (PROTOCOLS §2) against the emulator's card logic, no PC/SC."""

from __future__ import annotations

from dataclasses import replace

import pytest

from drivers.smartcard.emulator import CardLogic, CardScript, build_records
from drivers.smartcard.samples import (
    SAMPLE_CARD,
    SAMPLE_CARD_LONG_NAME,
    SAMPLE_CARD_V3,
    SAMPLE_CARD_V3_PARTIAL,
)
from drivers.smartcard.sscard import EF05, EF06, SSSE_AID, ReadStats, SsCardError, read_sscard

PSAM_NAME = frozenset({0x09, 0x4E})


class Wire:
    """``transmit`` over the emulator's card logic, recording every APDU."""

    def __init__(self, script: CardScript) -> None:
        self.logic = CardLogic(script)
        self.apdus: list[bytes] = []

    def __call__(self, apdu: bytes) -> tuple[bytes, int, int]:
        self.apdus.append(apdu)
        answer = self.logic.process(apdu)
        return answer[:-2], answer[-2], answer[-1]

    def ins(self) -> list[int]:
        return [a[1] for a in self.apdus]


def read(script: CardScript) -> tuple[object, Wire, ReadStats]:
    wire, stats = Wire(script), ReadStats()
    return read_sscard(wire, stats), wire, stats


def assert_no_verify(wire: Wire) -> None:
    assert wire.apdus, "nothing was sent"
    assert all(apdu[1] != 0x20 for apdu in wire.apdus)


def test_reads_second_generation_card() -> None:
    data, wire, stats = read(CardScript(SAMPLE_CARD))
    assert data == SAMPLE_CARD
    assert data.region_code == "370100" and data.missing == ()
    assert stats.apdus == len(wire.apdus) == 1 + 1 + 7 + 1 + 7  # 4E asked, answered 6A83
    assert wire.apdus[0] == bytes.fromhex("00A404000F") + SSSE_AID
    assert wire.apdus[1] == bytes.fromhex("00A4020002EF05")
    assert wire.apdus[9] == bytes.fromhex("00A4020002EF06")
    assert bytes.fromhex("00B2080014") in wire.apdus
    assert bytes.fromhex("00B2090020") in wire.apdus
    assert not stats.fallback_ef05 and stats.refused == {}
    assert_no_verify(wire)


def test_third_generation_card_with_psam_access() -> None:
    data, wire, _ = read(CardScript(SAMPLE_CARD_V3))
    assert data == SAMPLE_CARD_V3 and data.spec_version == "3.00"
    assert_no_verify(wire)


def test_third_generation_card_without_psam_gives_what_it_can() -> None:
    data, wire, stats = read(CardScript(SAMPLE_CARD_V3, psam_tags=PSAM_NAME))
    assert data == SAMPLE_CARD_V3_PARTIAL
    assert data.missing == ("name",) and data.name == ""
    assert data.ss_number == SAMPLE_CARD_V3.ss_number
    assert "6982" in stats.refused["name"]
    assert_no_verify(wire)


def test_all_holder_items_refused() -> None:
    tags = frozenset({0x08, 0x09, 0x4E, 0x0A, 0x0B, 0x0C, 0x0D})
    data, wire, _ = read(CardScript(SAMPLE_CARD_V3, psam_tags=tags))
    assert data.missing == ("ss_number", "name", "gender", "nation", "birthplace", "birth_date")
    assert data.card_number == SAMPLE_CARD_V3.card_number and data.ss_number == ""
    assert_no_verify(wire)


def test_long_name_continues_in_4e() -> None:
    data, wire, _ = read(CardScript(SAMPLE_CARD_LONG_NAME))
    assert data.name == SAMPLE_CARD_LONG_NAME.name
    assert bytes.fromhex("00B24E0016") in wire.apdus


def test_get_response_for_select_and_reads_in_small_pieces() -> None:
    script = CardScript(SAMPLE_CARD, select_61=True, read_via_61=True, chunk=3)
    data, wire, _ = read(script)
    assert data == SAMPLE_CARD
    assert wire.ins().count(0xC0) > 14  # every item needed several GET RESPONSE rounds
    assert wire.apdus[1][:4] == bytes.fromhex("00C00000")  # FCI fetched after 61xx
    assert_no_verify(wire)


def test_wrong_le_is_corrected_by_6cxx() -> None:
    card = replace(SAMPLE_CARD, issuer="37010012")
    script = CardScript(card, exact_le=True, value_lengths={0x04: 8})
    data, wire, _ = read(script)
    assert data == card
    assert bytes.fromhex("00B2040412") in wire.apdus  # first try with LD/T 32's length
    assert bytes.fromhex("00B204040A") in wire.apdus  # then with the card's


def test_ssse_not_found_falls_back_to_ef05() -> None:
    data, wire, stats = read(CardScript(SAMPLE_CARD, ssse_by_name=False))
    assert data == SAMPLE_CARD
    assert stats.fallback_ef05
    assert wire.apdus[1] == bytes.fromhex("00A4020002EF05")


def test_not_a_social_security_card() -> None:
    with pytest.raises(SsCardError, match="not a social security card"):
        read(CardScript(SAMPLE_CARD, applet=False))


def test_transport_error_propagates() -> None:
    def broken(apdu: bytes) -> tuple[bytes, int, int]:
        raise ConnectionError("card removed")

    stats = ReadStats()
    with pytest.raises(ConnectionError):
        read_sscard(broken, stats)
    assert stats.apdus == 1


def test_records_follow_ldt32_layout() -> None:
    files = build_records(CardScript(SAMPLE_CARD))
    assert [r[0] for r in files[EF05]] == [1, 2, 3, 4, 5, 6, 7]
    assert [r[0] for r in files[EF06]] == [0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D]
    assert files[EF05][0] == bytes.fromhex("0110" + SAMPLE_CARD.card_id)
    assert files[EF06][0] == b"\x08\x12" + SAMPLE_CARD.ss_number.encode()
    assert files[EF05][4] == bytes.fromhex("050420180315")
    assert len(files[EF06][1]) == 32  # name: 30 bytes, padded


def test_card_logic_answers_verify_with_6d00_and_unknown_class() -> None:
    logic = CardLogic(CardScript(SAMPLE_CARD))
    assert logic.process(bytes.fromhex("0020000103313233")) == b"\x6d\x00"
    assert logic.process(bytes.fromhex("80B2010412")) == b"\x6e\x00"
    assert logic.process(bytes.fromhex("00B2010412")) == b"\x69\x86"  # no EF selected
    assert logic.process(bytes.fromhex("00C0000010")) == b"\x69\x85"  # nothing pending

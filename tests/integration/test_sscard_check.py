"""The technician's check (provisioning/check_sscard.py) through the real pcscd and vpcd."""

from __future__ import annotations

import json

import pytest
from conftest_pcsc import READER, PcscService, card_slot, pcsc  # noqa: F401 (fixtures)

from drivers.smartcard.emulator import CardScript
from drivers.smartcard.samples import SAMPLE_CARD, SAMPLE_CARD_V3
from provisioning.check_sscard import (
    EXIT_NO_CARD,
    EXIT_NO_READER,
    EXIT_OK,
    EXIT_READ_FAILED,
    main,
    run,
)

pytestmark = pytest.mark.timeout(120)


def test_reads_card_json_masked(card_slot, capsys) -> None:  # noqa: F811
    card_slot(CardScript(SAMPLE_CARD_V3, psam_tags=frozenset({0x09, 0x4E}))).insert()
    assert run(READER, as_json=True, timeout_s=15) == EXIT_OK
    out = capsys.readouterr().out
    result = json.loads(out)
    assert result["ok"] and result["reader"] == READER
    assert result["card"]["spec_version"] == "3.00"
    assert result["card"]["masked_id"] == SAMPLE_CARD_V3.masked_id
    assert result["card"]["missing"] == ["name"]
    assert result["apdus"] == 17
    assert set(result["timings_ms"]) == {"reader_ready", "card_detected", "read"}
    assert SAMPLE_CARD_V3.ss_number not in out and SAMPLE_CARD_V3.card_number not in out


def test_reads_card_text(card_slot, capsys) -> None:  # noqa: F811
    card_slot(CardScript(SAMPLE_CARD)).insert()
    assert main(["--reader", "virtual pcd 00 00", "--timeout", "15"]) == EXIT_OK
    out = capsys.readouterr().out
    assert SAMPLE_CARD.masked_name in out and SAMPLE_CARD.masked_id in out
    assert "spec 2.00" in out and READER in out
    assert SAMPLE_CARD.name not in out and SAMPLE_CARD.ss_number not in out


def test_unreadable_card(card_slot, capsys) -> None:  # noqa: F811
    card_slot(CardScript(SAMPLE_CARD, applet=False)).insert()
    assert run(READER, as_json=False, timeout_s=15) == EXIT_READ_FAILED
    assert "not a social security card" in capsys.readouterr().out


def test_no_card(pcsc: PcscService, capsys) -> None:  # noqa: F811
    assert run(READER, as_json=True, timeout_s=1.5) == EXIT_NO_CARD
    result = json.loads(capsys.readouterr().out)
    assert not result["ok"] and "no card" in result["error"]


def test_no_such_reader(pcsc: PcscService, capsys) -> None:  # noqa: F811
    assert run("No Such Reader", as_json=False, timeout_s=1.0) == EXIT_NO_READER
    out = capsys.readouterr().out
    assert "FAILED" in out and "No Such Reader" in out

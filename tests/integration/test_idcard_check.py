"""The technician check ``provisioning/check_idcard.py`` against the emulator."""

from __future__ import annotations

import io
import json

import pytest

from drivers.idcard import samples
from drivers.idcard.emulator import PtyEmulator, SamEmulator, TcpEmulator
from drivers.idcard.frames import Command, Status
from provisioning.check_idcard import main, run

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["pty", "tcp"])
def server(request):
    emulator = SamEmulator()
    srv = PtyEmulator(emulator) if request.param == "pty" else TcpEmulator(emulator)
    srv.start()
    yield srv
    srv.stop()


def _run(url: str, as_json: bool, timeout_s: float = 1.0) -> tuple[int, str]:
    out = io.StringIO()
    code = run(url, as_json, timeout_s, out=out)
    return code, out.getvalue()


@pytest.mark.parametrize("name", list(samples.BY_NAME))
def test_reads_a_card_and_prints_masked_identity(server, name: str) -> None:
    card = samples.BY_NAME[name]
    server.emulator.put_card(card)
    code, text = _run(server.url, as_json=False)
    assert code == 0, text
    assert card.masked_id in text and card.masked_name in text
    assert card.card_type.label in text
    assert "05.01-20240101-000001001-000370102" in text
    assert "timings:" in text and "read" in text
    for secret in (card.id_number, card.name, card.address or "\x00", card.english_name or "\x00"):
        assert secret not in text
    if name == "expired":
        assert "EXPIRED" in text and "the card has expired" in text


def test_json_report(server) -> None:
    server.emulator.put_card(samples.RESIDENT)
    code, text = _run(server.url, as_json=True)
    report = json.loads(text)
    assert code == 0 and report["ok"] is True
    assert report["card_type"] == "resident"
    assert report["id_number"] == "3701**********0032"
    assert report["sam_id"] == "05.01-20240101-000001001-000370102"
    assert set(report["timings_ms"]) >= {"open", "status", "sam_id", "find", "select", "read"}
    assert samples.RESIDENT.id_number not in text


def test_no_card_on_the_reader(server) -> None:
    code, text = _run(server.url, as_json=False, timeout_s=0.3)
    assert code == 1
    assert "no card on the reader" in text


def test_checksum_errors_point_at_the_baud_rate(server) -> None:
    server.emulator.faults.corrupt_replies = 10**6
    code, text = _run(server.url, as_json=True)
    assert code == 2
    assert "checksum error: check the baud rate" in json.loads(text)["error"]


def test_silent_reader(server) -> None:
    server.unplug()
    code, text = _run(server.url, as_json=False)
    assert code == 2
    assert any(words in text for words in (
        "does not answer", "cannot open the port", "connection to the reader failed"))


def test_card_that_cannot_be_read(server) -> None:
    server.emulator.put_card(samples.RESIDENT)
    server.emulator.fail(Command.READ_TEXT_PHOTO, Status.CARD_AUTH_FAILED, times=-1)
    code, text = _run(server.url, as_json=False)
    assert code == 1
    assert "the card could not be read" in text and "authentication" in text


def test_missing_port_and_bad_arguments(tmp_path) -> None:
    code, text = _run(str(tmp_path / "ttyUSB9"), as_json=False)
    assert code == 2 and "cannot open the port" in text
    assert _run("", as_json=False)[0] == 3


def test_command_line(server, capsys) -> None:
    server.emulator.put_card(samples.HMT_RESIDENCE)
    assert main(["--url", server.url, "--json", "--timeout", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["card_type"] == "hmt_residence"

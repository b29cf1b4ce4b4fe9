"""办件进度 and proofs through the platform interface: embedded, and the HTTP adapter against the
reference server over real HTTP on 127.0.0.1 (issue #15 "must show": a proof's code verifies
after the terminal restarts; a tampered code is refused)."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from config.codes import CodesConfig
from drivers.idcard import samples as cards
from kiosk.codes.embedded import EmbeddedCodePlatform
from kiosk.codes.factory import build_code_platform
from kiosk.codes.http_adapter import HttpCodePlatform
from kiosk.codes.platform import Person
from kiosk.codes.progress import NO_APPLICATIONS, BadHandlingNumber, ProgressNotFound
from kiosk.codes.proofdocs import ProofRefused, load_or_create_key, proof_key_path
from kiosk.codes.refserver import ReferenceCodeServer

LI = Person(cards.RESIDENT.id_number, cards.RESIDENT.name)
NOBODY = Person(sorted(NO_APPLICATIONS)[0], "王五")
API_KEY = "test-key-progress"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8")
        exc.close()
        return exc.code, body


def _tamper(code: str, where: int) -> str:
    index = where % len(code)
    if code[index] == ".":
        index += 1
    swapped = "A" if code[index] != "A" else "B"
    return code[:index] + swapped + code[index + 1:]


@pytest.fixture(params=["embedded", "http"])
def platform(request, tmp_path: Path):
    key = load_or_create_key(tmp_path / "platform-key.pem")
    embedded = EmbeddedCodePlatform(key, terminal_id="REF", proof_key=key)
    if request.param == "embedded":
        yield embedded
        return
    with ReferenceCodeServer(embedded, api_key=API_KEY) as server:
        yield HttpCodePlatform(server.url, api_key=API_KEY, terminal_id="JN-LX-0001",
                               timeout_s=5)


def test_progress_for_a_person_and_by_handling_number(platform) -> None:
    apps = platform.progress_for(LI)
    assert len(apps) == 2
    assert apps[0].accepted_on >= apps[1].accepted_on  # newest first
    for app in apps:
        assert app.item and app.steps and app.steps[0].done_on == app.accepted_on
        assert app.promised_on > app.accepted_on and app.pickup_place
        assert app.sample  # the embedded data says it is sample data
        assert platform.progress_by_number(app.handling_number) == app
    # typed with spaces and lower case letters: the same application
    spaced = " ".join(apps[0].handling_number[i:i + 4]
                      for i in range(0, len(apps[0].handling_number), 4))
    assert platform.progress_by_number(spaced).handling_number == apps[0].handling_number
    assert platform.progress_for(NOBODY) == []


def test_unknown_and_malformed_handling_numbers(platform) -> None:
    number = platform.progress_for(LI)[0].handling_number
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)  # check digit off by one
    with pytest.raises(ProgressNotFound):
        platform.progress_by_number(wrong)
    with pytest.raises(BadHandlingNumber, match="handling_number"):
        platform.progress_by_number("12#45")


def test_proof_code_is_stable_verifiable_and_refuses_tampering(platform) -> None:
    kinds = [k.id for k in platform.proof_kinds(LI)]
    assert kinds == ["insurance_payment", "rights_record", "medical_account"]
    doc = platform.issue_proof(LI, "insurance_payment")
    assert doc.holder_name == LI.name and doc.holder_id == LI.id_number
    assert doc.sample and "样例" in doc.statement
    assert doc.verify_url.endswith("/verify/" + doc.code)
    again = platform.issue_proof(LI, "insurance_payment")
    assert again.code == doc.code and again.document_no == doc.document_no  # stable
    verified = platform.verify_proof(doc.code)
    assert verified.document_no == doc.document_no
    assert verified.masked_holder == "李*" or verified.masked_holder.endswith("*")
    assert LI.id_number not in str(verified.to_json())  # masked only
    assert verified.digest == doc.digest()[:32]
    for where in (5, len(doc.code) // 2, -3):
        with pytest.raises(ProofRefused):
            platform.verify_proof(_tamper(doc.code, where))


def test_reference_server_verify_page_survives_a_restart(tmp_path: Path) -> None:
    key_file = tmp_path / "ref-key.pem"
    key = load_or_create_key(key_file)
    with ReferenceCodeServer(EmbeddedCodePlatform(key, proof_key=key)) as server:
        client = HttpCodePlatform(server.url, terminal_id="JN-LX-0001")
        doc = client.issue_proof(LI, "rights_record")
        status, page = _get(doc.verify_url)
        assert status == 200 and "验证通过" in page and doc.document_no in page
        assert LI.id_number not in page and LI.name not in page
    # the platform restarts (new process state, same key file, a new port)
    key = load_or_create_key(key_file)
    with ReferenceCodeServer(EmbeddedCodePlatform(key, proof_key=key)) as server:
        status, page = _get(f"{server.url}/verify/{doc.code}")
        assert status == 200 and "验证通过" in page and doc.document_no in page
        status, page = _get(f"{server.url}/verify/{_tamper(doc.code, 40)}")
        assert status == 404 and "验证失败" in page
        number = HttpCodePlatform(server.url).progress_for(LI)[0].handling_number
        status, page = _get(f"{server.url}/progress/{number}")
        assert status == 200 and number in page


def test_embedded_terminal_keeps_its_proof_key_across_restarts(tmp_path: Path) -> None:
    """The embedded default, built from the config as the terminal builds it, twice."""
    data_dir = tmp_path / "data"
    backend = type("Backend", (), {"type": "embedded", "url": "", "timeout_s": 5})()
    first = build_code_platform(CodesConfig(), backend, "JN-LX-0001", data_dir=data_dir)
    doc = first.issue_proof(LI, "medical_account")
    assert proof_key_path(data_dir).exists()
    assert (proof_key_path(data_dir).stat().st_mode & 0o777) == 0o600
    second = build_code_platform(CodesConfig(), backend, "JN-LX-0001", data_dir=data_dir)
    assert second.verify_proof(doc.code).document_no == doc.document_no
    assert second.issue_proof(LI, "medical_account").code == doc.code
    other = build_code_platform(CodesConfig(), backend, "JN-LX-0002",
                                data_dir=tmp_path / "other")
    with pytest.raises(ProofRefused):
        other.verify_proof(doc.code)  # another platform's key


def test_the_verify_page_in_a_real_browser_on_a_phone(tmp_path: Path) -> None:
    """What a phone shows after scanning the printed QR: Chromium headless at 390×844."""
    from playwright.sync_api import sync_playwright

    key = load_or_create_key(tmp_path / "key.pem")
    with ReferenceCodeServer(EmbeddedCodePlatform(key, proof_key=key)) as server:
        doc = HttpCodePlatform(server.url).issue_proof(LI, "insurance_payment")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"])
            try:
                page = browser.new_page(viewport={"width": 390, "height": 844})
                answer = page.goto(doc.verify_url)
                assert answer is not None and answer.status == 200
                assert page.locator("h1").inner_text() == "验证通过：此证明由平台出具"
                assert doc.document_no in page.inner_text("table")
                assert "演示样例数据" in page.inner_text("body")
                page.screenshot(path=str(tmp_path / "verify-ok.png"), full_page=True)
                # no horizontal scrolling on a phone
                assert page.evaluate("document.documentElement.scrollWidth") <= 390
                bad = page.goto(f"{server.url}/verify/{_tamper(doc.code, 50)}")
                assert bad is not None and bad.status == 404
                assert "验证失败" in page.locator("h1").inner_text()
            finally:
                browser.close()

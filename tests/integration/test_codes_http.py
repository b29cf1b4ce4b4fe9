"""The code platform interface, run against both implementations: the embedded one and the
HTTP adapter talking to the reference server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import urllib.request

import pytest

from drivers.idcard import samples as cards
from kiosk.codes import CodeIdentity, CodeRefusal, RefusalReason, resolve_scan
from kiosk.codes.embedded import EmbeddedCodePlatform
from kiosk.codes.http_adapter import API_PREFIX, HttpCodePlatform
from kiosk.codes.platform import IssueRefused, Person
from kiosk.codes.refserver import ReferenceCodeServer
from kiosk.codes.refusals import CodeRefused, PlatformUnavailable
from kiosk.codes.tokens import Role, TokenKind

LI = Person(cards.RESIDENT.id_number, cards.RESIDENT.name)
API_KEY = "test-key-0001"


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


class Setup:
    """One platform under test, its clock, and a foreign issuer."""

    def __init__(self, kind: str) -> None:
        self.clock = Clock()
        self.embedded = EmbeddedCodePlatform(terminal_id="JN-LX-0001", lifetime_s=120,
                                             clock=self.clock)
        self.server: ReferenceCodeServer | None = None
        if kind == "http":
            self.server = ReferenceCodeServer(self.embedded, api_key=API_KEY).start()
            self.platform = HttpCodePlatform(self.server.url, api_key=API_KEY,
                                             terminal_id="JN-LX-0002", timeout_s=2.0,
                                             clock=self.clock)
        else:
            self.platform = self.embedded
        self.foreign = EmbeddedCodePlatform(clock=self.clock)

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()


@pytest.fixture(params=["embedded", "http"])
def setup(request):
    s = Setup(request.param)
    yield s
    s.close()


@pytest.fixture
def server():
    s = Setup("http")
    yield s
    s.close()


# -- the contract, for both implementations ------------------------------------------------------
def test_issue_then_verify(setup) -> None:
    code = setup.platform.issue_resident_code(LI)
    assert code.kind is TokenKind.RESIDENT and code.masked_name == "李*"
    assert code.seconds_left(setup.clock.now) == pytest.approx(120, abs=1)
    verified = setup.platform.verify(code.text, TokenKind.RESIDENT)
    assert verified.masked_name == "李*" and verified.terminal_id == "JN-LX-0001"
    result = resolve_scan(code.text, setup.platform)
    assert isinstance(result, CodeIdentity) and result.masked_name == "李*"
    assert result.to_identity().source == "code"


def test_tampered_expired_and_foreign_codes_are_rejected(setup) -> None:
    code = setup.platform.issue_resident_code(LI).text
    tampered = code[:60] + ("B" if code[60] != "B" else "C") + code[61:]
    foreign = setup.foreign.issue_resident_code(LI).text
    for payload, expected in ((tampered, RefusalReason.INVALID),
                              (foreign, RefusalReason.FOREIGN)):
        with pytest.raises(CodeRefused) as info:
            setup.platform.verify(payload)
        assert info.value.reason is expected
        refusal = resolve_scan(payload, setup.platform)
        assert isinstance(refusal, CodeRefusal) and refusal.reason is expected
    setup.clock.now += 120
    refusal = resolve_scan(code, setup.platform)
    assert isinstance(refusal, CodeRefusal) and refusal.reason is RefusalReason.EXPIRED
    assert "已过期" in refusal.message_zh


def test_enterprise_list_and_code(setup) -> None:
    enterprises = setup.platform.enterprises_for(LI)
    assert [(e.id, e.role) for e in enterprises] == [("ent-0001", Role.LEGAL_REPRESENTATIVE),
                                                     ("ent-0002", Role.AGENT)]
    code = setup.platform.issue_enterprise_code(LI, "ent-0001")
    assert code.kind is TokenKind.ENTERPRISE and code.enterprise.id == "ent-0001"
    verified = setup.platform.verify(code.text)
    assert verified.enterprise.name == enterprises[0].name
    assert resolve_scan(code.text, setup.platform).reason is RefusalReason.WRONG_KIND
    with pytest.raises(IssueRefused) as info:
        setup.platform.issue_enterprise_code(LI, "ent-0003")
    assert "法定代表人或经办人" in info.value.message_zh


# -- HTTP specifics ------------------------------------------------------------------------------
def test_codes_of_the_server_cannot_be_verified_offline(server) -> None:
    code = server.platform.issue_resident_code(LI).text
    offline = EmbeddedCodePlatform(clock=server.clock)  # the terminal's own issuer
    assert resolve_scan(code, offline).reason is RefusalReason.FOREIGN
    assert isinstance(resolve_scan(code, server.platform), CodeIdentity)


def test_unknown_payloads_are_asked_of_the_platform(server) -> None:
    before = server.server.requests
    result = resolve_scan("SDJMM-something-the-terminal-does-not-know", server.platform)
    assert result.reason is RefusalReason.FOREIGN
    assert server.server.requests == before + 1
    assert resolve_scan("A005", server.platform).reason is RefusalReason.FOREIGN
    assert server.server.requests == before + 1  # a ticket is not sent anywhere


def test_expiry_follows_the_terminal_clock_not_the_server_clock(server) -> None:
    server.platform._clock = lambda: server.clock.now + 3600  # terminal clock off by an hour
    code = server.platform.issue_resident_code(LI)
    assert code.expires_at == pytest.approx(server.clock.now + 3600 + 120, abs=1)
    assert code.seconds_left(server.clock.now + 3600) == pytest.approx(120, abs=1)


def test_no_store_and_no_personal_data_in_urls(server) -> None:
    request = urllib.request.Request(
        f"{server.server.url}{API_PREFIX}/resident",
        json.dumps({"person": {"id_number": LI.id_number, "name": LI.name}}).encode(),
        {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
        method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=5) as response:
        assert response.headers["Cache-Control"] == "no-store"
        body = json.loads(response.read())
    assert LI.id_number not in body["code"]["text"] and body["code"]["masked_name"] == "李*"


def test_wrong_api_key_is_unavailable_not_a_crash(server) -> None:
    bad = HttpCodePlatform(server.server.url, api_key="wrong", timeout_s=2.0)
    with pytest.raises(PlatformUnavailable, match="credentials"):
        bad.issue_resident_code(LI)
    refusal = resolve_scan(server.platform.issue_resident_code(LI).text, bad)
    assert refusal.reason is RefusalReason.UNAVAILABLE and "稍后再试" in refusal.message_zh


@pytest.mark.parametrize(("fault", "value", "match"), [
    ("status", 503, "HTTP 503"),
    ("garbage", True, "no JSON"),
    ("delay_s", 1.5, "cannot reach"),
])
def test_server_faults_become_unavailable(server, fault: str, value, match: str) -> None:
    code = server.platform.issue_resident_code(LI).text
    setattr(server.server.faults, fault, value)
    server.platform.timeout_s = 0.5
    with pytest.raises(PlatformUnavailable, match=match):
        server.platform.verify(code)
    assert resolve_scan(code, server.platform).reason is RefusalReason.UNAVAILABLE


def test_server_down_is_unavailable(server) -> None:
    url = server.server.url
    server.close()
    platform = HttpCodePlatform(url, timeout_s=1.0)
    with pytest.raises(PlatformUnavailable, match="cannot reach"):
        platform.enterprises_for(LI)


def test_insecure_remote_url_is_refused() -> None:
    with pytest.raises(ValueError, match="https"):
        HttpCodePlatform("http://platform.example.cn/")
    with pytest.raises(ValueError, match="base URL"):
        HttpCodePlatform("ftp://127.0.0.1/")
    assert HttpCodePlatform("https://platform.example.cn/api/").base_url.endswith("/api")


def test_nothing_personal_in_logs(server, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    code = server.platform.issue_resident_code(LI).text
    resolve_scan(code, server.platform)
    server.platform.enterprises_for(LI)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert LI.id_number not in text and LI.name not in text and code not in text

"""The embedded code platform, resolving a scan into an identity or a refusal, the live code
on screen, and the ``[codes]`` settings with the platform factory."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from config.codes import CodesConfig
from drivers.idcard import samples as cards
from kiosk.codes import CodeIdentity, CodeRefusal, LiveCode, RefusalReason, resolve_scan
from kiosk.codes.embedded import EmbeddedCodePlatform
from kiosk.codes.factory import build_code_platform, classifier, scan_gate
from kiosk.codes.http_adapter import HttpCodePlatform
from kiosk.codes.platform import IssuedCode, IssueRefused, Person
from kiosk.codes.refusals import MESSAGES_EN, MESSAGES_ZH
from kiosk.codes.tokens import Role, TokenKind, public_key_b64, write_private_key
from kiosk.identity.person import Identity


class Clock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


LI = Person.from_identity(Identity.from_idcard(cards.RESIDENT))
WANG = Person(cards.RESIDENT_LONG_TERM.id_number, cards.RESIDENT_LONG_TERM.name)
STRANGER = Person("110101199001011237", "赵六")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def platform(clock: Clock) -> EmbeddedCodePlatform:
    return EmbeddedCodePlatform(terminal_id="JN-LX-0001", lifetime_s=120, clock=clock)


def test_person_repr_is_masked() -> None:
    assert LI.id_number not in repr(LI) and "李明" not in repr(LI)
    assert "李*" in repr(LI)


def test_issue_and_verify_resident_code(platform, clock) -> None:
    code = platform.issue_resident_code(LI)
    assert code.kind is TokenKind.RESIDENT and code.masked_name == "李*"
    assert code.expires_at - code.issued_at == 120 and code.seconds_left(clock.now) == 120
    assert code.text not in repr(code) and LI.id_number not in code.text
    verified = platform.verify(code.text)
    assert verified.masked_name == "李*" and verified.terminal_id == "JN-LX-0001"
    assert verified.expires_at == code.expires_at
    again = platform.issue_resident_code(LI)
    assert platform.verify(again.text).subject_ref == verified.subject_ref  # stable pseudonym


def test_name_is_forgotten_when_the_codes_expire(platform, clock) -> None:
    code = platform.issue_resident_code(STRANGER)
    assert platform.verify(code.text).masked_name == "赵*"
    clock.now += 121
    with pytest.raises(Exception) as info:
        platform.verify(code.text)
    assert info.value.reason is RefusalReason.EXPIRED
    assert platform._recent == {}  # nothing about the stranger is kept
    # sample people are known to the platform without a code issued here
    other = EmbeddedCodePlatform(platform._key, clock=clock)
    assert other.verify(platform.issue_resident_code(WANG).text).masked_name == "王**"


def test_enterprises_and_enterprise_code(platform) -> None:
    listed = platform.enterprises_for(LI)
    assert [(e.id, e.role) for e in listed] == [("ent-0001", Role.LEGAL_REPRESENTATIVE),
                                                ("ent-0002", Role.AGENT)]
    assert listed[1].role_zh == "经办人"
    code = platform.issue_enterprise_code(LI, "ent-0002")
    assert code.kind is TokenKind.ENTERPRISE and code.enterprise.name == listed[1].name
    verified = platform.verify(code.text)
    assert verified.enterprise.credit_code == listed[1].credit_code
    assert verified.role is Role.AGENT
    with pytest.raises(IssueRefused) as info:
        platform.issue_enterprise_code(LI, "ent-0003")
    assert "法定代表人或经办人" in info.value.message_zh
    assert platform.enterprises_for(STRANGER) == []
    with pytest.raises(IssueRefused):
        platform.issue_resident_code(Person("", ""))


def test_resolve_scan_identifies(platform) -> None:
    result = resolve_scan(platform.issue_resident_code(LI).text, platform)
    assert isinstance(result, CodeIdentity)
    assert result.kind == "resident" and result.masked_name == "李*"
    identity = result.to_identity()
    assert identity.source == "code" and identity.masked_name == "李*"
    assert identity.id_number == "" and identity.extra["subject_ref"] == result.subject_ref
    identity.wipe()
    assert identity.extra == {}


def test_resolve_scan_refusals_have_plain_chinese_messages(platform, clock) -> None:
    expired = platform.issue_resident_code(LI).text
    enterprise = platform.issue_enterprise_code(LI, "ent-0001").text
    foreign = EmbeddedCodePlatform(clock=clock).issue_resident_code(LI).text
    tampered = expired[:40] + ("A" if expired[40] != "A" else "B") + expired[41:]
    clock.now += 60
    cases = {
        tampered: RefusalReason.INVALID,
        foreign: RefusalReason.FOREIGN,
        enterprise: RefusalReason.WRONG_KIND,
        "A005": RefusalReason.FOREIGN,
        "https://example.org/": RefusalReason.FOREIGN,
        "370102199003070032": RefusalReason.FOREIGN,
    }
    for payload, expected in cases.items():
        result = resolve_scan(payload, platform)
        assert isinstance(result, CodeRefusal), payload[:8]
        assert result.reason is expected, payload[:8]
        assert result.message_zh == MESSAGES_ZH[expected] and "身份证" in result.message_zh
    clock.now += 61
    result = resolve_scan(expired, platform)
    assert result.reason is RefusalReason.EXPIRED and "已过期" in result.message_zh
    assert resolve_scan(enterprise, platform, expect=None).reason is RefusalReason.EXPIRED


def test_every_refusal_has_both_languages() -> None:
    assert set(MESSAGES_ZH) == set(MESSAGES_EN) == set(RefusalReason)


def test_resolve_logs_nothing_personal(platform, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    code = platform.issue_resident_code(LI).text
    resolve_scan(code, platform)
    resolve_scan(code[:-3] + "AAA", platform)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert code not in text and LI.id_number not in text and "李明" not in text


def test_live_code_never_outlives_its_validity(platform, clock) -> None:
    live = LiveCode(refresh_before_s=30, clock=clock)
    assert live.current() is None and live.refresh_due()
    code = platform.issue_resident_code(LI)
    live.replace(code)
    assert live.current() is code and live.seconds_left() == 120
    assert not live.refresh_due()
    clock.now += 89
    assert not live.refresh_due()
    clock.now += 1
    assert live.refresh_due() and live.current() is code  # still valid: keep showing it
    clock.now += 30
    assert live.current() is None and live.seconds_left() == 0  # expired: forgotten
    short = IssuedCode("x", TokenKind.RESIDENT, clock.now, clock.now + 20)
    live.replace(short)
    assert live.refresh_at() == clock.now + 10  # half the life of a short code
    live.clear()
    assert live.current() is None


def test_settings_defaults_and_validation() -> None:
    config = CodesConfig()
    assert config.duplicate_window_s == 3.0 and config.max_length == 1024
    assert scan_gate(config).max_length == 1024
    for bad in ({"max_length": 1}, {"trusted_keys": ["nope"]}, {"api_key_env": "A-B"},
                {"resident_patterns": ["("]}, {"duplicate_windows": 3}):
        with pytest.raises(ValidationError):
            CodesConfig.model_validate(bad)
    for name, field in CodesConfig.model_fields.items():
        assert field.description, f"{name} needs a description for docs/config.md"
    custom = CodesConfig(resident_patterns=[r"^SDJMM\w+$"], ticket_patterns=[])
    assert classifier(custom).classify("SDJMM123").cls.value == "resident_code"
    assert classifier(custom).classify("A005").cls.value == "unknown"


def test_factory_embedded_with_key_file_and_trusted_keys(tmp_path, clock) -> None:
    key_file = tmp_path / "issuer.pem"
    key = write_private_key(str(key_file))
    other = Ed25519PrivateKey.generate()
    config = CodesConfig(issuer_key_file=str(key_file), lifetime_s=300,
                         trusted_keys=[public_key_b64(other.public_key())])
    backend = SimpleNamespace(type="embedded", url="", timeout_s=5.0)
    platform = build_code_platform(config, backend, "济南 历下 #1", clock=clock)
    assert isinstance(platform, EmbeddedCodePlatform)
    assert platform.public_key == public_key_b64(key.public_key())
    assert platform.terminal_id == "1"  # only what a code can carry
    code = platform.issue_resident_code(LI)
    assert code.lifetime_s == 300
    from_other = EmbeddedCodePlatform(other, clock=clock).issue_resident_code(LI)
    assert platform.verify(from_other.text).kind is TokenKind.RESIDENT  # trusted offline


def test_factory_errors_and_http(tmp_path) -> None:
    backend = SimpleNamespace(type="embedded", url="", timeout_s=5.0)
    with pytest.raises(ValueError, match="cannot read"):
        build_code_platform(CodesConfig(issuer_key_file=str(tmp_path / "none.pem")), backend,
                            "T1")
    (tmp_path / "bad.pem").write_text("x", encoding="utf-8")
    with pytest.raises(ValueError, match="PEM"):
        build_code_platform(CodesConfig(issuer_key_file=str(tmp_path / "bad.pem")), backend,
                            "T1")
    http = SimpleNamespace(type="http", url="http://127.0.0.1:9/", timeout_s=2.0)
    platform = build_code_platform(CodesConfig(), http, "T1",
                                   environ={"KIOSK_CODES_API_KEY": "k3y"})
    assert isinstance(platform, HttpCodePlatform) and platform._api_key == "k3y"
    with pytest.raises(ValueError, match="https"):
        build_code_platform(CodesConfig(), SimpleNamespace(
            type="http", url="http://platform.example.cn/", timeout_s=2.0), "T1", environ={})

"""The Ed25519 code token: format, offline verification, and every way a token is rejected."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.codes import tokens
from kiosk.codes.refusals import CodeRefused, RefusalReason
from kiosk.codes.tokens import CodeClaims, Keyring, Role, TokenKind

NOW = 1_750_000_000
ID_NUMBER = "370102199003070032"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
SECRET = tokens.subject_secret(KEY)


def claims(kind: TokenKind = TokenKind.RESIDENT, lifetime: int = 180, issued: int = NOW,
           terminal: str = "JN-LX-0001", role: Role = Role.SELF) -> CodeClaims:
    return CodeClaims(kind, tokens.subject_ref(SECRET, ID_NUMBER), issued, lifetime, terminal,
                      role)


def ring() -> Keyring:
    return Keyring([KEY.public_key()])


def reason(text: str, now: float = NOW + 10, **kwargs) -> RefusalReason:
    with pytest.raises(CodeRefused) as info:
        tokens.verify_token(text, kwargs.pop("keyring", ring()), now, **kwargs)
    return info.value.reason


def raw_of(text: str) -> bytearray:
    body = text[4:]
    return bytearray(base64.b32decode(body + "=" * (-len(body) % 8)))


def text_of(prefix: str, raw: bytes) -> str:
    return prefix + base64.b32encode(bytes(raw)).decode().rstrip("=")


def test_round_trip_and_format() -> None:
    text = tokens.sign_token(claims(), KEY)
    assert text.startswith("RC1:") and len(text) < 180
    assert set(text[4:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")  # QR alphanumeric mode
    got = tokens.verify_token(text, ring(), NOW + 10)
    assert got.kind is TokenKind.RESIDENT and got.terminal_id == "JN-LX-0001"
    assert got.issued_at == NOW and got.expires_at == NOW + 180
    assert got.subject_ref == tokens.subject_ref(SECRET, ID_NUMBER)
    assert got.key_id == tokens.key_id(KEY.public_key())
    raw = raw_of(text)
    assert raw[0] == 1 and raw[1] == 1 and len(raw) == 30 + len("JN-LX-0001") + 64


def test_enterprise_token_and_role() -> None:
    text = tokens.sign_token(claims(TokenKind.ENTERPRISE, role=Role.AGENT), KEY)
    assert text.startswith("EC1:")
    got = tokens.verify_token(text, ring(), NOW)
    assert got.kind is TokenKind.ENTERPRISE and got.role is Role.AGENT


def test_no_id_number_inside_and_pseudonym_needs_the_secret() -> None:
    text = tokens.sign_token(claims(), KEY)
    raw = bytes(raw_of(text))
    assert ID_NUMBER.encode() not in raw and ID_NUMBER not in text
    assert ID_NUMBER[-6:].encode() not in raw
    # without the issuer's secret, a guess of the ID number does not give the subject
    assert tokens.subject_ref(b"\0" * 32, ID_NUMBER) != tokens.subject_ref(SECRET, ID_NUMBER)
    assert tokens.subject_ref(SECRET, ID_NUMBER.lower()) == tokens.subject_ref(SECRET, ID_NUMBER)
    assert ID_NUMBER not in repr(tokens.verify_token(text, ring(), NOW))


def test_expired_token_is_rejected() -> None:
    text = tokens.sign_token(claims(lifetime=60), KEY)
    assert tokens.verify_token(text, ring(), NOW + 59).expires_at == NOW + 60
    assert reason(text, now=NOW + 60) is RefusalReason.EXPIRED
    assert reason(text, now=NOW + 86400) is RefusalReason.EXPIRED


def test_token_signed_by_another_key_is_foreign() -> None:
    text = tokens.sign_token(claims(), OTHER_KEY)
    assert reason(text) is RefusalReason.FOREIGN
    both = Keyring([KEY.public_key(), OTHER_KEY.public_key()])
    assert tokens.verify_token(text, both, NOW).kind is TokenKind.RESIDENT


def test_key_id_forged_to_a_trusted_key_fails_the_signature() -> None:
    text = tokens.sign_token(claims(), OTHER_KEY)
    raw = raw_of(text)
    raw[3:7] = tokens.key_id(KEY.public_key())
    assert reason(text_of("RC1:", raw)) is RefusalReason.INVALID


@pytest.mark.parametrize("offset", [1, 2, 7, 10, 12, 13, 20, 28, 30, 35, -1, -40])
def test_tampered_byte_is_rejected(offset: int) -> None:
    raw = raw_of(tokens.sign_token(claims(), KEY))
    raw[offset] ^= 0x01
    assert reason(text_of("RC1:", raw)) in (RefusalReason.INVALID, RefusalReason.FOREIGN)


def test_lifetime_stretched_is_tampering() -> None:
    text = tokens.sign_token(claims(lifetime=60), KEY)
    raw = raw_of(text)
    raw[11:13] = (65535).to_bytes(2, "big")
    assert reason(text_of("RC1:", raw), now=NOW + 120) is RefusalReason.INVALID


def test_prefix_swapped_is_rejected() -> None:
    text = tokens.sign_token(claims(), KEY)
    assert reason("EC1:" + text[4:]) is RefusalReason.INVALID


def test_issued_in_the_future_beyond_skew() -> None:
    text = tokens.sign_token(claims(issued=NOW + 600), KEY)
    assert reason(text, now=NOW, skew_s=120) is RefusalReason.INVALID
    assert tokens.verify_token(text, ring(), NOW + 500, skew_s=120)


def test_expect_kind() -> None:
    text = tokens.sign_token(claims(TokenKind.ENTERPRISE), KEY)
    assert reason(text, expect=TokenKind.RESIDENT) is RefusalReason.WRONG_KIND


@pytest.mark.parametrize("text", ["RC1:", "RC1:AAAA", "RC1:ABC!", "RC1:" + "A" * 170,
                                  "RC1:abcdefgh", "A005", "https://example.org/"])
def test_malformed(text: str) -> None:
    assert reason(text) in (RefusalReason.INVALID, RefusalReason.FOREIGN)


def test_truncated_and_extended() -> None:
    text = tokens.sign_token(claims(), KEY)
    assert reason(text[:-8]) in (RefusalReason.INVALID, RefusalReason.FOREIGN)
    raw = raw_of(text)
    assert reason(text_of("RC1:", raw[:-64] + b"X" + raw[-64:])) is RefusalReason.INVALID


def test_wrong_version() -> None:
    raw = raw_of(tokens.sign_token(claims(), KEY))
    raw[0] = 2
    assert reason(text_of("RC1:", raw)) is RefusalReason.INVALID


def test_bad_claims_refused_when_signing() -> None:
    with pytest.raises(ValueError, match="terminal id"):
        tokens.sign_token(claims(terminal="济南-1"), KEY)
    with pytest.raises(ValueError, match="seconds"):
        tokens.sign_token(claims(lifetime=0), KEY)


def test_keys_in_base64_and_pem(tmp_path) -> None:
    b64 = tokens.public_key_b64(KEY.public_key())
    assert tokens.key_id(tokens.load_public_key_b64(b64)) == tokens.key_id(KEY.public_key())
    with pytest.raises(ValueError, match="Ed25519 public key"):
        tokens.load_public_key_b64("not-base64!")
    path = tmp_path / "issuer.pem"
    written = tokens.write_private_key(str(path), KEY)
    assert (path.stat().st_mode & 0o777) == 0o600
    loaded = tokens.load_private_key(str(path))
    assert tokens.key_id(loaded.public_key()) == tokens.key_id(written.public_key())
    (tmp_path / "junk.pem").write_text("junk", encoding="utf-8")
    with pytest.raises(ValueError, match="PEM"):
        tokens.load_private_key(str(tmp_path / "junk.pem"))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=7))
def test_any_single_bit_flip_is_rejected(position: int, bit: int) -> None:
    raw = raw_of(tokens.sign_token(claims(), KEY))
    raw[position % len(raw)] ^= 1 << bit
    assert reason(text_of("RC1:", raw)) in (RefusalReason.INVALID, RefusalReason.FOREIGN)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes_the_verifier(text: str) -> None:
    with pytest.raises(CodeRefused):
        tokens.verify_token(text, ring(), NOW)

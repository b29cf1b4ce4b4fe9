"""Compact resident/enterprise code tokens signed with Ed25519 and verified offline.

Text form (every character is in the QR alphanumeric set, so the symbol stays small)::

    RC1:<BASE32(body || signature)>      resident code (居民码)
    EC1:<BASE32(body || signature)>      enterprise code (企业码)

Base32 is RFC 4648 (A-Z, 2-7) without padding. ``body`` (big-endian):

=======  ======  ==============================================================================
offset   size    field
=======  ======  ==============================================================================
0        1       format version, 1
1        1       kind: 1 resident, 2 enterprise
2        1       role: 0 the person themself, 1 legal representative, 2 agent (enterprise codes)
3        4       key id: the first 4 bytes of SHA-256 of the issuer's raw 32-byte public key
7        4       issued at, Unix seconds (UTC)
11       2       lifetime in seconds (1-65535); expires at = issued at + lifetime
13       16      subject reference: an opaque pseudonym (HMAC of the ID number or credit code
                 under the issuer's secret), never the ID number itself
29       1       n = length of the terminal id (1-40)
30       n       issuing terminal id, ASCII letters, digits, ``.``, ``_``, ``-``
=======  ======  ==============================================================================

``signature`` is 64 bytes of Ed25519 over ``b"AISD-CODE\\x00" || body`` (the domain prefix keeps
a signature from being valid for any other message the same key might sign).

Verification (:func:`verify_token`), in this order: the text parses (else *invalid*); the key
id names a trusted key (else *foreign*); the signature verifies (else *invalid*: tampered);
the prefix matches the signed kind (else *invalid*); the code is not from the future beyond the
allowed clock skew (else *invalid*); it has not expired (else *expired*).
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from config.codes import ENTERPRISE_TOKEN_PATTERN, RESIDENT_TOKEN_PATTERN
from kiosk.codes.refusals import CodeRefused, RefusalReason

VERSION = 1
DOMAIN = b"AISD-CODE\x00"
SUBJECT_LEN = 16
SIGNATURE_LEN = 64
KEY_ID_LEN = 4
_HEADER = struct.Struct(">BBB4sIH16sB")
MAX_TERMINAL_LEN = 40
MAX_LIFETIME_S = 65535
_TERMINAL_RE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


class TokenKind(enum.IntEnum):
    RESIDENT = 1
    ENTERPRISE = 2

    @property
    def prefix(self) -> str:
        return PREFIXES[self]


class Role(enum.IntEnum):
    SELF = 0
    LEGAL_REPRESENTATIVE = 1
    AGENT = 2


PREFIXES: dict[TokenKind, str] = {TokenKind.RESIDENT: "RC1:", TokenKind.ENTERPRISE: "EC1:"}
_KIND_BY_PREFIX = {prefix: kind for kind, prefix in PREFIXES.items()}
#: regular expressions the scan classifier uses for this format
TOKEN_PATTERNS: dict[TokenKind, str] = {
    TokenKind.RESIDENT: RESIDENT_TOKEN_PATTERN,
    TokenKind.ENTERPRISE: ENTERPRISE_TOKEN_PATTERN,
}


def key_id(public_key: Ed25519PublicKey) -> bytes:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).digest()[:KEY_ID_LEN]


def public_key_b64(public_key: Ed25519PublicKey) -> str:
    """The raw public key in base64: what other terminals list in ``trusted_keys``."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def load_public_key_b64(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not a base64 Ed25519 public key (32 bytes): {text[:12]!r}…") from exc


class Keyring:
    """The public keys whose codes are trusted, by key id."""

    def __init__(self, keys: Iterable[Ed25519PublicKey] = ()) -> None:
        self._keys: dict[bytes, Ed25519PublicKey] = {}
        for key in keys:
            self.add(key)

    def add(self, key: Ed25519PublicKey) -> bytes:
        kid = key_id(key)
        self._keys[kid] = key
        return kid

    def get(self, kid: bytes) -> Ed25519PublicKey | None:
        return self._keys.get(kid)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys


@dataclass(frozen=True, repr=False)
class CodeClaims:
    """What a token says. ``subject_ref`` is a pseudonym; the repr shows only its start."""

    kind: TokenKind
    subject_ref: bytes
    issued_at: int
    lifetime_s: int
    terminal_id: str
    role: Role = Role.SELF
    key_id: bytes = b""

    @property
    def expires_at(self) -> int:
        return self.issued_at + self.lifetime_s

    @property
    def subject_hex(self) -> str:
        return self.subject_ref.hex()

    def __repr__(self) -> str:
        return (f"CodeClaims(kind={self.kind.name}, subject={self.subject_ref[:2].hex()}…, "
                f"issued_at={self.issued_at}, lifetime_s={self.lifetime_s}, "
                f"terminal={self.terminal_id!r}, role={self.role.name})")

    __str__ = __repr__


def _b32encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def _b32decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 8)
    return base64.b32decode(padded, casefold=False)


def encode_body(claims: CodeClaims) -> bytes:
    if len(claims.subject_ref) != SUBJECT_LEN:
        raise ValueError(f"a subject reference is {SUBJECT_LEN} bytes")
    if not _TERMINAL_RE.match(claims.terminal_id):
        raise ValueError("a terminal id in a code is 1-40 ASCII letters, digits, '.', '_', '-'")
    if not 1 <= claims.lifetime_s <= MAX_LIFETIME_S:
        raise ValueError(f"a code lives 1 to {MAX_LIFETIME_S} seconds")
    if not 0 <= claims.issued_at < 2**32:
        raise ValueError("issued_at must fit in 32 bits")
    if len(claims.key_id) != KEY_ID_LEN:
        raise ValueError(f"a key id is {KEY_ID_LEN} bytes")
    terminal = claims.terminal_id.encode("ascii")
    return _HEADER.pack(VERSION, claims.kind, claims.role, claims.key_id, claims.issued_at,
                        claims.lifetime_s, claims.subject_ref, len(terminal)) + terminal


def sign_token(claims: CodeClaims, private_key: Ed25519PrivateKey) -> str:
    """The token text for ``claims`` (whose ``key_id`` is set from the key)."""
    claims = CodeClaims(claims.kind, claims.subject_ref, claims.issued_at, claims.lifetime_s,
                        claims.terminal_id, claims.role, key_id(private_key.public_key()))
    body = encode_body(claims)
    signature = private_key.sign(DOMAIN + body)
    return claims.kind.prefix + _b32encode(body + signature)


def token_kind(text: str) -> TokenKind | None:
    """The kind a text claims by its prefix (unverified), or None if it is not this format."""
    return _KIND_BY_PREFIX.get(text[:4])


def parse_token(text: str) -> tuple[CodeClaims, bytes, bytes]:
    """Split a token into (claims, signed body, signature) without checking the signature."""
    kind = token_kind(text)
    if kind is None:
        raise CodeRefused(RefusalReason.FOREIGN, "not a code of this format")
    try:
        raw = _b32decode(text[4:])
    except (binascii.Error, ValueError) as exc:
        raise CodeRefused(RefusalReason.INVALID, "the code is not valid base32") from exc
    if len(raw) < _HEADER.size + 1 + SIGNATURE_LEN:
        raise CodeRefused(RefusalReason.INVALID, "the code is too short")
    body, signature = raw[:-SIGNATURE_LEN], raw[-SIGNATURE_LEN:]
    (version, kind_byte, role_byte, kid, issued_at, lifetime, subject,
     terminal_len) = _HEADER.unpack_from(body)
    if version != VERSION:
        raise CodeRefused(RefusalReason.INVALID, f"unknown code format version {version}")
    if len(body) != _HEADER.size + terminal_len or not 1 <= terminal_len <= MAX_TERMINAL_LEN:
        raise CodeRefused(RefusalReason.INVALID, "the code's length does not add up")
    try:
        signed_kind, role = TokenKind(kind_byte), Role(role_byte)
        terminal = body[_HEADER.size:].decode("ascii")
    except (ValueError, UnicodeDecodeError) as exc:
        raise CodeRefused(RefusalReason.INVALID, "the code holds impossible values") from exc
    claims = CodeClaims(signed_kind, subject, issued_at, lifetime, terminal, role, kid)
    return claims, body, signature


def verify_token(text: str, keyring: Keyring, now: float, *, skew_s: float = 120.0,
                 expect: TokenKind | None = None) -> CodeClaims:
    """Check a token completely; return its claims or raise :class:`CodeRefused`."""
    claims, body, signature = parse_token(text.strip())
    public_key = keyring.get(claims.key_id)
    if public_key is None:
        raise CodeRefused(RefusalReason.FOREIGN, "signed by a key this terminal does not trust")
    try:
        public_key.verify(signature, DOMAIN + body)
    except InvalidSignature as exc:
        raise CodeRefused(RefusalReason.INVALID, "the signature does not match (tampered)") \
            from exc
    if token_kind(text.strip()) is not claims.kind:
        raise CodeRefused(RefusalReason.INVALID, "the prefix does not match the signed kind")
    if claims.issued_at > now + skew_s:
        raise CodeRefused(RefusalReason.INVALID, "issued in the future (check the clocks)")
    if now >= claims.expires_at:
        raise CodeRefused(RefusalReason.EXPIRED,
                          f"expired {int(now - claims.expires_at)} s ago")
    if expect is not None and claims.kind is not expect:
        raise CodeRefused(RefusalReason.WRONG_KIND,
                          f"{expect.name.lower()} code expected, {claims.kind.name.lower()} "
                          "code shown")
    return claims


def load_private_key(path: str) -> Ed25519PrivateKey:
    """Read a PEM (PKCS#8) Ed25519 private key, e.g. made by ``openssl genpkey -algorithm
    ed25519`` or :func:`write_private_key`."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def write_private_key(path: str, key: Ed25519PrivateKey | None = None) -> Ed25519PrivateKey:
    """Write a new (or the given) key as PEM, readable by its owner only."""
    import os

    key = key or Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def subject_secret(private_key: Ed25519PrivateKey, label: bytes = b"subject-ref") -> bytes:
    """A secret for subject pseudonyms derived from the issuer key (one secret less to manage)."""
    seed = private_key.private_bytes(serialization.Encoding.Raw,
                                     serialization.PrivateFormat.Raw,
                                     serialization.NoEncryption())
    return hashlib.blake2b(seed, key=label, digest_size=32).digest()


def subject_ref(secret: bytes, identifier: str) -> bytes:
    """The 16-byte pseudonym of an ID number or credit code under ``secret``.

    Keyed (HMAC-like BLAKE2b), so that nobody without the secret can test guesses: ID numbers
    have so little entropy that a plain hash would be reversible.
    """
    normalized = identifier.strip().upper().encode("utf-8")
    return hashlib.blake2b(normalized, key=secret, digest_size=SUBJECT_LEN).digest()


def keyring_from(own: Ed25519PrivateKey | None, trusted_b64: Iterable[str] = (),
                 extra: Mapping[str, Ed25519PublicKey] | None = None) -> Keyring:
    ring = Keyring()
    if own is not None:
        ring.add(own.public_key())
    for text in trusted_b64:
        ring.add(load_public_key_b64(text))
    for key in (extra or {}).values():
        ring.add(key)
    return ring

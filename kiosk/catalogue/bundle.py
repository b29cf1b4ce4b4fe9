"""Signed catalogue bundles: the envelope, Ed25519 signing and verification, schema check.

A bundle is one UTF-8 JSON file::

    {
      "format": "aishandong-catalogue-bundle", "format_version": 1,
      "version": "2025.03.18-1", "serial": 2025031801,
      "key_id": "3f0c9a1b2d4e5f60",                 # first 16 hex of SHA-256(public key)
      "payload_sha256": "…",                         # of the decoded payload bytes
      "payload": "<base64 of gzip(canonical JSON of the Catalogue)>",
      "signature": "<base64 Ed25519 signature of CONTEXT + payload bytes>"
    }

Only the payload is trusted, and only after its signature verifies with a key the terminal
trusts; the header's ``version``/``serial`` must repeat the payload's. The payload is then
decompressed (size-capped) and schema-checked with :class:`kiosk.catalogue.model.Catalogue`.
Every refusal is a :class:`BundleError` whose ``reason`` is one of :data:`REASONS` and whose
message says what is wrong and what to do.

Public keys are written ``ed25519:<base64 of the 32 raw bytes>`` (config, docs); private keys
are PKCS#8 PEM files made by :func:`generate_key`.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import io
import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError

from config.catalogue import DEMO_PUBLIC_KEY, KEY_PREFIX, parse_public_key
from kiosk.catalogue.model import SCHEMA_ID, Catalogue

__all__ = ["DEMO_PUBLIC_KEY", "KEY_PREFIX", "parse_public_key"]  # re-exported from config

FORMAT = "aishandong-catalogue-bundle"
FORMAT_VERSION = 1
CONTEXT = b"aishandong-catalogue-bundle/1\x00"
#: a decompressed payload larger than this is refused (a gzip bomb)
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_BUNDLE_BYTES = 16 * 1024 * 1024

REASONS = ("truncated", "format", "too_large", "unknown_key", "signature", "schema",
           "mismatch", "downgrade", "rolled_back", "conflict", "http", "io")

DATA_DIR = Path(__file__).resolve().parent / "data"
#: the bundle shipped with the software: the catalogue of a terminal that never synced
EMBEDDED_BUNDLE = DATA_DIR / "catalogue.bundle.json"
#: DEMO ONLY: signs the embedded sample bundle. Real terminals trust the platform's key.
DEMO_PRIVATE_KEY_FILE = DATA_DIR / "demo-signing-key.pem"


class BundleError(Exception):
    """A bundle was refused. ``reason`` is machine-readable (:data:`REASONS`)."""

    def __init__(self, reason: str, message: str) -> None:
        assert reason in REASONS, reason
        super().__init__(message)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.reason}: {super().__str__()}"


# -- keys ------------------------------------------------------------------------------------
def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    path = Path(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise ValueError(f"signing key {path} does not exist; make one with "
                         "`kiosk catalogue keygen --out KEY.pem`") from None
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path} is not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """``ed25519:<base64>``: how a public key is written in config and docs."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def key_id(key: Ed25519PublicKey | Ed25519PrivateKey | str) -> str:
    """First 16 hex digits of the SHA-256 of the raw public key."""
    if isinstance(key, str):
        key = parse_public_key(key)
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def trust(public_keys: list[str] | tuple[str, ...]) -> dict[str, Ed25519PublicKey]:
    """Key id → key for the configured public keys."""
    keys = {}
    for text in public_keys:
        key = parse_public_key(text)
        keys[key_id(key)] = key
    return keys


# -- building ----------------------------------------------------------------------------------
def gzip_json(data: Any) -> bytes:
    """gzip of sorted, compact JSON with a zero timestamp: the same data, the same bytes."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as stream:
        stream.write(text.encode("utf-8"))
    return buffer.getvalue()


def canonical_payload(catalogue: Catalogue) -> bytes:
    return gzip_json(catalogue.dump())


def sign_payload(payload: bytes, *, version: str, serial: int, key: Ed25519PrivateKey) -> bytes:
    """Wrap already-encoded payload bytes in a signed envelope (no checks: tools, tests)."""
    envelope = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "version": version,
        "serial": serial,
        "key_id": key_id(key),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "payload": base64.b64encode(payload).decode("ascii"),
        "signature": base64.b64encode(key.sign(CONTEXT + payload)).decode("ascii"),
    }
    return (json.dumps(envelope, indent=1) + "\n").encode("utf-8")


def sign_bundle(catalogue: Catalogue, key: Ed25519PrivateKey) -> bytes:
    """The bundle file's bytes for ``catalogue``, signed with ``key`` (deterministic)."""
    return sign_payload(canonical_payload(catalogue), version=catalogue.version,
                        serial=catalogue.serial, key=key)


# -- verifying ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle that passed every check; ``raw`` is the file as received."""

    catalogue: Catalogue
    raw: bytes
    key_id: str
    sha256: str  # of the whole file

    @property
    def version(self) -> str:
        return self.catalogue.version

    @property
    def serial(self) -> int:
        return self.catalogue.serial


def _envelope(raw: bytes) -> dict[str, Any]:
    try:
        envelope = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BundleError("format", f"not a catalogue bundle: byte {exc.start} is not UTF-8 "
                          "(is the URL pointing at the bundle file?)") from None
    except json.JSONDecodeError as exc:
        body = raw.strip()
        if body.startswith(b"{") and (not body.endswith(b"}") or exc.pos >= len(body) - 1):
            raise BundleError("truncated", f"the bundle ends early after {len(raw)} bytes "
                              "(incomplete download or a partly written file); the current "
                              "catalogue stays") from None
        raise BundleError("format", f"not a catalogue bundle: invalid JSON at line "
                          f"{exc.lineno} column {exc.colno} ({exc.msg})") from None
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise BundleError("format", f"not a catalogue bundle: the top-level \"format\" must be "
                          f"{FORMAT!r}")
    if envelope.get("format_version") != FORMAT_VERSION:
        raise BundleError("schema", f"bundle format version {envelope.get('format_version')!r} "
                          f"is not {FORMAT_VERSION}, the one this kiosk reads; update the "
                          "kiosk software")
    for name, kind in (("version", str), ("serial", int), ("key_id", str),
                       ("payload_sha256", str), ("payload", str), ("signature", str)):
        if not isinstance(envelope.get(name), kind):
            raise BundleError("format", f"bundle header field {name!r} is missing or not a "
                              f"{kind.__name__}")
    return envelope


def _schema_message(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"{where}: {error['msg']}")
    more = exc.error_count() - len(lines)
    return "; ".join(lines) + (f"; and {more} more" if more > 0 else "")


def verify_bundle(raw: bytes, keys: dict[str, Ed25519PublicKey], *,
                  max_bytes: int = DEFAULT_MAX_BUNDLE_BYTES) -> VerifiedBundle:
    """Check ``raw`` completely; return the catalogue or raise :class:`BundleError`."""
    if len(raw) > max_bytes:
        raise BundleError("too_large", f"bundle of {len(raw)} bytes is over the limit of "
                          f"{max_bytes} (catalogue.max_bundle_mb)")
    if not raw.strip():
        raise BundleError("truncated", "the bundle is empty (0 bytes of content)")
    envelope = _envelope(raw)
    kid = envelope["key_id"]
    key = keys.get(kid)
    if key is None:
        raise BundleError("unknown_key", f"bundle {envelope['version']} is signed with key "
                          f"{kid}, which this terminal does not trust (trusted: "
                          f"{', '.join(sorted(keys)) or 'none'}); add the platform's public key "
                          "to catalogue.public_keys")
    try:
        payload = base64.b64decode(envelope["payload"], validate=True)
        signature = base64.b64decode(envelope["signature"], validate=True)
    except (binascii.Error, ValueError):
        raise BundleError("format", "bundle payload or signature is not valid base64") from None
    try:
        key.verify(signature, CONTEXT + payload)
    except InvalidSignature:
        raise BundleError("signature", f"the signature of bundle {envelope['version']} does not "
                          f"verify with key {kid}: the file was altered or signed with another "
                          "key; it is refused and the current catalogue stays") from None
    if hashlib.sha256(payload).hexdigest() != envelope["payload_sha256"]:
        raise BundleError("mismatch", "payload_sha256 in the header does not match the signed "
                          "payload")
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(payload)) as stream:
            text = stream.read(MAX_PAYLOAD_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise BundleError("format", f"signed payload is not gzip data ({exc})") from None
    if len(text) > MAX_PAYLOAD_BYTES:
        raise BundleError("too_large", f"payload decompresses to more than {MAX_PAYLOAD_BYTES} "
                          "bytes")
    try:
        data = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError("schema", f"signed payload is not UTF-8 JSON ({exc})") from None
    if isinstance(data, dict) and data.get("schema") != SCHEMA_ID:
        raise BundleError("schema", f"catalogue schema {data.get('schema')!r} is not "
                          f"{SCHEMA_ID!r}, the one this kiosk understands; update the kiosk "
                          "software or have the platform publish this schema")
    try:
        catalogue = Catalogue.model_validate(data)
    except ValidationError as exc:
        raise BundleError("schema", f"catalogue {envelope['version']} does not match schema "
                          f"{SCHEMA_ID}: {_schema_message(exc)}") from None
    if (catalogue.version, catalogue.serial) != (envelope["version"], envelope["serial"]):
        raise BundleError("mismatch", f"header says {envelope['version']}/#{envelope['serial']} "
                          f"but the signed catalogue is {catalogue.version}/#{catalogue.serial}")
    return VerifiedBundle(catalogue=catalogue, raw=raw, key_id=kid,
                          sha256=hashlib.sha256(raw).hexdigest())


def read_header(raw: bytes) -> dict[str, Any]:
    """The unverified header (version, serial, key id) for display; never trust it."""
    envelope = _envelope(raw)
    return {name: envelope[name] for name in ("version", "serial", "key_id", "payload_sha256")}


def stamp(catalogue: Catalogue, *, version: str, serial: int,
          published_at: datetime | None = None) -> Catalogue:
    """A copy of ``catalogue`` with a new version and serial (publishing tools, tests)."""
    update: dict[str, Any] = {"version": version, "serial": serial}
    if published_at is not None:
        update["published_at"] = published_at
    return Catalogue.model_validate({**catalogue.dump(), **{
        k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in update.items()}})

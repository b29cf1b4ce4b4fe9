"""Configuration of scanned codes and the code platform (mounted by config/schema.py as
``[codes]``); ``kiosk.codes.factory`` builds the platform adapter and the scan gate from it.

The adapter *type*, *url* and *timeout* are those of ``[backends.platform]`` (``type =
"embedded"`` or ``"http"``); this section holds what is specific to codes: keys, lifetimes,
the scan gate and the classifier's patterns. Secrets are never written into the config: the
issuer key is a PEM file, the HTTP API key is read from an environment variable.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, field_validator

#: the compact tokens of the embedded platform (kiosk.codes.tokens takes them from here)
RESIDENT_TOKEN_PATTERN = r"^RC1:[A-Z2-7]{150,240}$"
ENTERPRISE_TOKEN_PATTERN = r"^EC1:[A-Z2-7]{150,240}$"
DEFAULT_RESIDENT_PATTERNS: tuple[str, ...] = (RESIDENT_TOKEN_PATTERN,)
DEFAULT_ENTERPRISE_PATTERNS: tuple[str, ...] = (ENTERPRISE_TOKEN_PATTERN,)
DEFAULT_TICKET_PATTERNS: tuple[str, ...] = (
    r"^[A-Z]{1,2}\d{3,4}$",  # a queue number as called: A005
    r"^(?:TICKET|QUEUE|RECEIPT):[0-9A-Za-z._-]{1,64}$",  # a ticket or receipt QR
    r"^\d{10,32}$",  # a receipt (办件) number; ID and phone numbers are excluded first
)
DEFAULT_LICENCE_HOSTS: tuple[str, ...] = ("gsxt.gov.cn", "gsxt.amr.gov.cn")


def load_public_key_b64(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not a base64 Ed25519 public key (32 bytes): {text[:12]!r}…") from exc


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _check_patterns(values: list[str]) -> list[str]:
    for pattern in values:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from exc
    return values


class CodesConfig(_Section):
    """Resident and enterprise codes (一码通行): scanning, issuing and verifying."""

    duplicate_window_s: float = Field(
        3.0, ge=0, le=60, description="The same code read again within this many seconds of "
        "its previous sighting counts once.")
    max_length: int = Field(1024, ge=16, le=8192,
                            description="Longer scanned payloads are refused.")
    lifetime_s: int = Field(180, ge=30, le=3600, description="Validity of a code issued by "
                            "the embedded platform.")
    refresh_before_s: int = Field(30, ge=0, le=600, description="The code on screen is "
                                  "replaced this many seconds before it expires.")
    clock_skew_s: int = Field(120, ge=0, le=3600, description="How far in the future a "
                              "code's issue time may lie (clocks of other terminals).")
    issuer_key_file: str = Field(
        "", description="PEM file with this terminal's Ed25519 private key (embedded "
        "platform). Empty: a new key at every start (demo: codes die with the process).",
        json_schema_extra={"allowed": "\"\" or the path of a PEM file (`openssl genpkey "
                           "-algorithm ed25519`)"})
    trusted_keys: list[str] = Field(
        default_factory=list, description="Public keys (base64, 32 bytes) of other issuers "
        "whose codes this terminal verifies offline.",
        json_schema_extra={"allowed": "a list of base64 Ed25519 public keys"})
    api_key_env: str = Field(
        "KIOSK_CODES_API_KEY", description="Environment variable holding the HTTP platform's "
        "API key (sent as a bearer token); unset means no key.",
        json_schema_extra={"allowed": "an environment variable name"})
    resident_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_RESIDENT_PATTERNS),
        description="Payloads matching one of these are resident codes (居民码). Add the "
        "province platform's formats here.",
        json_schema_extra={"allowed": "a list of regular expressions"})
    enterprise_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ENTERPRISE_PATTERNS),
        description="Payloads matching one of these are enterprise codes (企业码).",
        json_schema_extra={"allowed": "a list of regular expressions"})
    ticket_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TICKET_PATTERNS),
        description="Queue tickets and receipt numbers (ID and mobile numbers never match).",
        json_schema_extra={"allowed": "a list of regular expressions"})
    licence_hosts: list[str] = Field(
        default_factory=lambda: list(DEFAULT_LICENCE_HOSTS),
        description="Hosts whose URLs carrying a credit code are electronic business licences.",
        json_schema_extra={"allowed": "a list of host names"})

    @field_validator("resident_patterns", "enterprise_patterns", "ticket_patterns")
    @classmethod
    def _patterns(cls, values: list[str]) -> list[str]:
        return _check_patterns(values)

    @field_validator("trusted_keys")
    @classmethod
    def _keys(cls, values: list[str]) -> list[str]:
        for value in values:
            load_public_key_b64(value)
        return values

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value

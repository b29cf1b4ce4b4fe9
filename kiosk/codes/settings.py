"""Configuration of scanned codes and the code platform (mounted by config/schema.py as
``[codes]``), and the factory that builds the platform adapter from it.

The adapter *type*, *url* and *timeout* are those of ``[backends.platform]`` (``type =
"embedded"`` or ``"http"``); this section holds what is specific to codes: keys, lifetimes,
the scan gate and the classifier's patterns. Secrets are never written into the config: the
issuer key is a PEM file, the HTTP API key is read from an environment variable.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kiosk.codes.classify import (
    DEFAULT_ENTERPRISE_PATTERNS,
    DEFAULT_LICENCE_HOSTS,
    DEFAULT_RESIDENT_PATTERNS,
    DEFAULT_TICKET_PATTERNS,
    Classifier,
)
from kiosk.codes.gate import ScanGate
from kiosk.codes.platform import CodePlatform
from kiosk.codes.tokens import load_private_key, load_public_key_b64

log = logging.getLogger(__name__)


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

    def classifier(self) -> Classifier:
        return Classifier(self.resident_patterns, self.enterprise_patterns,
                          self.ticket_patterns, self.licence_hosts)

    def scan_gate(self) -> ScanGate:
        return ScanGate(max_length=self.max_length, window_s=self.duplicate_window_s,
                        classifier=self.classifier())


def build_code_platform(codes: CodesConfig, backend: Any, terminal_id: str, *,
                        environ: dict[str, str] | None = None,
                        clock: Callable[[], float] | None = None,
                        data_dir: Any = None) -> CodePlatform:
    """The platform adapter for ``backend`` (``config.backends.platform``: ``type``, ``url``,
    ``timeout_s``). Raises ``ValueError`` with a plain explanation when a file is unusable.

    The embedded platform signs proofs with a key kept in ``<data_dir>/platform/`` (made on
    first start), so printed proofs still verify after a restart."""
    import time

    clock = clock or time.time
    if backend.type == "http":
        from kiosk.codes.http_adapter import HttpCodePlatform

        env = os.environ if environ is None else environ
        api_key = env.get(codes.api_key_env, "") if codes.api_key_env else ""
        return HttpCodePlatform(backend.url, timeout_s=float(backend.timeout_s),
                                api_key=api_key, terminal_id=terminal_id, clock=clock)
    from kiosk.codes.embedded import EmbeddedCodePlatform

    key = None
    if codes.issuer_key_file:
        try:
            key = load_private_key(codes.issuer_key_file)
        except OSError as exc:
            raise ValueError(f"codes.issuer_key_file: cannot read {codes.issuer_key_file}: "
                             f"{exc.strerror}") from exc
        except ValueError as exc:
            raise ValueError(f"codes.issuer_key_file: {exc}") from exc
    else:
        log.warning("codes.issuer_key_file is empty: codes are signed with a key made for this "
                    "run only")
    proof_key = None
    if data_dir is not None:
        from kiosk.codes.proofdocs import load_or_create_key, proof_key_path

        try:
            proof_key = load_or_create_key(proof_key_path(data_dir))
        except (OSError, ValueError) as exc:
            raise ValueError(f"storage.data_dir: the platform key in "
                             f"{proof_key_path(data_dir)} is unusable ({exc}); delete it to "
                             "make a new one (proofs printed before will no longer verify)"
                             ) from exc
    verify_url = backend.url or "https://platform.example.invalid"
    return EmbeddedCodePlatform(key, terminal_id=_code_terminal_id(terminal_id),
                                lifetime_s=codes.lifetime_s, trusted_keys=codes.trusted_keys,
                                skew_s=float(codes.clock_skew_s), clock=clock,
                                proof_key=proof_key, verify_base_url=verify_url)


def _code_terminal_id(terminal_id: str) -> str:
    """A terminal id as a code may carry it (1-40 of A-Z a-z 0-9 . _ -); config ids already are."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", terminal_id).strip("-")[:40]
    return cleaned or "TERMINAL"

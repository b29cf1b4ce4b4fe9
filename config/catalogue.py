"""``[catalogue]``: where the catalogue comes from, which keys sign it, what this site offers.

Mounted by ``config/schema.py`` as ``catalogue: CatalogueSettings``. It follows the
conventions of the other sections (frozen, unknown keys refused, ``description`` and
``allowed`` on every field). It imports nothing from ``kiosk``: the few facts it checks
against (key format, the demo key, item levels and codes) are defined here and
``kiosk.catalogue`` takes them from here.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, field_validator

Level = Literal["district", "town", "community", "village"]
LEVELS: tuple[str, ...] = Level.__args__  # type: ignore[attr-defined]
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{1,63}$"
KEY_PREFIX = "ed25519:"
#: DEMO ONLY: the key of the sample bundle shipped with the software
DEMO_PUBLIC_KEY = "ed25519:KxqnSSoO3nj8h/8S6Y4acwjWMoaFDaYfkCNNmASyIFA="


def parse_public_key(text: str) -> Ed25519PublicKey:
    """Read ``ed25519:<base64 of 32 bytes>``; a clear ``ValueError`` otherwise."""
    text = text.strip()
    if not text.startswith(KEY_PREFIX):
        raise ValueError(f"public key {text[:20]!r}… must start with {KEY_PREFIX!r} "
                         "(write it as ed25519:<base64 of the 32-byte key>)")
    try:
        raw = base64.b64decode(text[len(KEY_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"public key {text!r} is not valid base64") from None
    if len(raw) != 32:
        raise ValueError(f"public key {text!r} decodes to {len(raw)} bytes, not 32")
    return Ed25519PublicKey.from_public_bytes(raw)


def _field(default: Any = ..., description: str = "", *, allowed: str | None = None,
           **kwargs: Any) -> Any:
    extra = {"allowed": allowed} if allowed else None
    factory = kwargs.pop("default_factory", None)
    if factory is not None:
        return Field(default_factory=factory, description=description, json_schema_extra=extra,
                     **kwargs)
    return Field(default, description=description, json_schema_extra=extra, **kwargs)


class CatalogueSettings(BaseModel):
    """The service catalogue: signed bundles from the platform, and what this site offers."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    url: str = _field("", "URL of the platform's catalogue bundle, fetched with "
                      "If-None-Match; \"\" = use the bundle shipped with the software, no sync.",
                      allowed="\"\" or an http:// or https:// URL")
    poll_interval_s: int = _field(3600, "Seconds between two checks for a new bundle (a "
                                  "retained MQTT notice triggers one at once).", ge=60,
                                  le=86400)
    timeout_s: float = _field(15.0, "Time-out of one download in seconds.", ge=1, le=300)
    max_bundle_mb: float = _field(16.0, "A bundle larger than this is refused.", gt=0, le=256)
    public_keys: list[str] = _field(
        default_factory=lambda: [DEMO_PUBLIC_KEY],
        description="Ed25519 public keys whose signature is accepted (two during a key "
        "rotation). The default is the DEMO key of the sample bundle: set the platform's key "
        "on every real terminal.",
        allowed="a non-empty list of \"ed25519:<base64 of the 32-byte key>\"")
    levels: list[Level] = _field(default_factory=lambda: list(LEVELS),
                                 description="Levels of items this terminal offers: district, "
                                 "town, community, village.")
    categories: list[str] = _field(default_factory=list,
                                   description="Only items in one of these categories (e.g. "
                                   "医疗保障, 社会保险); [] = every category.",
                                   allowed="a list of category names; [] = all")
    include_codes: list[str] = _field(default_factory=list,
                                      description="Items offered whatever their level or "
                                      "category.", allowed="a list of item codes")
    exclude_codes: list[str] = _field(default_factory=list,
                                      description="Items never offered here.",
                                      allowed="a list of item codes")
    keep_versions: int = _field(3, "Verified bundles kept on disk (the active one, and older "
                                "ones for rollback).", ge=2, le=20)
    cache_dir: str = _field("", "Where bundles are kept; \"\" = <storage.data_dir>/catalogue.",
                            allowed="a directory path or \"\"")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"cannot fetch bundles from {value!r}: use an http:// or "
                                 "https:// URL, or \"\" for the built-in bundle")
        return value

    @field_validator("public_keys")
    @classmethod
    def _keys(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one public key is needed, or no bundle can be trusted")
        for text in value:
            parse_public_key(text)
        return list(dict.fromkeys(value))

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one level is needed, or the terminal offers nothing")
        return list(dict.fromkeys(value))

    @field_validator("include_codes", "exclude_codes")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not re.match(CODE_PATTERN, code)]
        if bad:
            raise ValueError(f"{bad} are not item codes (letters, digits and -)")
        return list(dict.fromkeys(value))

    @field_validator("cache_dir")
    @classmethod
    def _expand(cls, value: str) -> str:
        return os.path.expanduser(value) if value else value

    # -- helpers for the composition root -------------------------------------------------------
    @property
    def uses_demo_key(self) -> bool:
        """True while the demo key is trusted: fine for the demo, wrong in the field."""
        return DEMO_PUBLIC_KEY in self.public_keys

    @property
    def max_bundle_bytes(self) -> int:
        return int(self.max_bundle_mb * 1024 * 1024)

    def cache_path(self, data_dir: str | Path) -> Path:
        return Path(self.cache_dir) if self.cache_dir else Path(data_dir) / "catalogue"

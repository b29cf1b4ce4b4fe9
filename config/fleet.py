"""Fleet settings: the ``fleet`` config section (remote command keys, outbox limits)."""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, field_validator


def ed25519_public_key(text: str) -> Ed25519PublicKey:
    """Parse a base64 raw 32-byte Ed25519 public key (what ``fleet.keys`` prints)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{text[:12]!r}… is not base64; a fleet command key is the 32-byte "
                         "Ed25519 public key in base64 (44 characters), as printed by "
                         "`python -m fleet.keys new-command-key`") from None
    if len(raw) != 32:
        raise ValueError(f"a fleet command key has 32 bytes, this one decodes to {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


class FleetSettings(BaseModel):
    """Remote commands and the durable outbox."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    command_keys: list[str] = Field(
        default_factory=list,
        description="Ed25519 public keys (base64) whose signatures remote commands must carry; "
        "more than one during a key rotation; [] = every command is refused.")
    enrol_url: str = Field("", description="The fleet server's URL this terminal enrolled "
                           "with (written by `kiosk-provision enrol`); the maintenance screen "
                           "offers it again for a re-enrolment.")
    command_max_ttl_s: int = Field(3600, ge=10, le=86400, description="Longest validity "
                                   "(expiry minus issue time) a command may have.")
    clock_skew_s: int = Field(120, ge=0, le=3600, description="Tolerated difference between "
                              "the fleet's and the terminal's clocks.")
    outbox_max_records: int = Field(100_000, ge=100, le=10_000_000, description="Cap of the "
                                    "outbox (records waiting for the broker).")
    outbox_alarm_fraction: float = Field(0.8, gt=0, le=1, description="Fill level of the "
                                         "outbox at which the alarm is raised.")
    inflight_window: int = Field(500, ge=1, le=10_000, description="Records published and "
                                 "not yet acknowledged at most.")
    screenshot_retention_days: int = Field(7, ge=1, le=90, description="Days a screenshot "
                                           "taken by a remote command is kept on the "
                                           "terminal before it is deleted.")

    @field_validator("command_keys")
    @classmethod
    def _keys(cls, value: list[str]) -> list[str]:
        for key in value:
            ed25519_public_key(key)
        return value

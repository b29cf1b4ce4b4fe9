"""好差评 settings: the ``ratings`` config section (reasons, the evaluation system's key,
the supplementary-evaluation window)."""

from __future__ import annotations

import base64
import binascii
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: the reasons offered for a bad rating (kiosk.ratings.levels takes them from here)
BAD_REASONS = ("等待时间长", "操作复杂", "设备故障", "信息不准确", "工作人员态度", "其他")


def x25519_public_key_bytes(text: str) -> bytes:
    """The 32 raw bytes of a base64 X25519 public key, or a ValueError saying what is wrong."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("evaluation_public_key is not base64; expected the 32-byte X25519 "
                         "public key of the evaluation system in base64 (44 characters)"
                         ) from None
    if len(raw) != 32:
        raise ValueError(f"evaluation_public_key decodes to {len(raw)} bytes, an X25519 "
                         "public key has 32")
    return raw


class RatingSettings(BaseModel):
    """How ratings are recorded: bad-review reasons, the evaluation system's key, windows."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    reasons: list[str] = Field(
        default_factory=lambda: list(BAD_REASONS),
        description="Reasons offered for 不满意 and 非常不满意; one must be chosen.")
    text_max_chars: int = Field(200, ge=0, le=2000,
                                description="Longest free text of a rating (0 = no text).")
    evaluation_public_key: str = Field(
        "", description="The evaluation system's X25519 public key (32 bytes, base64) that "
        "seals the real-name part; \"\" = real-name parts are not sent.")
    without_real_name_followup: bool = Field(
        False, description="Run without an evaluation key: real-name parts of bad reviews are "
        "not sent, so they cannot be followed up (实名差评回访). Outside the demo a missing key "
        "stops start-up unless this is true; the birth record reports it.")
    supplementary_days: int = Field(5, ge=0, le=30, description="Working days after the "
                                    "first evaluation in which a supplementary one is allowed.")
    holidays: list[date] = Field(default_factory=list, description="Public holidays (not "
                                 "working days), e.g. [2025-10-01, 2025-10-02].")
    extra_workdays: list[date] = Field(default_factory=list, description="Weekend days that "
                                       "are working days (调休).")

    @field_validator("reasons")
    @classmethod
    def _reasons(cls, value: list[str]) -> list[str]:
        cleaned = [r.strip() for r in value if r.strip()]
        if not cleaned:
            raise ValueError("give at least one reason for bad ratings, e.g. [\"等待时间长\"]")
        return list(dict.fromkeys(cleaned))

    @field_validator("evaluation_public_key")
    @classmethod
    def _key(cls, value: str) -> str:
        if value:
            x25519_public_key_bytes(value)
        return value



"""Masking of personal data (lowest layer, so drivers and the kiosk share one rule).

Rules, from the developers' guide: ``3701**********1234`` for an ID number (first 4, last 4),
``张*`` for a name (first character; two-character names keep the first, longer names keep the
first and, for names of 4+ characters, nothing else), ``138****5678`` for a phone number.
``scrub`` is the safety net applied to every log record: it masks anything that looks like an
ID number or a mobile phone number even if a developer forgot to mask it.
"""

from __future__ import annotations

import re

_ID_RE = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
_ID15_RE = re.compile(r"(?<!\d)([1-9]\d{5})(\d{6})(\d{3})(?!\d)")
_PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_id_number(value: str) -> str:
    """``370102199001011234`` → ``3701**********1234``; short values are masked entirely."""
    value = (value or "").strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(value: str) -> str:
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``, ``John Smith`` → ``J*********``."""
    value = (value or "").strip()
    if not value:
        return ""
    return value[0] + "*" * max(1, len(value) - 1)


def mask_phone(value: str) -> str:
    value = (value or "").strip()
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_text(value: str, keep: int = 2) -> str:
    """Generic: keep the first ``keep`` characters (addresses: ``山东****``)."""
    value = (value or "").strip()
    return value[:keep] + "*" * max(0, len(value) - keep)


def scrub(text: str) -> str:
    """Mask every ID-number-like and phone-number-like run of digits in free text."""
    text = _ID_RE.sub(lambda m: mask_id_number(m.group(0)), text)
    text = _ID15_RE.sub(lambda m: mask_id_number(m.group(0)), text)
    return _PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)

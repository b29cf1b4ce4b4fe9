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


#: full-width digits and X (what a Chinese IME types) → ASCII
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
_DIGIT = "0-9\uff10-\uff19"
#: what people put between groups of digits: spaces (also full-width), hyphens and dashes, dots
_SEP = "[ \t\u00a0\u3000\\-\u2010-\u2015\u2212\uff0d.\u00b7\u30fb]"
#: a run of digits, possibly broken up by separators (one or two between groups), possibly
#: ending in an X (the ID check character); never glued to letters or other digits
_GROUPED_RE = re.compile(
    f"(?<![{_DIGIT}A-Za-z\uff21-\uff3a\uff41-\uff5a])"
    f"(?:\\+|\uff0b)?[{_DIGIT}](?:{_SEP}{{0,2}}[{_DIGIT}])*(?:{_SEP}{{0,2}}[XxＸｘ])?"
    f"(?![{_DIGIT}A-Za-z\uff21-\uff3a\uff41-\uff5a])")
_ID_SHAPE = re.compile(r"[1-9]\d{16}[\dX]|[1-9]\d{14}")
_PHONE_SHAPE = re.compile(r"1[3-9]\d{9}")


def _mask_digits(digits: str) -> str | None:
    if _ID_SHAPE.fullmatch(digits):
        return mask_id_number(digits)
    if _PHONE_SHAPE.fullmatch(digits):
        return mask_phone(digits)
    return None


def _mask_grouped(match: re.Match[str]) -> str:
    """Within a run of digit groups (``138-1234-5678 404``), mask every stretch of whole
    groups that forms an ID or phone number, longest first, as its plain form would be; other
    digits (dates, amounts, ticket numbers, status codes) are left alone."""
    parts = re.split(f"({_SEP}+)", match.group(0))  # groups at even, separators at odd places
    groups = [p.translate(_FULL_WIDTH).upper().lstrip("+\uff0b") for p in parts[0::2]]
    out: list[str] = []
    i = 0
    while i < len(groups):
        best: tuple[int, str] | None = None
        digits = ""
        for j in range(i, len(groups)):
            digits += groups[j]
            if len(digits) > 18:
                break
            masked = _mask_digits(digits)
            if masked is not None:
                best = (j, masked)
        if best is None:
            out.append(parts[2 * i])
            end = i
        else:
            end, masked = best
            out.append(masked)
        if end + 1 < len(groups):
            out.append(parts[2 * end + 1])
        i = end + 1
    return "".join(out)


def scrub(text: str) -> str:
    """Mask every ID-number-like and phone-number-like run of digits in free text: unbroken,
    broken up by spaces, dashes or dots (``3701 0219 …``, ``138-1234-5678``), or typed in
    full-width digits (``１３８１２３４５６７８``)."""
    text = _ID_RE.sub(lambda m: mask_id_number(m.group(0)), text)
    text = _ID15_RE.sub(lambda m: mask_id_number(m.group(0)), text)
    text = _PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)
    return _GROUPED_RE.sub(_mask_grouped, text)

"""Citizen identity number check digit (GB 11643-1999, ISO 7064 MOD 11-2).

The same rule protects resident ID numbers, the 81/82/83 numbers of Hong Kong, Macau and Taiwan
residence permits and the 18-digit numbers (beginning with 9) of 2023 foreigner permanent
residence cards.
"""

from __future__ import annotations

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    """The 18th character for the 17 digits ``first17``; raises ``ValueError`` if malformed."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("an ID number body is 17 ASCII digits")
    total = sum(int(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return _CHECK[total % 11]


def is_valid_id_number(value: str) -> bool:
    """True for an 18-character number whose last character is its correct check digit."""
    value = (value or "").strip().upper()
    if len(value) != 18:
        return False
    try:
        return check_digit(value[:17]) == value[17]
    except ValueError:
        return False


def with_check_digit(first17: str) -> str:
    """``first17`` followed by its check digit (for building fictitious samples)."""
    return first17 + check_digit(first17)

"""What the hall says, as text for the synthesiser.

Halls read ticket numbers digit by digit ("A004" → "A 零 零 四") so that nobody mistakes
"A 四" for "A 十四", and window numbers as numbers ("12" → "十二号窗口").
"""

from __future__ import annotations

import re

DIGITS = "零一二三四五六七八九"
_DIGITS_YAO = "零幺二三四五六七八九"
_TICKET = re.compile(r"^([A-Za-z]{0,3})(\d{1,6})$")


def spell_digits(digits: str, *, yao: bool = False) -> str:
    """``"004"`` → ``"零 零 四"``; with ``yao`` a one is 幺 (as some halls say it)."""
    table = _DIGITS_YAO if yao else DIGITS
    if not digits.isdigit():
        raise ValueError(f"not digits: {digits!r}")
    return " ".join(table[int(d)] for d in digits)


def spell_ticket(number: str, *, yao: bool = False) -> str:
    """A ticket number digit by digit: ``"A004"`` → ``"A 零 零 四"``.

    Raises ``ValueError`` for anything that is not up to three letters and up to six digits.
    """
    found = _TICKET.match(str(number).strip())
    if not found:
        raise ValueError(f"ticket number {number!r}: expected letters and digits such as A004")
    letters, digits = found.groups()
    parts = [letters.upper()] if letters else []
    parts.append(spell_digits(digits, yao=yao))
    return " ".join(parts)


def chinese_number(value: int) -> str:
    """0 to 9999 in Chinese numerals, as a window number is said: 3 → 三, 12 → 十二,
    20 → 二十, 105 → 一百零五."""
    if not 0 <= value <= 9999:
        raise ValueError(f"{value} is outside 0 to 9999")
    if value < 10:
        return DIGITS[value]
    if value < 20:
        return "十" + (DIGITS[value % 10] if value % 10 else "")
    units = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))
    out = ""
    zero = False
    started = False
    for size, name in units:
        digit = value // size % 10
        if digit == 0:
            zero = started
            continue
        if zero:
            out += "零"
            zero = False
        out += DIGITS[digit] + name
        started = True
    return out


def window_words(window: str) -> str:
    """How a window is said: ``"3"`` → ``"三"``; a name that is not a number stays as it is."""
    text = str(window).strip()
    if text.isdigit() and len(text) <= 4:
        return chinese_number(int(text))
    return text


def call_phrase(number: str, window: str, *, action: str = "办理", yao: bool = False) -> str:
    """The announcement of a call: ``call_phrase("A004", "3")`` →
    ``"请 A 零 零 四 号 到 三 号窗口 办理"``."""
    return f"请 {spell_ticket(number, yao=yao)} 号 到 {window_words(window)} 号窗口 {action}"

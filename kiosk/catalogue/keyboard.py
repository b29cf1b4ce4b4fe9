"""The search screen's on-screen keyboard, as plain logic (the screen only draws it).

Two modes: ``pinyin`` (letters: a resident taps the initials or the full pinyin of what
they want, ``ylbx`` or ``dibao``, and picks the item from the results: a Chinese path that
needs no handwriting and no IME) and ``digits`` (item codes, 80周岁…). After each key the
screen gets a :class:`KeyboardUpdate`: the text, the ranked results and the letters that
still lead somewhere (the others are dimmed, never hidden, so the layout does not jump).

Keys are identified by ``Key.id``: a letter or digit, or one of :data:`BACKSPACE`,
:data:`CLEAR`, :data:`SWITCH`. Labels are what the key shows; ``width`` is in key units.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Literal

from kiosk.catalogue.search import Hit
from kiosk.catalogue.view import CatalogueView

BACKSPACE, CLEAR, SWITCH = "backspace", "clear", "switch"
MAX_LENGTH = 20
HINT = "输入拼音首字母，如“ylbx”查医疗保险，“dbsq”查低保申请"


class Mode(enum.StrEnum):
    PINYIN = "pinyin"
    DIGITS = "digits"


@dataclass(frozen=True)
class Key:
    id: str
    label: str
    kind: Literal["char", "backspace", "clear", "switch"] = "char"
    width: float = 1.0


def _chars(row: str) -> tuple[Key, ...]:
    return tuple(Key(char, char.upper()) for char in row)


LAYOUTS: dict[Mode, tuple[tuple[Key, ...], ...]] = {
    Mode.PINYIN: (
        _chars("qwertyuiop"),
        _chars("asdfghjkl"),
        (*_chars("zxcvbnm"), Key(BACKSPACE, "⌫ 删除", "backspace", 1.5)),
        (Key(SWITCH, "123", "switch", 1.5), Key(CLEAR, "清空", "clear", 1.5)),
    ),
    Mode.DIGITS: (
        tuple(Key(c, c) for c in "123"),
        tuple(Key(c, c) for c in "456"),
        tuple(Key(c, c) for c in "789"),
        (Key("-", "-"), Key("0", "0"), Key(BACKSPACE, "⌫", "backspace")),
        (Key(SWITCH, "拼音", "switch", 1.5), Key(CLEAR, "清空", "clear", 1.5)),
    ),
}


def layout(mode: Mode) -> tuple[tuple[Key, ...], ...]:
    """Rows of keys for ``mode``."""
    return LAYOUTS[mode]


def _char_ids(mode: Mode) -> frozenset[str]:
    return frozenset(key.id for row in LAYOUTS[mode] for key in row if key.kind == "char")


@dataclass(frozen=True)
class KeyboardState:
    text: str = ""
    mode: Mode = Mode.PINYIN

    def press(self, key_id: str) -> KeyboardState:
        """The state after pressing ``key_id``; unknown keys are ignored (stale screen)."""
        if key_id == BACKSPACE:
            return replace(self, text=self.text[:-1])
        if key_id == CLEAR:
            return replace(self, text="")
        if key_id == SWITCH:
            return replace(self, mode=Mode.DIGITS if self.mode is Mode.PINYIN else Mode.PINYIN)
        if key_id in _char_ids(self.mode) and len(self.text) < MAX_LENGTH:
            return replace(self, text=self.text + key_id)
        return self


@dataclass(frozen=True)
class KeyboardUpdate:
    state: KeyboardState
    results: tuple[Hit, ...] = ()
    enabled: frozenset[str] = field(default_factory=frozenset)  # char keys that lead somewhere

    @property
    def text(self) -> str:
        return self.state.text

    @property
    def display(self) -> str:
        """What the input box shows: the letters in capitals, spaced for reading (Y L B X)."""
        if self.state.mode is Mode.PINYIN and self.state.text.isalpha():
            return " ".join(self.state.text.upper())
        return self.state.text


class SearchKeyboard:
    """Keyboard state plus results over one :class:`CatalogueView` (pinned for the session)."""

    def __init__(self, view: CatalogueView, limit: int = 8) -> None:
        self.view = view
        self.limit = limit
        self.state = KeyboardState()

    def _update(self) -> KeyboardUpdate:
        text = self.state.text
        results = tuple(self.view.search(text, self.limit)) if text else ()
        if self.state.mode is Mode.PINYIN:
            enabled = self.view.next_letters(text)
        else:
            enabled = _char_ids(Mode.DIGITS)
        return KeyboardUpdate(self.state, results, frozenset(enabled))

    def press(self, key_id: str) -> KeyboardUpdate:
        self.state = self.state.press(key_id)
        return self._update()

    def refresh(self) -> KeyboardUpdate:
        return self._update()

    def pick(self, index: int) -> Hit:
        """The result the resident tapped (IndexError if the list changed under the tap)."""
        return self._update().results[index]

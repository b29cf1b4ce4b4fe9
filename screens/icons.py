"""Icons: a vendored subset of Material Design Icons (Pictogrammers, Apache 2.0; see
``screens/assets/icons/LICENSE``), drawn as a font so they take the theme's colour and size.

``screens/assets/icons/icons.json`` maps our names (``queue``, ``progress``…) to the MDI icon
and its code point; ``mdi-subset.ttf`` holds just those glyphs (made with fontTools'
``pyftsubset`` from ``@mdi/font`` 7.4.47, see docs/screens.md). :class:`Icon` is a label in
that font: ``Icon: name: 'queue'`` in ``.kv``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from kivy.properties import StringProperty

from screens.widgets import KInline

ASSETS = Path(__file__).parent / "assets" / "icons"
FONT_FILE = ASSETS / "mdi-subset.ttf"
FONT_NAME = "KioskIcons"


@cache
def icon_table() -> dict[str, str]:
    """Our icon names → the character of the glyph in the icon font."""
    data = json.loads((ASSETS / "icons.json").read_text("utf-8"))
    return {name: chr(int(entry["codepoint"], 16)) for name, entry in data.items()}


def glyph(name: str) -> str:
    """The character of icon ``name``; a KeyError names the known icons."""
    table = icon_table()
    if name not in table:
        raise KeyError(f"no icon {name!r}; known: {', '.join(sorted(table))} "
                       "(add it to screens/assets/icons/icons.json and re-subset the font)")
    return table[name]


def strip_icon_markup(text: str) -> str:
    """``text`` without its ``[font=KioskIcons]…[/font]`` icon spans (for glyph checks)."""
    import re

    return re.sub(r"\[font=" + FONT_NAME + r"\].*?\[/font\]", "", text)


def register_icon_font() -> None:
    from kivy.core.text import LabelBase

    LabelBase.register(FONT_NAME, str(FONT_FILE))


class Icon(KInline):
    """One icon glyph in the theme's colour; ``role`` sets its size like text."""

    name = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("font_name", FONT_NAME)
        super().__init__(**kwargs)

    def on_name(self, *_: object) -> None:
        self.text = glyph(self.name) if self.name else ""

"""The live theme: Kivy properties that every ``.kv`` binds to, switched by elder mode."""

from __future__ import annotations

from kivy.event import EventDispatcher
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty

from screens.palette import ELDER, ELDER_SIZES, NORMAL, NORMAL_SIZES, hex_to_rgba


class Theme(EventDispatcher):
    elder = BooleanProperty(False)

    background = ColorProperty()
    surface = ColorProperty()
    text = ColorProperty()
    muted = ColorProperty()
    primary = ColorProperty()
    primary_text = ColorProperty()
    danger = ColorProperty()
    header = ColorProperty()
    header_text = ColorProperty()

    small = NumericProperty(0)
    body = NumericProperty(0)
    title = NumericProperty(0)
    huge = NumericProperty(0)
    target = NumericProperty(0)
    tile_height = NumericProperty(0)
    padding = NumericProperty(0)
    line_height = NumericProperty(1.3)
    #: bumped after every switch; ``.kv`` passes it to :meth:`size` / :meth:`color` to rebind
    revision = NumericProperty(0)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.apply()

    def on_elder(self, *_: object) -> None:
        self.apply()

    def apply(self) -> None:
        palette, sizes = (ELDER, ELDER_SIZES) if self.elder else (NORMAL, NORMAL_SIZES)
        for name in ("background", "surface", "text", "muted", "primary", "primary_text", "danger",
                     "header", "header_text"):
            setattr(self, name, hex_to_rgba(getattr(palette, name)))
        for name in ("small", "body", "title", "huge"):
            setattr(self, name, sp(getattr(sizes, name)))
        for name in ("target", "tile_height", "padding"):
            setattr(self, name, dp(getattr(sizes, name)))
        self.line_height = sizes.line_height
        self.revision += 1

    def size(self, role: str, _revision: float = 0) -> float:
        """Font size of a text role: small | body | title | huge."""
        return float(getattr(self, role if role in ("small", "body", "title", "huge") else "body"))

    def color(self, tone: str, _revision: float = 0) -> list[float]:
        """Colour of a text tone: text | muted | primary | primary_text | danger | header_text."""
        allowed = ("text", "muted", "primary", "primary_text", "danger", "header_text")
        return list(getattr(self, tone if tone in allowed else "text"))

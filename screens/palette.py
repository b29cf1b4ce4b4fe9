"""Colours and sizes of both display modes, as plain data (checked by tests without a window).

Elder mode (适老化, MIIT 2021 by analogy): main text at least 18 dp, the largest at least 30 dp,
touch targets at least 60×60 dp, contrast at least 4.5:1. Normal mode on a kiosk is already
large; elder mode goes further and switches to a higher-contrast palette.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Palette:
    background: str
    surface: str  # tiles and cards
    text: str
    muted: str  # secondary text
    primary: str  # buttons; text on it is `primary_text`
    primary_text: str
    danger: str  # out-of-service banner; text on it is `primary_text`
    header: str
    header_text: str


@dataclass(frozen=True)
class Sizes:
    small: float  # secondary text (sp)
    body: float  # main text (sp)
    title: float
    huge: float  # the largest text on a screen (numbers, headlines)
    target: float  # minimum touch target edge (dp)
    tile_height: float  # a tile shorter than this shows its compact form
    padding: float
    line_height: float


NORMAL = Palette(background="#F2F5FA", surface="#FFFFFF", text="#1B1F24", muted="#4A5361",
                 primary="#1F5FBF", primary_text="#FFFFFF", danger="#B3261E",
                 header="#1F5FBF", header_text="#FFFFFF")
ELDER = Palette(background="#FFFFFF", surface="#FFF8E1", text="#000000", muted="#2B2B2B",
                primary="#0B3D91", primary_text="#FFFFFF", danger="#8C1D18",
                header="#0B3D91", header_text="#FFFFFF")

NORMAL_SIZES = Sizes(small=18, body=22, title=32, huge=56, target=64, tile_height=240,
                     padding=20, line_height=1.3)
ELDER_SIZES = Sizes(small=24, body=30, title=42, huge=72, target=76, tile_height=320,
                    padding=24, line_height=1.4)

#: (foreground, background) pairs the screens actually draw
TEXT_PAIRS = (("text", "background"), ("text", "surface"), ("muted", "background"),
              ("muted", "surface"), ("primary_text", "primary"), ("primary_text", "danger"),
              ("header_text", "header"), ("primary", "surface"), ("primary", "background"))


def hex_to_rgba(value: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    value = value.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


def relative_luminance(value: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = hex_to_rgba(value)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio, 1..21."""
    a, b = relative_luminance(foreground), relative_luminance(background)
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)

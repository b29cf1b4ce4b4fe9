"""CJK glyphs for thermal printing without Kivy: font lookup, coverage and cell rendering.

Used twice: by the ESC/POS encoder to print characters the printer's own font lacks as a raster
line, and by the interpreter to draw what a printer would print. Both draw text on the printer's
cell grid: Font A is 12×24 dots for an ASCII character and 24×24 for a Chinese one.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

#: (path, index in the collection), best first: Noto Sans CJK SC covers CJK Ext-A (䶮), the
#: rare name characters GB18030 encodes in 4 bytes; WenQuanYi Micro Hei covers GBK.
FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc", 0),
)

CELL_HEIGHT = 24  # dots, Font A
_lock = threading.Lock()


class FontNotFound(RuntimeError):
    """No CJK font on this machine (install fonts-noto-cjk or fonts-wqy-microhei)."""


def is_wide(ch: str) -> bool:
    """Printed in a full-width (24-dot) cell: everything that is not ASCII."""
    return ord(ch) > 0x7F


def cell_width(ch: str, size: int = 1) -> int:
    return (CELL_HEIGHT if is_wide(ch) else CELL_HEIGHT // 2) * size


def text_width(text: str, size: int = 1) -> int:
    return sum(cell_width(ch, size) for ch in text)


def find_fonts(extra: Iterable[str] = ()) -> list[tuple[str, int]]:
    """Installed CJK fonts, best first. ``extra`` paths (``file.ttc`` or ``file.ttc#2``) first."""
    found: list[tuple[str, int]] = []
    candidates: list[tuple[str, int]] = []
    for spec in extra:
        path, _, index = str(spec).partition("#")
        candidates.append((path, int(index or 0)))
    env = os.environ.get("KIOSK_CJK_FONT")
    if env:
        path, _, index = env.partition("#")
        candidates.append((path, int(index or 0)))
    candidates.extend(FONT_CANDIDATES)
    for path, index in candidates:
        if Path(path).is_file() and (path, index) not in found:
            found.append((path, index))
    return found


@functools.lru_cache(maxsize=8)
def _cmap(path: str, index: int) -> frozenset[int] | None:
    """Code points the font maps, or None when fontTools is missing (then trust the font)."""
    try:
        from fontTools.ttLib import TTFont  # imported lazily: only needed for coverage checks
    except ModuleNotFoundError:
        return None
    kwargs = {"fontNumber": index} if path.lower().endswith((".ttc", ".otc")) else {}
    font = TTFont(path, lazy=True, **kwargs)
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


@functools.lru_cache(maxsize=32)
def _truetype(path: str, index: int, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size=px, index=index)


class GlyphSet:
    """Renders characters into printer cells with a chain of fonts (first that has the glyph)."""

    def __init__(self, fonts: Iterable[str] = ()) -> None:
        self.fonts = find_fonts(fonts)
        if not self.fonts:
            raise FontNotFound("no CJK font found: install fonts-noto-cjk or fonts-wqy-microhei")

    def has_glyph(self, ch: str) -> bool:
        """True when some font in the chain has a real glyph (not the "tofu" box) for ``ch``."""
        return self._font_for(ch) is not None

    def _font_for(self, ch: str) -> tuple[str, int] | None:
        code = ord(ch)
        for path, index in self.fonts:
            cmap = _cmap(path, index)
            if cmap is None or code in cmap:
                return path, index
        return None

    def cell(self, ch: str, px: int = CELL_HEIGHT, bold: bool = False) -> Image.Image:
        """One character as a black-on-white ``L`` image of ``px`` × ``px`` (or ``px/2`` wide)."""
        return _render_cell(self, ch, px, bold)

    def line(self, text: str, px: int = CELL_HEIGHT, bold: bool = False,
             height: int | None = None) -> Image.Image:
        """A run of characters side by side; ``height`` pads below (line spacing)."""
        cells = [self.cell(ch, px, bold) for ch in text]
        width = sum(c.width for c in cells)
        out = Image.new("L", (max(1, width), max(px, height or px)), 255)
        x = 0
        for c in cells:
            out.paste(c, (x, 0))
            x += c.width
        return out

    def __hash__(self) -> int:
        return hash(tuple(self.fonts))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GlyphSet) and other.fonts == self.fonts


@functools.lru_cache(maxsize=8192)
def _render_cell(glyphs: GlyphSet, ch: str, px: int, bold: bool) -> Image.Image:
    width = px if is_wide(ch) else px // 2
    cell = Image.new("L", (width, px), 255)
    if ch.isspace() or not ch.isprintable():
        return cell
    source = glyphs._font_for(ch) or glyphs.fonts[0]
    with _lock:  # FreeType objects are not thread-safe
        font = _truetype(source[0], source[1], px)
        canvas = Image.new("L", (px * 2, px), 255)
        ImageDraw.Draw(canvas).text((px, round(px * 0.86)), ch, font=font, fill=0, anchor="ms")
    box = ImageChops.invert(canvas).getbbox()
    if box is None:
        return cell
    x0, _, x1, _ = box
    ink = canvas.crop((x0, 0, x1, px))
    if ink.width > width:
        ink = ink.resize((width, px), Image.Resampling.LANCZOS)
    cell.paste(ink, ((width - ink.width) // 2, 0))
    cell = cell.point(lambda v: 0 if v < 128 else 255)
    if bold:
        shifted = Image.new("L", cell.size, 255)
        shifted.paste(cell.crop((0, 0, width - 1, px)), (1, 0))
        cell = ImageChops.darker(cell, shifted)
    return cell


@functools.lru_cache(maxsize=4)
def default_glyphs() -> GlyphSet:
    return GlyphSet()

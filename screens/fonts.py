"""Finds and registers a CJK font as Kivy's default (Kivy's own Roboto has no Chinese glyphs)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


class FontNotFoundError(RuntimeError):
    pass


def find_cjk_font(configured: str = "") -> Path:
    """The configured font, or the first CJK font installed; a clear error if there is none."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise FontNotFoundError(
                f"ui.font = {configured!r}: no such file. Point it at a TTF/TTC/OTF font with "
                "Chinese glyphs, or leave it empty to use an installed one "
                "(apt-get install fonts-wqy-microhei).")
        return path
    for candidate in CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontNotFoundError(
        "no Chinese font found (looked for " + ", ".join(CANDIDATES) + "). Install one with "
        "'apt-get install fonts-wqy-microhei' (make setup does) or set ui.font.")


def register_default_font(configured: str = "") -> Path:
    from kivy.core.text import DEFAULT_FONT, LabelBase

    path = find_cjk_font(configured)
    LabelBase.register(DEFAULT_FONT, str(path))
    log.info("UI font: %s", path)
    return path


def glyph_coverage(path: Path) -> set[int]:
    """The code points the font file has glyphs for (first face of a collection)."""
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() == ".ttc":
        font = TTCollection(str(path)).fonts[0]
    else:
        font = TTFont(str(path))
    return set(font.getBestCmap())


def missing_glyphs(texts: list[str], coverage: set[int]) -> list[str]:
    """Characters of ``texts`` the font cannot draw: they would show as empty boxes (tofu)."""
    return sorted({ch for text in texts for ch in text
                   if not ch.isspace() and ord(ch) not in coverage})

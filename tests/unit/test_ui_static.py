"""UI facts that need no window: contrast, sizes, translations, font glyphs."""

from __future__ import annotations

import pytest

from kiosk.i18n import LANGUAGES, missing, po_entries, translate, used_msgids
from screens.fonts import find_cjk_font
from screens.palette import (
    ELDER,
    ELDER_SIZES,
    NORMAL,
    NORMAL_SIZES,
    TEXT_PAIRS,
    contrast_ratio,
)


@pytest.mark.parametrize("palette", [NORMAL, ELDER], ids=["normal", "elder"])
@pytest.mark.parametrize(("fg", "bg"), TEXT_PAIRS)
def test_every_text_colour_pair_reaches_4_5_to_1(palette, fg: str, bg: str) -> None:
    ratio = contrast_ratio(getattr(palette, fg), getattr(palette, bg))
    assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f}:1"


def test_contrast_formula_matches_known_values() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)


def test_elder_mode_sizes_meet_the_ageing_friendly_rules() -> None:
    assert ELDER_SIZES.body >= 18 and ELDER_SIZES.small >= 18
    assert ELDER_SIZES.huge >= 30 and ELDER_SIZES.title >= 30
    assert ELDER_SIZES.target >= 60 and NORMAL_SIZES.target >= 60
    assert ELDER_SIZES.line_height >= 1.3
    assert all(getattr(ELDER_SIZES, f) > getattr(NORMAL_SIZES, f)
               for f in ("small", "body", "title", "huge", "target"))


def test_every_ui_text_has_an_english_translation() -> None:
    assert missing("en") == []
    assert translate("取号", "en") == "Take a Number"
    assert translate("取号", "zh_CN") == "取号"


def test_translations_keep_their_placeholders() -> None:
    import re

    entries = po_entries("en")
    for msgid, msgstr in entries.items():
        if msgid and msgstr:
            assert set(re.findall(r"{\w+}", msgid)) == set(re.findall(r"{\w+}", msgstr)), msgid


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="available: zh_CN, en"):
        translate("取号", "fr")
    assert "en" in LANGUAGES


def test_the_cjk_font_has_a_glyph_for_every_character_of_every_text() -> None:
    from fontTools.ttLib import TTCollection, TTFont

    path = find_cjk_font()
    fonts = TTCollection(str(path)).fonts if path.suffix == ".ttc" else [TTFont(str(path))]
    cmap = fonts[0].getBestCmap()
    texts = set(used_msgids())
    texts |= {translate(t, "en") for t in texts}
    texts |= {"●", "3701**********0032", "李*", "0123456789:·（）“”，。？"}
    missing_chars = sorted({ch for text in texts for ch in text if ord(ch) not in cmap
                            and not ch.isspace()})
    assert missing_chars == [], f"{path.name} has no glyph for {missing_chars}"


def test_a_configured_font_that_does_not_exist_is_a_clear_error(tmp_path) -> None:
    from screens.fonts import FontNotFoundError

    with pytest.raises(FontNotFoundError, match=r"ui\.font"):
        find_cjk_font(str(tmp_path / "nope.ttf"))

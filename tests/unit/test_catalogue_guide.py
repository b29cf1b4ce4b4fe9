"""The printed checklist, the search keyboard, the [catalogue] settings and the notice."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.catalogue import CatalogueSettings
from drivers.printer.document import QrCode, Text
from drivers.printer.encoder import EncoderOptions, EscposEncoder
from drivers.printer.interpreter import render_job
from kiosk.catalogue.bundle import DEMO_PUBLIC_KEY, EMBEDDED_BUNDLE, trust, verify_bundle
from kiosk.catalogue.keyboard import (
    BACKSPACE,
    CLEAR,
    SWITCH,
    KeyboardState,
    Mode,
    SearchKeyboard,
    layout,
)
from kiosk.catalogue.notice import notice_payload, parse_notice
from kiosk.catalogue.printing import ASK_AT_WINDOW, SAMPLE_MARK, guide_document, guide_slip
from kiosk.catalogue.view import CatalogueView, OfferFilter


@pytest.fixture(scope="module")
def view() -> CatalogueView:
    bundle = verify_bundle(EMBEDDED_BUNDLE.read_bytes(), trust([DEMO_PUBLIC_KEY]))
    return CatalogueView.build(bundle.catalogue)


def texts(doc) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(block.text for block in doc.blocks if isinstance(block, Text))


# -- printing --------------------------------------------------------------------------------------
def test_guide_checklist_document(view: CatalogueView) -> None:
    item = view.get("ZJ-019")
    assert item is not None and item.guide is not None
    doc = guide_document(item, sample_data=view.sample_data, printed_at=datetime(2025, 3, 18, 9))
    text = texts(doc)
    assert f"80周岁以上长寿老年人高龄津贴{SAMPLE_MARK}" in text
    assert "□ 1. 老人的居民身份证" in text and "原件 1 份；可用电子证照代替" in text
    assert "（特定情形提供）原件 1 份；家属代办时提供" in text
    assert "法定 15 个工作日，承诺 5 个工作日" in text and "不收费" in text
    assert "镇便民服务中心 一楼 社会救助窗口" in text
    assert "年满 80 周岁" in text
    assert [b.data for b in doc.blocks if isinstance(b, QrCode)] == [item.online_url]
    assert doc.title == "办事指南"


def test_guide_checklist_prints_on_a_real_escpos_encoder(view: CatalogueView) -> None:
    """Encode to ESC/POS bytes (GB18030) and read them back with the interpreter."""
    item = view.get("SQ-001")
    assert item is not None
    data = EscposEncoder(EncoderOptions()).encode(guide_document(item, sample_data=True))
    rendering = render_job(data)
    assert rendering.qr_codes == [item.online_url]
    assert rendering.cuts == 1 and not rendering.missing_glyphs
    assert "最低生活保障申请" in rendering.text
    assert "低保申请书" in rendering.text


def test_item_without_guide_sends_people_to_the_window(view: CatalogueView) -> None:
    item = view.get("ZJ-023")
    assert item is not None and item.guide is None
    slip = guide_slip(item)
    assert (slip.time_limit, slip.fees) == (ASK_AT_WINDOW, ASK_AT_WINDOW)
    assert slip.materials == () and slip.location.startswith("镇便民服务中心")
    assert SAMPLE_MARK not in slip.item_name


# -- keyboard --------------------------------------------------------------------------------------
def test_initials_on_the_keyboard_find_the_item(view: CatalogueView) -> None:
    keyboard = SearchKeyboard(view)
    update = keyboard.refresh()
    assert update.results == () and "d" in update.enabled
    for key in "dbs":
        update = keyboard.press(key)
    assert update.display == "D B S"
    assert update.enabled == {"q", "h"}  # 低保申(请) / 低保审(核)
    update = keyboard.press("q")
    assert update.results[0].item.code == "SQ-001"
    assert keyboard.pick(0).item.name == "最低生活保障申请"
    update = keyboard.press(BACKSPACE)
    assert update.text == "dbs"
    assert keyboard.press(CLEAR).text == ""


def test_keyboard_modes_and_bad_keys() -> None:
    state = KeyboardState()
    assert state.press("1") == state  # no digits in pinyin mode
    state = state.press(SWITCH)
    assert state.mode is Mode.DIGITS and state.press("8").press("0").text == "80"
    assert state.press("q") == state and state.press("nonsense") == state
    long = KeyboardState(text="a" * 20)
    assert long.press("b").text == "a" * 20
    letters = {key.id for row in layout(Mode.PINYIN) for key in row if key.kind == "char"}
    assert letters == set("abcdefghijklmnopqrstuvwxyz")
    assert all(key.width >= 1 for mode in Mode for row in layout(mode) for key in row)


def test_digits_mode_finds_by_number(view: CatalogueView) -> None:
    keyboard = SearchKeyboard(view)
    keyboard.press(SWITCH)
    keyboard.press("8")
    update = keyboard.press("0")
    assert {hit.item.code for hit in update.results[:2]} == {"ZJ-019", "SQ-018"}
    assert "0" in update.enabled


# -- settings --------------------------------------------------------------------------------------
def test_settings_defaults_and_offer_filter(tmp_path: Path) -> None:
    settings = CatalogueSettings()
    assert settings.url == "" and settings.uses_demo_key
    assert settings.cache_path(tmp_path) == tmp_path / "catalogue"
    custom = CatalogueSettings(levels=["village"], exclude_codes=["CJ-001"], cache_dir="~/c")
    offer = OfferFilter.from_settings(custom)
    assert offer.levels == {"village"} and "CJ-001" in offer.exclude_codes
    assert not custom.cache_dir.startswith("~")


@pytest.mark.parametrize(("values", "words"), [
    ({"url": "ftp://x/b"}, "http:// or https://"),
    ({"public_keys": []}, "at least one public key"),
    ({"public_keys": ["ed25519:abc"]}, "public key"),
    ({"levels": []}, "at least one level"),
    ({"levels": ["province"]}, "district"),
    ({"exclude_codes": ["a b"]}, "not item codes"),
    ({"poll_interval_s": 5}, "greater than or equal to 60"),
    ({"colour": "red"}, "Extra inputs"),
])
def test_bad_settings_are_explained(values: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        CatalogueSettings(**values)


def test_settings_fields_are_documented() -> None:
    for name, field in CatalogueSettings.model_fields.items():
        assert field.description, name


# -- notice ----------------------------------------------------------------------------------------
def test_bad_notices_are_explained() -> None:
    for payload, words in ((b"\xff", "UTF-8"), (b"[1]", "object"),
                           (b'{"serial": "7"}', "positive integer"),
                           (b'{"serial": 0}', "positive integer"),
                           (b'{"serial": 5, "version": 5}', "not text")):
        with pytest.raises(ValueError, match=words):
            parse_notice(payload)
    notice = parse_notice(notice_payload("2025.04.01-1", 2025040101))
    assert (notice.version, notice.serial) == ("2025.04.01-1", 2025040101)

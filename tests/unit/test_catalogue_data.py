"""The sample catalogue: all 93 annex items, the guides, and the embedded bundle is current."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kiosk.catalogue.bundle import (
    DEMO_PRIVATE_KEY_FILE,
    DEMO_PUBLIC_KEY,
    EMBEDDED_BUNDLE,
    key_id,
    load_private_key,
    public_key_text,
    sign_bundle,
    trust,
    verify_bundle,
)
from kiosk.catalogue.model import Catalogue
from kiosk.catalogue.source import SOURCE_DIR, SourceError, load_source

#: the three annexes of seed document 003, kept beside the tests (a fresh clone has them)
SEED = Path(__file__).parent / "data" / "seed_003_annexes.txt"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_source()


def annex_names() -> dict[str, list[str]]:
    """Item names per annex, read from the seed document itself."""
    text = SEED.read_text("utf-8")
    parts = re.split(r"附件([123])\s*\n", text)
    annexes: dict[str, list[str]] = {}
    for number, body in zip(parts[1::2], parts[2::2], strict=True):
        names = re.findall(r"\t\d+\n\t公共服务\n\t(.+)", body)
        annexes[number] = [name.strip() for name in names]
    return annexes


def test_all_93_items_of_the_three_annexes(catalogue: Catalogue) -> None:
    levels = [item.level for item in catalogue.items]
    assert (levels.count("town"), levels.count("community"), levels.count("village")) == (
        58, 28, 7)
    assert len({item.code for item in catalogue.items}) == 93


def test_names_are_the_annex_names(catalogue: Catalogue) -> None:
    annexes = annex_names()
    assert [len(annexes[n]) for n in "123"] == [58, 28, 7]
    prefix = {"1": "ZJ", "2": "SQ", "3": "CJ"}
    corrected = {"SQ-011", "SQ-018", "ZJ-044"}  # typo, stray space, ASCII brackets (items.toml)
    for number, names in annexes.items():
        for position, name in enumerate(names, 1):
            code = f"{prefix[number]}-{position:03d}"
            item = catalogue.get(code)
            assert item is not None, code
            if code in corrected:
                assert item.name != name and len(item.name) >= len(name) - 1
            else:
                assert item.name == name, code


def test_at_least_15_full_guides_marked_as_sample(catalogue: Catalogue) -> None:
    guided = [item for item in catalogue.items if item.guide is not None]
    assert len(guided) >= 15
    assert catalogue.sample_data and "示例" in catalogue.notice
    for item in guided:
        guide = item.guide
        assert guide is not None and guide.sample, item.code
        assert guide.summary and guide.conditions and guide.materials and guide.steps, item.code
        assert guide.time_limit.legal_days is not None, item.code
        assert guide.result, item.code
        assert any(m.e_certificate for m in guide.materials) or item.code == "ZJ-013"


def test_every_item_has_the_service_elements(catalogue: Catalogue) -> None:
    events = {event.id for event in catalogue.life_events}
    for item in catalogue.items:
        assert item.department.startswith("区") and item.implementing_body, item.code
        assert item.basis and all(b.startswith("《") for b in item.basis), item.code
        assert item.categories and item.life_events, item.code
        assert set(item.life_events) <= events
        assert item.where is not None and item.where.place, item.code
        assert item.online_url.endswith(item.code)
        assert 0 <= item.popularity <= 100
        if item.level == "village":
            assert item.queue_category == "", "village stations have no queue system"
    assert catalogue.get("ZJ-058").queue_category == ""  # publicity, no window


def test_embedded_bundle_is_built_from_the_current_sources(catalogue: Catalogue) -> None:
    """Fails when a source file changed without `kiosk catalogue build`."""
    raw = EMBEDDED_BUNDLE.read_bytes()
    bundle = verify_bundle(raw, trust([DEMO_PUBLIC_KEY]))
    assert bundle.catalogue == catalogue, "run `python -m kiosk.catalogue build`"
    assert raw == sign_bundle(catalogue, load_private_key(DEMO_PRIVATE_KEY_FILE))


def test_demo_key_pair_matches() -> None:
    key = load_private_key(DEMO_PRIVATE_KEY_FILE)
    assert public_key_text(key) == DEMO_PUBLIC_KEY
    assert key_id(key) == key_id(DEMO_PUBLIC_KEY)


def test_source_errors_name_the_file_item_and_key(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    shutil.copytree(SOURCE_DIR, folder)
    items = folder / "items.toml"
    original = items.read_text("utf-8")
    items.write_text(original.replace('dept = "mz"', 'dept = "mzz"', 1), "utf-8")
    with pytest.raises(SourceError, match=r"ZJ-001: dept = 'mzz' is not one of"):
        load_source(folder)
    items.write_text(original.replace('popularity = 60', 'popularity = 600', 1), "utf-8")
    with pytest.raises(SourceError, match=r"items\.ZJ-001\.popularity"):
        load_source(folder)
    items.write_text(original.replace('code = "ZJ-002"', 'code = "ZJ-001"', 1), "utf-8")
    with pytest.raises(SourceError, match="ZJ-001 appears twice"):
        load_source(folder)
    items.write_text(original + "\n[[items]\n", "utf-8")
    with pytest.raises(SourceError, match=r"items\.toml"):
        load_source(folder)
    items.write_text(original, "utf-8")
    (folder / "guides.toml").write_text('["XX-999"]\nsummary = "x"\n', "utf-8")
    with pytest.raises(SourceError, match="XX-999"):
        load_source(folder)


def test_overrides_stamp_a_new_version(catalogue: Catalogue) -> None:
    newer = load_source(version="2025.04.01-1", serial=2025040101)
    assert (newer.version, newer.serial) == ("2025.04.01-1", 2025040101)
    assert newer.items == catalogue.items

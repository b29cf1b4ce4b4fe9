"""docs/config.md is generated from the schema and must not go stale."""

from __future__ import annotations

from pathlib import Path

from config.docs import render_markdown
from config.loader import available_profiles
from config.schema import KioskConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def test_docs_config_md_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/config.md is stale: run `python -m config.docs > docs/config.md`")


def test_docs_name_every_section_key_and_profile() -> None:
    text = render_markdown()
    for section, field in KioskConfig.model_fields.items():
        if section == "profile":
            continue
        assert f"## [{section}" in text
        model = field.annotation
        for child, child_field in model.model_fields.items():  # type: ignore[union-attr]
            nested = getattr(child_field.annotation, "model_fields", None)
            if nested:  # devices.<kind>, backends.<name>
                assert f"`[{section}.{child}]`" in text
                assert all(f"| `{key}` |" in text for key in nested)
            else:
                assert f"| `{child}` |" in text
    for profile in available_profiles():
        assert f"| `{profile}` |" in text
    assert "KIOSK_<SECTION>__<KEY>" in text

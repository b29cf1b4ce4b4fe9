"""Read the catalogue's editable sources (TOML) into a :class:`Catalogue`.

The sources (``data/source/`` for the embedded sample) are three files: ``catalogue.toml``
(version, life events, synonyms, departments, laws, per-level defaults), ``items.toml`` (one
``[[items]]`` table per item) and ``guides.toml`` (guides keyed by item code). Short keys keep
them readable: an item names its department by key (``dept = "mz"``) and gets the
department's name, window, queue category and default legal basis, and the level's
implementing body and place. Errors name the file, the item and the key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kiosk.catalogue.model import SCHEMA_ID, Catalogue

SOURCE_DIR = Path(__file__).resolve().parent / "data" / "source"
SOURCE_FILES = ("catalogue.toml", "items.toml", "guides.toml")

_ITEM_KEYS = {"code", "name", "level", "dept", "categories", "life_events", "keywords",
              "popularity", "basis", "queue", "window", "targets", "type"}


class SourceError(ValueError):
    """The sources cannot make a catalogue; the message names the file and key."""


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except FileNotFoundError:
        raise SourceError(f"{path} is missing (a catalogue source needs "
                          f"{', '.join(SOURCE_FILES)})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path}: {exc}") from None


def _item(raw: dict[str, Any], meta: dict[str, Any], guides: dict[str, Any]) -> dict[str, Any]:
    code = raw.get("code", "?")
    unknown = set(raw) - _ITEM_KEYS
    if unknown:
        raise SourceError(f"items.toml item {code}: unknown keys {sorted(unknown)} (allowed: "
                          f"{', '.join(sorted(_ITEM_KEYS))})")
    departments = meta.get("departments", {})
    dept = departments.get(raw.get("dept", ""))
    if dept is None:
        raise SourceError(f"items.toml item {code}: dept = {raw.get('dept')!r} is not one of "
                          f"[departments]: {', '.join(sorted(departments))}")
    level = meta.get("levels", {}).get(raw.get("level", ""))
    if level is None:
        raise SourceError(f"items.toml item {code}: level = {raw.get('level')!r} has no "
                          "[levels.<level>] table in catalogue.toml")
    laws = meta.get("laws", {})
    basis_keys = raw.get("basis", dept.get("basis", []))
    missing = [key for key in basis_keys if key not in laws]
    if missing:
        raise SourceError(f"items.toml item {code}: basis {missing} not in [laws]")
    department = dept["name"]
    queue = raw.get("queue", level.get("queue", dept.get("queue", "")))
    where = {
        "place": level["place"],
        "floor": level.get("floor", ""),
        "window": raw.get("window", level.get("window", dept.get("window", ""))),
        "hours": level.get("hours", ""),
    }
    item = {
        "code": code,
        "name": raw.get("name", ""),
        "type": raw.get("type", "公共服务"),
        "department": department,
        "implementing_body": level["implementing_body"].format(department=department),
        "basis": [laws[key] for key in basis_keys],
        "targets": raw.get("targets", ["person"]),
        "level": raw["level"],
        "life_events": raw.get("life_events", []),
        "categories": raw.get("categories", []),
        "queue_category": queue,
        "keywords": raw.get("keywords", []),
        "popularity": raw.get("popularity", 0),
        "where": where,
        "online_url": meta["meta"].get("online_url", "").format(code=code),
        "source": level.get("source", ""),
    }
    if code in guides:
        item["guide"] = {"sample": meta["meta"].get("sample_data", False), **guides[code]}
    return item


def load_source(folder: str | Path = SOURCE_DIR, **overrides: Any) -> Catalogue:
    """Build the catalogue from the TOML sources in ``folder``.

    ``overrides`` replace top-level catalogue fields (``version``, ``serial``, ...), which is
    how a publisher stamps a new version without editing the files.
    """
    folder = Path(folder)
    meta = _read(folder / "catalogue.toml")
    items = _read(folder / "items.toml").get("items", [])
    guides = _read(folder / "guides.toml")
    codes = {raw.get("code") for raw in items}
    orphans = sorted(set(guides) - codes)
    if orphans:
        raise SourceError(f"guides.toml has guides for unknown item codes {orphans}")
    head = meta.get("meta", {})
    data = {
        "schema": SCHEMA_ID,
        "version": head.get("version"),
        "serial": head.get("serial"),
        "published_at": head.get("published_at"),
        "publisher": head.get("publisher"),
        "sample_data": head.get("sample_data", False),
        "notice": head.get("notice", ""),
        "life_events": meta.get("life_events", []),
        "synonyms": meta.get("search", {}).get("synonyms", []),
        "hot_terms": meta.get("search", {}).get("hot_terms", []),
        "items": [_item(raw, meta, guides) for raw in items],
        **overrides,
    }
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:8]:
            loc = list(error["loc"])
            if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
                loc[1] = f"{data['items'][loc[1]]['code']}"
            problems.append(".".join(str(p) for p in loc) + ": " + error["msg"])
        raise SourceError(f"catalogue sources in {folder} are invalid:\n  "
                          + "\n  ".join(problems)) from None

"""Console texts: Chinese is the source language, English lives in ``en.json``.

Templates call ``t("告警")``; the language comes from the ``lang`` cookie (``zh`` by default).
A text missing from ``en.json`` shows in Chinese and is listed by ``missing()`` so that a test
can fail on it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("zh", "en")
DEFAULT_LANG = "zh"
_HERE = Path(__file__).parent
_missing: set[str] = set()


@cache
def catalogue(lang: str) -> dict[str, str]:
    if lang == DEFAULT_LANG:
        return {}
    return json.loads((_HERE / f"{lang}.json").read_text(encoding="utf-8"))


def translate(text: str, lang: str, **values: object) -> str:
    """``text`` in ``lang``, with ``{name}`` fields filled from ``values``."""
    out = text
    if lang != DEFAULT_LANG:
        table = catalogue(lang)
        if text in table:
            out = table[text]
        else:
            _missing.add(text)
    return out.format(**values) if values else out


def missing() -> set[str]:
    return set(_missing)


def pick(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANG

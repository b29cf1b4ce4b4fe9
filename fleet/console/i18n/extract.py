"""List every Chinese text the console shows: ``t("…")`` in templates and the label tables.

    python -m fleet.console.i18n.extract     # prints the msgids missing from en.json
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONSOLE = HERE.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
CALL = re.compile(r"""\bt\(\s*(["'])(.+?)\1""")
LITERAL = re.compile(r"""(["'])((?:(?!\1).)*[\u4e00-\u9fff](?:(?!\1).)*)\1""")
FLASH = re.compile(r"""(?:quote|_q)\('([^']+)'\)""")
PROSE = re.compile(r"[A-Za-z]{3,}[ ,]+[A-Za-z]{2,}")


def msgids() -> set[str]:
    found: set[str] = set()
    for path in (CONSOLE / "templates").glob("*.html"):
        text = path.read_text(encoding="utf-8")
        found.update(m.group(2) for m in CALL.finditer(text))
        # tuples of (value, label) in templates, e.g. [("open", "未清除"), ...]
        for line in text.splitlines():
            if "{% for" in line or "{%for" in line:
                found.update(m.group(2) for m in LITERAL.finditer(line))
    for path in [CONSOLE / "words.py", CONSOLE / "web.py", *(CONSOLE / "routes").glob("*.py"),
                 CONSOLE / "backend.py"]:
        text = path.read_text(encoding="utf-8")
        found.update(m.group(1) for m in FLASH.finditer(text))
        for m in LITERAL.finditer(text):
            value = m.group(2)
            if CJK.search(value) and not PROSE.search(value) and "quote(" not in value \
                    and "_q(" not in value:
                found.add(value)
    from fleet.console.words import DISTRICTS, PREFECTURES
    from fleet.services.cases import LABELS as CASE_LABELS

    found.update(CASE_LABELS.values())
    found -= set(DISTRICTS.values()) | set(PREFECTURES.values())  # names: shown as they are
    return {m for m in found if CJK.search(m)}


def missing(lang: str = "en") -> list[str]:
    table = json.loads((HERE / f"{lang}.json").read_text(encoding="utf-8"))
    return sorted(m for m in msgids() if m not in table)


if __name__ == "__main__":
    for m in missing():
        print(m)

"""TOML helpers the standard library lacks: where each key is written, and a small writer.

``key_lines`` is a best-effort scan (tables, arrays of tables, dotted and quoted keys,
multi-line arrays and strings) used only to point error messages at a line; ``tomllib`` stays
the parser. ``dumps`` writes the subset of TOML that config uses and reads back with tomllib.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

Path_ = tuple[str | int, ...]

_KEY_TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|\'[^\']*\'|[A-Za-z0-9_-]+)\s*(\.|$)')
_STRINGS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\]|\\.)*"|\'[^\']*\'')
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def split_key(text: str) -> tuple[str, ...] | None:
    """``a."b.c".d`` → ``("a", "b.c", "d")``; None if it is not a TOML key."""
    parts: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _KEY_TOKEN.match(text, pos)
        if not match:
            return None
        token = match.group(1)
        if token.startswith('"'):
            token = json.loads(token)
        elif token.startswith("'"):
            token = token[1:-1]
        parts.append(token)
        pos = match.end()
        if match.group(2) == "" and pos < len(text):
            return None
    return tuple(parts) or None


def _code(text: str) -> str:
    """A line with its string literals blanked and its comment cut off."""
    return _STRINGS.sub('""', text).split("#", 1)[0]


def _split_assignment(line: str) -> tuple[str, str] | None:
    in_quote = ""
    for i, char in enumerate(line):
        if in_quote:
            if char == in_quote:
                in_quote = ""
        elif char in "\"'":
            in_quote = char
        elif char == "=":
            return line[:i], line[i + 1:]
    return None


def key_lines(text: str) -> dict[Path_, int]:
    """Map every key path written in ``text`` to its 1-based line number.

    Array-of-table entries get their index: ``[[terminal.opening_hours]]`` twice gives
    ``("terminal", "opening_hours", 0)`` and ``(..., 1)``.
    """
    lines: dict[Path_, int] = {}
    table: Path_ = ()
    aot_count: dict[Path_, int] = {}
    depth = 0  # open brackets of a multi-line array / inline table
    closing = ""  # closing quotes of a multi-line string
    for number, raw in enumerate(text.splitlines(), start=1):
        if closing:
            if closing in raw:
                closing = ""
                depth += _balance(raw.split(closing, 1)[-1]) if depth else 0
            continue
        if depth:
            depth = max(0, depth + _balance(raw))
            continue
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[["):
            key = split_key(_code(stripped).strip().removeprefix("[[").removesuffix("]]"))
            if key:
                index = aot_count.get(key, -1) + 1
                aot_count[key] = index
                table = (*key, index)
                lines.setdefault(key, number)
                lines[table] = number
            continue
        if stripped.startswith("["):
            key = split_key(_code(stripped).strip().removeprefix("[").removesuffix("]"))
            if key:
                table = key
                lines.setdefault(table, number)
            continue
        assignment = _split_assignment(stripped)
        if not assignment:
            continue
        key = split_key(assignment[0])
        if key:
            lines[(*table, *key)] = number
        value = assignment[1]
        for quotes in ('"""', "'''"):
            if value.count(quotes) % 2 == 1:
                closing = quotes
                break
        if not closing:
            depth = max(0, _balance(value))
    return lines


def _balance(text: str) -> int:
    code = _code(text)
    return code.count("[") + code.count("{") - code.count("]") - code.count("}")


# -- writing -------------------------------------------------------------------------------------
def format_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def format_value(value: Any) -> str:
    """One TOML value (inline form)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, PurePath):
        value = str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        items = ", ".join(f"{format_key(str(k))} = {format_value(v)}" for k, v in value.items())
        return "{" + (f" {items} " if items else "") + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if value is None:
        return '""'
    return json.dumps(str(value), ensure_ascii=False)


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def dumps(data: Mapping[str, Any], comments: Mapping[Path_, str] | None = None) -> str:
    """Write nested mappings as TOML: sections as ``[a.b]``, lists of tables as ``[[a.b]]``.

    ``comments`` maps a key path to a trailing comment (e.g. where the value came from).
    """
    comments = comments or {}
    out: list[str] = []
    _write_table(out, (), data, comments)
    return "\n".join(out).strip() + "\n"


def _inline(key: str, value: Any) -> bool:
    """Driver ``options`` tables are written inline, next to the keys of their device."""
    return key == "options" and isinstance(value, Mapping)


def _write_table(out: list[str], path: Path_, data: Mapping[str, Any],
                 comments: Mapping[Path_, str]) -> None:
    scalars = [(k, v) for k, v in data.items()
               if _inline(k, v) or not (isinstance(v, Mapping) or _is_table_list(v))]
    for key, value in scalars:
        line = f"{format_key(key)} = {format_value(value)}"
        note = comments.get((*path, key))
        out.append(f"{line}  # {note}" if note else line)
    for key, value in data.items():
        child = (*path, key)
        header = ".".join(format_key(str(p)) for p in child)
        if isinstance(value, Mapping) and not _inline(key, value):
            if not value or any(_inline(k, v) or not isinstance(v, Mapping)
                                for k, v in value.items()):
                out.extend(["", f"[{header}]"])
            _write_table(out, child, value, comments)
        elif _is_table_list(value):
            for index, item in enumerate(value):
                out.extend(["", f"[[{header}]]"])
                _write_table(out, (*child, index), item, comments)

"""Config problems in words a technician can act on, one line each.

Every line names where the value was written (file and line, or environment variable), the
dotted key, the offending value and what is allowed, e.g.::

    config file /etc/aishandong-kiosk/site.toml line 12: ui.idle_timeout_s = 5: out of range
    (allowed: a whole number from 10 to 600)
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from config import introspect
from config.introspect import KeyPath, dotted, parse_dotted
from config.sources import Source

#: keys whose value is never printed
SECRET_KEYS = frozenset({"pin_hash"})
_NO_VALUE = object()

_REASONS = {
    "greater_than_equal": "out of range",
    "greater_than": "out of range",
    "less_than_equal": "out of range",
    "less_than": "out of range",
    "literal_error": "not one of the choices",
    "string_pattern_mismatch": "wrong format",
    "string_too_short": "too short",
    "string_too_long": "too long",
    "int_parsing": "not a whole number",
    "int_from_float": "not a whole number",
    "int_type": "not a whole number",
    "float_parsing": "not a number",
    "float_type": "not a number",
    "bool_parsing": "not true or false",
    "bool_type": "not true or false",
    "string_type": "not text (put it in quotes)",
    "list_type": "not a list",
    "dict_type": "not a table",
    "model_type": "not a table",
    "model_attributes_type": "not a table",
    "path_type": "not a path",
    "missing": "missing",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration (structured, for tests and the maintenance UI)."""

    source: str
    key: str
    value: Any = None
    allowed: str = ""
    message: str = ""

    def __str__(self) -> str:
        text = f"{self.source}: {self.message}" if self.source else self.message
        return f"{text} (allowed: {self.allowed})" if self.allowed else text


class ConfigError(Exception):
    """The configuration cannot be used; ``str()`` has one line per problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


def show_value(key: str, value: Any) -> str:
    """A value as it would be written in TOML, shortened; secrets hidden."""
    if key.rsplit(".", 1)[-1] in SECRET_KEYS:
        return "<hidden>"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


def key_problem(source: Source | str, key: str, value: Any, reason: str,
                allowed: str = "") -> Problem:
    """A problem with a value: ``key = value: reason``."""
    if value is _NO_VALUE:
        message = f"{key}: {reason}"
    else:
        message = f"{key} = {show_value(key, value)}: {reason}"
    stored = "<hidden>" if key.rsplit(".", 1)[-1] in SECRET_KEYS else value
    return Problem(str(source), key, None if value is _NO_VALUE else stored, allowed, message)


def unknown_key_problem(source: Source | str, path: KeyPath, value: Any) -> Problem:
    key = dotted(path)
    ref = introspect.resolve(path)
    valid = list(ref.owner.model_fields) if ref.owner is not None else []
    parent = dotted(path[:-1])
    close = difflib.get_close_matches(str(path[-1]), valid, n=1, cutoff=0.6)
    hint = ""
    if close:
        hint = f" — did you mean {parent + '.' if parent else ''}{close[0]}?"
    where = f"[{parent}]" if parent else "the top level"
    allowed = f"the keys of {where}: " + ", ".join(valid) if valid else ""
    message = f"unknown key {key} = {show_value(key, value)}{hint}"
    return Problem(str(source), key, value, allowed, message)


def from_validation_error(error: ValidationError,
                          blame: Callable[[KeyPath, Iterable[KeyPath]], Source]) -> ConfigError:
    """Translate pydantic's errors; ``blame(path, related)`` says where a key was written."""
    found = [_translate(item, blame) for item in error.errors(include_url=False)]
    # in the order a technician reads the files: profile, config file, environment; by line
    found.sort(key=lambda pair: (pair[1].rank, pair[1].line or 0))
    return ConfigError(problem for problem, _ in found)


def _translate(item: Any, blame: Callable[[KeyPath, Iterable[KeyPath]], Source],
               ) -> tuple[Problem, Source]:
    path: KeyPath = tuple(item["loc"])
    ctx = item.get("ctx") or {}
    kind = item["type"]
    if kind == "extra_forbidden":
        source = blame(path, ())
        return unknown_key_problem(source, path, item.get("input")), source
    if kind == "kiosk_config":
        related = [parse_dotted(k) for k in str(ctx.get("related", "")).split(",") if k]
        if ctx.get("key"):
            path = parse_dotted(ctx["key"])
        elif ctx.get("subkey"):
            related.append(path)  # a model check: any key of that table may be the culprit
            path = (*path, *parse_dotted(ctx["subkey"]))
        source = blame(path, related)
        return key_problem(source, dotted(path), ctx.get("value"), str(ctx["message"]),
                           str(ctx.get("allowed", ""))), source
    ref = introspect.resolve(path)
    allowed = introspect.allowed_words(ref.field, ref.annotation) if ref.field else ""
    if kind == "value_error":
        reason = str(item["msg"]).removeprefix("Value error, ")
    else:
        reason = _REASONS.get(kind, str(item["msg"]).lower())
    if kind == "literal_error" and not allowed:
        allowed = "one of " + str(ctx.get("expected", "")).replace("'", '"')
    value = item.get("input", _NO_VALUE) if kind != "missing" else _NO_VALUE
    source = blame(path, ())
    return key_problem(source, dotted(path), value, reason, allowed), source

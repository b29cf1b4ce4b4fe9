"""Validation of payloads against the JSON Schemas in ``schemas/`` (needs ``jsonschema``).

    from fleet.schemas import validate
    validate(payload)                 # picks the schema from payload["schema"] and ["v"]
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"
KINDS = ("presence", "birth", "health", "rating", "event", "command", "command_result")


class PayloadInvalid(ValueError):
    """A payload that does not match its schema (message: where and why)."""


def schema_path(kind: str, version: int = 1) -> Path:
    return SCHEMA_DIR / f"kiosk.{kind}.v{version}.json"


@cache
def validator(kind: str, version: int = 1) -> Any:
    from jsonschema import Draft202012Validator

    path = schema_path(kind, version)
    if not path.is_file():
        raise PayloadInvalid(f"no schema for kiosk.{kind} v{version} ({path})")
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors(payload: Any, kind: str | None = None) -> list[str]:
    """Every problem of ``payload`` as "path: message" (empty = valid)."""
    if not isinstance(payload, dict):
        return ["$: a payload is a JSON object"]
    if kind is None:
        name = str(payload.get("schema", ""))
        if not name.startswith("kiosk.") or name[6:] not in KINDS:
            return [f"$.schema: {name!r} is not one of kiosk.{{{', '.join(KINDS)}}}"]
        kind = name[6:]
    version = payload.get("v", 1)
    if not isinstance(version, int):
        return ["$.v: the schema version is an integer"]
    try:
        check = validator(kind, version)
    except PayloadInvalid as exc:
        return [str(exc)]
    return [f"{err.json_path}: {err.message}"
            for err in sorted(check.iter_errors(payload), key=lambda e: e.json_path)]


def validate(payload: Any, kind: str | None = None) -> None:
    problems = errors(payload, kind)
    if problems:
        raise PayloadInvalid("; ".join(problems[:5]))

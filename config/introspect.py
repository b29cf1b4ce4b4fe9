"""Reading the schema: which field a key path names, and its allowed values in words.

Shared by the error messages (:mod:`config.errors`), the environment parser (a ``str`` field
keeps the raw text) and the generated documentation (:mod:`config.docs`).
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from config.schema import KioskConfig

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class FieldRef:
    """What a key path points at: the model that owns the last key, and that key's field.

    ``field`` is None for an unknown key (then ``owner`` lists the valid ones) and for keys
    inside a free-form table (driver ``options``), where ``owner`` is None too.
    """

    owner: type[BaseModel] | None
    name: str | None
    field: FieldInfo | None
    annotation: Any


def dotted(path: KeyPath) -> str:
    """``("terminal", "opening_hours", 0, "close")`` → ``terminal.opening_hours[0].close``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def parse_dotted(text: str) -> KeyPath:
    """Inverse of :func:`dotted`."""
    return tuple(int(index) if index else name
                 for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text))


def is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def resolve(path: KeyPath, root: type[BaseModel] = KioskConfig) -> FieldRef:
    """Follow ``path`` through the schema."""
    annotation: Any = root
    owner: type[BaseModel] | None = None
    name: str | None = None
    field: FieldInfo | None = None
    for part in path:
        origin = typing.get_origin(annotation)
        if isinstance(part, int):
            if origin is list:
                annotation = typing.get_args(annotation)[0]
                continue
            return FieldRef(None, None, None, None)
        if is_model(annotation):
            owner, name = annotation, part
            field = annotation.model_fields.get(part)
            if field is None:
                return FieldRef(owner, name, None, None)
            annotation = field.annotation
        elif origin is dict or annotation is Any:
            return FieldRef(None, part, None, Any)
        else:
            return FieldRef(None, None, None, None)
    return FieldRef(owner, name, field, annotation)


def keeps_text(annotation: Any) -> bool:
    """True for fields whose environment value is taken as raw text (str, paths, choices)."""
    if annotation is str or (isinstance(annotation, type) and issubclass(annotation, PurePath)):
        return True
    if typing.get_origin(annotation) is Literal:
        return all(isinstance(arg, str) for arg in typing.get_args(annotation))
    return False


def _number(value: Any) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def constraints(field: FieldInfo) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in field.metadata:
        for attr in ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern"):
            value = getattr(item, attr, None)
            if value is not None:
                found[attr] = value
    return found


def _choices(annotation: Any) -> str:
    return ", ".join(f'"{arg}"' for arg in typing.get_args(annotation))


def allowed_words(field: FieldInfo | None, annotation: Any = None) -> str:
    """The allowed values of a field in plain words."""
    if field is not None:
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("allowed"):
            return str(extra["allowed"])
        annotation = field.annotation
    found = constraints(field) if field is not None else {}
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "one of " + _choices(annotation)
    if origin is list:
        item = typing.get_args(annotation)[0]
        if typing.get_origin(item) is Literal:
            return "a list of " + _choices(item)
        return "a list"
    if annotation is bool:
        return "true or false"
    if annotation in (int, float):
        kind = "a whole number" if annotation is int else "a number"
        low = found.get("ge", found.get("gt"))
        high = found.get("le", found.get("lt"))
        if low is not None and high is not None:
            return f"{kind} from {_number(low)} to {_number(high)}"
        return kind
    if annotation is str:
        if "max_length" in found:
            least = found.get("min_length", 0)
            return f"text of {least} to {found['max_length']} characters"
        return "text"
    if is_model(annotation):
        return "a table with the keys " + ", ".join(annotation.model_fields)
    return "a value of the documented type"


def type_words(annotation: Any) -> str:
    """Short type name for the documentation table."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "choice"
    if origin is list:
        item = typing.get_args(annotation)[0]
        if is_model(item):
            return "list of tables"
        return "list of choices" if typing.get_origin(item) is Literal else "list of text"
    if origin is dict:
        return "table"
    if isinstance(annotation, type) and issubclass(annotation, PurePath):
        return "path"
    names = {bool: "bool", int: "int", float: "float", str: "text"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))

"""Each backend's own option schema (``devices.<kind>.options``), checked strictly.

A backend class declares ``OPTIONS: ClassVar[OptionSchema]``: option name → :class:`Opt`.
The same schema is used twice: by the driver when it is built, and by ``kiosk config check``
(through :func:`option_problems`) so that a wrong option stops the technician at the check,
not at start-up. Checking is strict on purpose: a boolean is ``true`` or ``false`` (not ``1``
or ``"yes"``), a whole number is not a float, an unknown option is an error (a typo must not be
silently ignored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drivers.base import DeviceError


@dataclass(frozen=True)
class Opt:
    """One option: its accepted Python types, default, and limits."""

    types: tuple[type, ...]
    default: Any = None
    help: str = ""
    choices: tuple[Any, ...] = ()
    min: float | None = None
    max: float | None = None
    nullable: bool = False

    def words(self) -> str:
        """What is allowed, in words (for error messages and docs)."""
        if self.choices:
            text = "one of " + ", ".join(_show(c) for c in self.choices)
        else:
            names = {bool: "true or false", int: "a whole number", float: "a number",
                     str: "text", list: "a list", dict: "a table"}
            kinds = [names.get(t, t.__name__) for t in self.types
                     if not (t is int and float in self.types)]
            text = " or ".join(dict.fromkeys(kinds))
            if self.min is not None and self.max is not None:
                text += f" from {_num(self.min)} to {_num(self.max)}"
            elif self.min is not None:
                text += f" of at least {_num(self.min)}"
        return text + (" (or omitted)" if self.nullable else "")


OptionSchema = Mapping[str, Opt]


class OptionError(DeviceError):
    """A device option is unknown or has a wrong value; ``key`` names it."""

    def __init__(self, message: str, key: str = "", allowed: str = "") -> None:
        super().__init__(message)
        self.key = key
        self.allowed = allowed


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _show(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value).lower() \
        if isinstance(value, bool) else str(value)


def opt(default: Any, help: str = "", **kwargs: Any) -> Opt:
    """An option whose type is read off its default (``float`` also takes whole numbers)."""
    if "types" in kwargs:
        return Opt(kwargs.pop("types"), default, help, **kwargs)
    kind = type(default)
    types: tuple[type, ...] = (float, int) if kind is float else (kind,)
    return Opt(types, default, help, **kwargs)


def schema_from_defaults(defaults: Mapping[str, Any], **overrides: Opt) -> dict[str, Opt]:
    """A schema from a ``DEFAULT_OPTIONS`` table; ``overrides`` refine single entries."""
    schema = {key: opt(value) for key, value in defaults.items() if key not in overrides}
    schema.update(overrides)
    return {key: schema[key] for key in [*defaults, *overrides] if key in schema}


def _type_ok(value: Any, spec: Opt) -> bool:
    if value is None:
        return spec.nullable
    if isinstance(value, bool):
        return bool in spec.types
    return isinstance(value, spec.types)


def problems(options: Mapping[str, Any], schema: OptionSchema) -> list[OptionError]:
    """Every problem with ``options`` (empty when they are fine)."""
    found: list[OptionError] = []
    for key in options:
        if key not in schema:
            known = ", ".join(schema) or "none (this backend takes no options)"
            found.append(OptionError(f"unknown option {key!r}", key, f"the options: {known}"))
    for key, spec in schema.items():
        if key not in options:
            continue
        value = options[key]
        if not _type_ok(value, spec):
            found.append(OptionError(f"option {key} = {value!r} is not {spec.words()}", key,
                                     spec.words()))
            continue
        if value is None:
            continue
        if spec.choices and value not in spec.choices:
            found.append(OptionError(f"option {key} = {value!r} is not {spec.words()}", key,
                                     spec.words()))
        elif isinstance(value, int | float) and not isinstance(value, bool) and (
                (spec.min is not None and value < spec.min)
                or (spec.max is not None and value > spec.max)):
            found.append(OptionError(f"option {key} = {value!r} is out of range", key,
                                     spec.words()))
    return found


def check_options(options: Mapping[str, Any], schema: OptionSchema, who: str) -> dict[str, Any]:
    """The options merged over the schema's defaults; :class:`OptionError` on the first
    problem (its message starts with ``who``, e.g. ``printer/escpos``)."""
    found = problems(options, schema)
    if found:
        first = found[0]
        if first.key not in schema:
            message = f"unknown {who} option {first.key!r}; known: {', '.join(schema)}"
        else:
            message = f"bad {who} option value: {first} (allowed: {first.allowed})"
        raise OptionError(message, first.key, first.allowed)
    merged = {key: spec.default for key, spec in schema.items()}
    merged.update(options)
    return merged


def option_problems(kind: str, type_name: str,
                    options: Mapping[str, Any]) -> list[OptionError]:
    """Problems of one configured device's options, by its backend's own schema and checks.

    Used by the config check. A backend that cannot be imported is reported as a problem too
    (it would fail at start-up the same way).
    """
    from drivers.registry import KINDS, load_backend

    try:
        cls = load_backend(kind, type_name)
    except DeviceError as exc:
        return [OptionError(str(exc), "", "")]
    except ModuleNotFoundError as exc:  # the kind's package itself is not there yet: no schema
        if exc.name and KINDS.get(kind, "").startswith(exc.name):
            return []
        raise
    found = problems(options, cls.OPTIONS)
    if found:
        return found
    try:
        cls.validate_options(options)
    except OptionError as exc:
        return [exc]
    except DeviceError as exc:
        return [OptionError(str(exc), "", "")]
    return []

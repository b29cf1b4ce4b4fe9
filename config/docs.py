"""docs/config.md, generated from the schema so that it never goes stale.

Regenerate with ``python -m config.docs > docs/config.md``; a unit test compares the file with
:func:`render_markdown`.
"""

from __future__ import annotations

import sys
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from config import introspect, tomlutil
from config.loader import ENV_PREFIX, ENV_SEPARATOR, available_profiles, profile_description
from config.schema import KioskConfig, Section

_INTRO = f"""\
# Configuration

<!-- Generated from config/schema.py by `python -m config.docs > docs/config.md`.
     Do not edit by hand: tests/unit/test_config_docs.py fails when this file is stale. -->

A terminal's configuration is assembled from layers; a later layer wins key by key:

1. the built-in defaults below (they make up the demo terminal: an empty file is valid),
2. a **site profile**, `config/profiles/<name>.toml` (`kiosk run --profile hall`),
3. the terminal's own **config file** (`kiosk run --config /etc/aishandong-kiosk/terminal.toml`),
4. **environment variables** `{ENV_PREFIX}<SECTION>{ENV_SEPARATOR}<KEY>`.

Tables are merged key by key; a list or a value replaces the earlier one as a whole.
Unknown keys are errors (with the nearest valid key suggested), never silently ignored.

## Environment variables

`{ENV_PREFIX}` + the dotted key with `.` written as `{ENV_SEPARATOR}`; names are
case-insensitive. The value is read as a TOML literal when it is one (`30`, `true`,
`["guide", "code"]`, `{{ encoding = "gb18030" }}`), otherwise as text; text keys always take
the raw text.

```sh
{ENV_PREFIX}UI{ENV_SEPARATOR}IDLE_TIMEOUT_S=30
{ENV_PREFIX}DEVICES{ENV_SEPARATOR}IDCARD{ENV_SEPARATOR}URL=/dev/ttyUSB0
{ENV_PREFIX}SERVICES{ENV_SEPARATOR}ENABLED='["guide", "code", "rating"]'
{ENV_PREFIX}MQTT{ENV_SEPARATOR}ENABLED=false
```

Variables starting with `{ENV_PREFIX}` without `{ENV_SEPARATOR}` are not config overrides.

## Errors

A bad value stops start-up with one line per problem, naming where it was written (file and
line, or environment variable), the dotted key, the value and what is allowed:

```text
config file /etc/aishandong-kiosk/terminal.toml line 4: ui.idle_timeout_s = 5: out of range \
(allowed: a whole number from 10 to 600)
config file /etc/aishandong-kiosk/terminal.toml line 5: unknown key ui.idle_timout_s = 30 — \
did you mean ui.idle_timeout_s? (allowed: the keys of [ui]: ...)
```

`python -m config check --profile hall --config FILE` validates without starting the kiosk;
`python -m config show ...` (and `kiosk config show`) prints the effective configuration with
the source of every value that is not a default (the PIN hash is masked).

## Maintenance PIN

Config holds only a PBKDF2 hash. Make one for a terminal with `python -m config hash-pin`
(asks for the PIN twice without echo, so it stays out of the shell history) or
`config.pin.hash_pin(pin)`,
and put it in `maintenance.pin_hash` of the terminal's own file. The default is the demo PIN
246810, which must not stay on a terminal in the field.
"""


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(field: FieldInfo) -> str:
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if extra.get("default_doc"):
        return str(extra["default_doc"])
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "(table)"
    return "`" + tomlutil.format_value(value) + "`"


def _table(model: type[BaseModel]) -> list[str]:
    rows = ["| key | type | default | allowed | description |", "| --- | --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        allowed = introspect.allowed_words(field)
        rows.append(f"| `{name}` | {introspect.type_words(field.annotation)} | "
                    f"{_cell(_default(field))} | {_cell(allowed)} | "
                    f"{_cell(field.description or '')} |")
    return rows


def _list_item_model(annotation: Any) -> type[BaseModel] | None:
    if typing.get_origin(annotation) is list:
        item = typing.get_args(annotation)[0]
        if introspect.is_model(item):
            return item
    return None


def _section(name: str, field: FieldInfo) -> list[str]:
    model = field.annotation
    assert introspect.is_model(model)
    children = model.model_fields
    lines: list[str] = []
    if children and all(introspect.is_model(f.annotation) for f in children.values()):
        # a table of same-shaped tables: [devices.idcard], [backends.queue]...
        first = next(iter(children.values())).annotation
        base = [c for c in first.__mro__ if issubclass(c, Section) and c is not Section][-1]
        lines += [f"## [{name}.<name>]", "", _cell(field.description or ""), ""]
        lines += ["| table | what |", "| --- | --- |"]
        lines += [f"| `[{name}.{child}]` | {_cell(f.description or '')} |"
                  for child, f in children.items()]
        lines += ["", f"Each has these keys. {_cell(base.__doc__ or '')}", ""]
        lines += _table(base)
        return [*lines, ""]
    lines += [f"## [{name}]", "", _cell(field.description or ""), ""]
    lines += _table(model)
    for child, child_field in children.items():
        item = _list_item_model(child_field.annotation)
        if item is not None:
            lines += ["", f"### [[{name}.{child}]]", "", _cell(item.__doc__ or ""), ""]
            lines += _table(item)
    return [*lines, ""]


def render_markdown() -> str:
    """The whole of docs/config.md."""
    lines = [_INTRO, "## Profiles", "", "| profile | for |", "| --- | --- |"]
    lines += [f"| `{name}` | {_cell(profile_description(name))} |"
              for name in available_profiles()]
    lines += ["", "`kiosk run --profile <name>`; `config/profiles/<name>.toml` explains each key "
              "it sets.", ""]
    for name, field in KioskConfig.model_fields.items():
        if introspect.is_model(field.annotation):
            lines += _section(name, field)
    lines += ["## Device types", "",
              "`type` of a `[devices.<kind>]` table is one of the backends the kind's package "
              "lists in `BACKENDS` (`drivers/<kind>/__init__.py`); `fake` always exists. An "
              "unknown type is an error that lists the installed ones.", ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    sys.stdout.write(render_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

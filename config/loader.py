"""Assembling a :class:`~config.schema.KioskConfig` from its layers, later wins:

1. the schema defaults (the demo terminal),
2. a site profile, ``config/profiles/<name>.toml``,
3. the terminal's own file (``kiosk run --config FILE``),
4. environment variables ``KIOSK_<SECTION>__<KEY>`` (deeper with more ``__``).

Tables are merged key by key; lists and scalars replace. Every problem in any layer ends up in
one :class:`~config.errors.ConfigError` that names where the value was written.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from config import introspect, tomlutil
from config.errors import ConfigError, Problem, from_validation_error, key_problem
from config.introspect import KeyPath, parse_dotted
from config.schema import KioskConfig
from config.sources import Source, SourceMap

log = logging.getLogger(__name__)

PROFILES_DIR = Path(__file__).resolve().with_name("profiles")
ENV_PREFIX = "KIOSK_"
ENV_SEPARATOR = "__"
_PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")
_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")

_RANK_PROFILE, _RANK_FILE, _RANK_ENV = 1, 2, 3


# -- profiles ------------------------------------------------------------------------------------
def available_profiles() -> list[str]:
    """Names of the site profiles shipped in ``config/profiles``."""
    return sorted(path.stem for path in PROFILES_DIR.glob("*.toml"))


def profile_path(name: str) -> Path:
    """The file of profile ``name``; :class:`ConfigError` listing the profiles if unknown."""
    if _PROFILE_NAME.match(name or "") and (PROFILES_DIR / f"{name}.toml").is_file():
        return PROFILES_DIR / f"{name}.toml"
    names = available_profiles()
    close = difflib.get_close_matches(name or "", names, n=1, cutoff=0.6)
    hint = f" — did you mean {close[0]}?" if close else ""
    allowed = "one of " + ", ".join(names)
    raise ConfigError([Problem("profile option (--profile)", "profile", name, allowed,
                               f"unknown profile {name!r}{hint}")])


def profile_description(name: str) -> str:
    """The first comment line of a profile file (what the profile is for)."""
    for line in profile_path(name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return ""


def _display(path: Path) -> str:
    """A profile path as the technician sees it in the source tree (config/profiles/x.toml)."""
    try:
        return str(path.resolve().relative_to(PROFILES_DIR.parent.parent))
    except ValueError:
        return str(path)


# -- reading layers ------------------------------------------------------------------------------
def _read_toml(path: Path, source: Source) -> tuple[dict[str, Any], dict[KeyPath, int]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(str(source), "", None, "an existing TOML file",
                                   "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(source), "", None, "a readable UTF-8 TOML file",
                                   f"cannot read the file: {exc}")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = int(match.group(1)) if match else None
        reason = _TOML_LINE.sub("", str(exc)).strip()
        raise ConfigError([Problem(
            str(source.at_line(line)), "", None,
            'TOML: key = value, text in "quotes", [section] headers',
            f"TOML syntax error: {reason}" + (f" (column {match.group(2)})" if match else ""),
        )]) from None
    return data, tomlutil.key_lines(text)


def _merge(target: dict[str, Any], layer: Mapping[str, Any], path: KeyPath, sources: SourceMap,
           source: Source, lines: Mapping[KeyPath, int]) -> None:
    if (len(path) == 2 and path[0] == "devices" and "type" in layer
            and layer["type"] != target.get("type")):
        # a layer that changes a device's backend starts its options afresh: the options of
        # the backend it replaces (the demo printer's ``preview``) mean nothing to the new one
        target.pop("options", None)
    for key, value in layer.items():
        child = (*path, key)
        current = target.get(key)
        if isinstance(value, Mapping) and value and isinstance(current, dict):
            _merge(current, value, child, sources, source, lines)
        else:
            target[key] = _copy(value)
            sources.record(child, value, source, lines)


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _check_layer(data: Mapping[str, Any], source: Source,
                 lines: Mapping[KeyPath, int]) -> list[Problem]:
    if "profile" in data:
        return [key_problem(source.at_line(lines.get(("profile",))), "profile", data["profile"],
                            "the profile is chosen with --profile, not in a "
                            "file", "remove this line")]
    return []


def env_value(path: KeyPath, raw: str) -> Any:
    """An environment value: raw text for text fields, else a TOML literal if it parses."""
    ref = introspect.resolve(path)
    if ref.field is not None and introspect.keeps_text(ref.annotation):
        return raw
    try:
        parsed = tomllib.loads(f"value = {raw.strip()}")
    except tomllib.TOMLDecodeError:
        return raw
    return parsed["value"] if list(parsed) == ["value"] else raw


def _env_layer(env: Mapping[str, str]) -> tuple[list[tuple[KeyPath, str, Any]], list[Problem]]:
    entries: list[tuple[KeyPath, str, Any]] = []
    problems: list[Problem] = []
    sections = set(KioskConfig.model_fields)
    for name, raw in env.items():
        if not name.upper().startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX):]
        if ENV_SEPARATOR not in rest:
            head = rest.lower().split("_", 1)[0]
            if head in sections and head != "profile":
                log.warning("ignoring environment variable %s: config overrides are written "
                            "KIOSK_<SECTION>__<KEY> with two underscores", name)
            continue
        parts = rest.lower().split(ENV_SEPARATOR)
        if not all(parts):
            problems.append(Problem(f"environment variable {name}", "", raw,
                                    "KIOSK_<SECTION>__<KEY>[__<KEY>...]",
                                    f"cannot read the variable name {name}"))
            continue
        path = tuple(parts)
        entries.append((path, name, env_value(path, raw)))
    entries.sort(key=lambda entry: (len(entry[0]), entry[1]))
    return entries, problems


def _set_path(target: dict[str, Any], path: KeyPath, value: Any) -> None:
    for key in path[:-1]:
        child = target.get(key)
        if not isinstance(child, dict):
            child = target[key] = {}
        target = child
    target[path[-1]] = _copy(value)


def _strict_booleans(value: Any, path: KeyPath, sources: SourceMap) -> list[Problem]:
    """Booleans are ``true`` or ``false``: pydantic would also take ``1``, ``"yes"`` or
    ``"on"``, which hides mistakes (``enabled = "no"`` would be read as false only by luck)."""
    found: list[Problem] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            found += _strict_booleans(item, (*path, key), sources)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, Mapping):
                found += _strict_booleans(item, (*path, index), sources)
    elif path and not isinstance(value, bool):
        ref = introspect.resolve(path)
        if ref.field is not None and ref.annotation is bool:
            found.append(key_problem(sources.blame(path, ()), introspect.dotted(path), value,
                                     "not true or false (write true or false, no quotes)",
                                     "true or false"))
    return found


# -- the entry point -----------------------------------------------------------------------------
def load_config(profile: str | None = "demo", config_file: Path | str | None = None,
                env: Mapping[str, str] | None = None) -> KioskConfig:
    """Build the configuration from defaults, ``profile``, ``config_file`` and ``env``.

    ``profile=None`` skips the profile layer; ``env=None`` reads ``os.environ`` (pass ``{}``
    to ignore the environment). Raises :class:`ConfigError` listing every problem found.
    """
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    sources = SourceMap()
    problems: list[Problem] = []

    if profile is not None:
        path = profile_path(profile)
        source = Source("profile", profile, _display(path), rank=_RANK_PROFILE)
        layer, lines = _read_toml(path, source)
        problems += _check_layer(layer, source, lines)
        _merge(data, layer, (), sources, source, lines)

    if config_file is not None:
        path = Path(config_file).expanduser()
        source = Source("file", path=str(path), rank=_RANK_FILE)
        layer, lines = _read_toml(path, source)
        problems += _check_layer(layer, source, lines)
        _merge(data, layer, (), sources, source, lines)

    entries, env_problems = _env_layer(env)
    problems += env_problems
    for path, name, value in entries:
        _set_path(data, path, value)
        sources.record(path, value, Source("env", name, rank=_RANK_ENV))

    problems += _strict_booleans(data, (), sources)
    if problems:
        raise ConfigError(problems)
    data.pop("profile", None)
    data["profile"] = profile or ""
    try:
        config = KioskConfig.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, sources.blame) from None
    config._sources = sources.as_dict()
    config._file = str(Path(config_file).expanduser()) if config_file is not None else ""
    if config.maintenance.uses_demo_pin and profile not in (None, "demo"):
        log.warning("maintenance.pin_hash is the demo PIN: set this terminal's own PIN hash")
    return config


# -- showing -------------------------------------------------------------------------------------
def dump_config(config: KioskConfig, with_sources: bool = True) -> str:
    """The effective configuration as TOML for ``kiosk config show`` (PIN hash masked).

    With ``with_sources`` each value not at its default carries a comment saying where it came
    from. The text reads back with ``tomllib`` (except the masked PIN hash).
    """
    data = config.model_dump(mode="json", exclude={"profile"})
    pin = data["maintenance"]["pin_hash"]
    iterations = pin.split("$")[1] if pin.count("$") == 3 else "?"
    demo = ", the demo PIN" if config.maintenance.uses_demo_pin else ""
    data["maintenance"]["pin_hash"] = f"<hidden: pbkdf2_sha256, {iterations} iterations{demo}>"
    comments = {}
    if with_sources:
        comments = {parse_dotted(key): source for key, source in config.sources().items()}
    header = [
        "# 爱山东 kiosk: effective configuration",
        f"# profile: {config.profile or '(none)'}",
        f"# config hash: {config.config_hash()}",
        "",
        "",
    ]
    return "\n".join(header) + tomlutil.dumps(data, comments)

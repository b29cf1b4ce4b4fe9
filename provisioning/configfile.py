"""The terminal's own config file (default ``/etc/kiosk/kiosk.toml``), changed safely.

Every change is merged into the file's current content, checked with the kiosk's own schema
(the same :func:`config.loader.load_config` the kiosk runs) before anything is replaced, written
to a temporary file and renamed over the old one, which is kept as ``<file>.bak``. A change that
does not validate leaves the file as it was and says why.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from config import tomlutil
from config.errors import ConfigError
from config.loader import load_config

DEFAULT_PATH = Path("/etc/kiosk/kiosk.toml")
HEADER = ("# 爱山东 kiosk: this terminal's own settings, over the site profile\n"
          "# (written by kiosk-provision; `kiosk config show` prints the effective config)\n\n")


def _merge(target: dict[str, Any], changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = dict(value) if isinstance(value, Mapping) else value


def read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    return tomllib.loads(path.read_text(encoding="utf-8"))


def update(path: Path, changes: Mapping[str, Any], profile: str | None) -> Path:
    """Merge ``changes`` into ``path`` (created if missing) once the result validates.

    Raises :class:`config.errors.ConfigError` (file untouched) when it does not.
    """
    data = read(path)
    _merge(data, changes)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(HEADER + tomlutil.dumps(data), encoding="utf-8")
    os.chmod(tmp, 0o640)
    try:
        load_config(profile, tmp, env={})
    except ConfigError:
        tmp.unlink()
        raise
    if path.is_file():
        shutil.copy2(path, path.with_name(path.name + ".bak"))
    tmp.replace(path)
    return path

"""Backends chosen by ``type`` in config, imported lazily (the python-can pattern).

Each peripheral package declares ``BACKENDS = {"fake": "drivers.idcard.fake:FakeIdCardReader",
...}``. Importing a backend only happens when config asks for it, so a terminal without
pyscard still runs with a fake social security card reader; asking for a backend whose extra
is not installed fails at start-up with the pip command that fixes it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from drivers.base import Device, DeviceError

#: peripheral kind -> module that holds its ``BACKENDS`` table
KINDS: dict[str, str] = {
    "idcard": "drivers.idcard",
    "smartcard": "drivers.smartcard",
    "printer": "drivers.printer",
    "scanner": "drivers.scanner",
    "camera": "drivers.camera",
    "ratingpad": "drivers.ratingpad",
}

#: which optional extra provides the third-party module a backend needs
EXTRA_FOR_MODULE: dict[str, str] = {
    "serial": "serial",
    "escpos": "printer",
    "smartcard": "smartcard",
    "cv2": "camera",
    "numpy": "camera",
    "paho": "mqtt",
    "PIL": "printer",
}


class BackendError(DeviceError):
    """Config names a backend that does not exist or cannot be loaded."""


def backends(kind: str) -> Mapping[str, str]:
    """The ``type`` → ``"module:Class"`` table of one peripheral kind."""
    if kind not in KINDS:
        raise BackendError(f"unknown device kind {kind!r}; known kinds: {', '.join(KINDS)}")
    module = importlib.import_module(KINDS[kind])
    return module.BACKENDS


def backend_types(kind: str) -> list[str]:
    return sorted(backends(kind))


def load_backend(kind: str, type_name: str) -> type[Device]:
    """Import and return the driver class for ``kind``/``type_name``."""
    table = backends(kind)
    if type_name not in table:
        raise BackendError(
            f"no {kind} backend called {type_name!r}; choose one of: {', '.join(sorted(table))}")
    module_name, _, class_name = table[type_name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        extra = EXTRA_FOR_MODULE.get(missing)
        hint = f"; install it with: pip install 'aishandong-kiosk[{extra}]'" if extra else ""
        raise BackendError(
            f"the {kind} backend {type_name!r} needs the Python module {missing!r}{hint}") from exc
    return getattr(module, class_name)


def open_device(kind: str, type_name: str, url: str = "",
                options: Mapping[str, Any] | None = None) -> Device:
    """Build (but do not start) a device from its config entry."""
    cls = load_backend(kind, type_name)
    return cls(url=url, options=options or {})

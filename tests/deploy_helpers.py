"""A terminal's own config file that makes a site profile fit for the field (tests only)."""

from __future__ import annotations

import base64
from pathlib import Path

from nacl.public import PrivateKey

from config.pin import MIN_ITERATIONS, hash_pin
from kiosk.catalogue.bundle import generate_key, public_key_text

#: the maintenance PIN of :func:`deployable_file`
PIN = "731942"


def deployable_file(folder: Path, extra: str = "") -> Path:
    """``terminal.toml`` with its own PIN, catalogue key and evaluation key (+ ``extra``)."""
    evaluation = base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()
    path = folder / "terminal.toml"
    path.write_text(
        "[terminal]\nid = \"JN-LX-HALL-0042\"\n"
        f"[maintenance]\npin_hash = \"{hash_pin(PIN, iterations=MIN_ITERATIONS)}\"\n"
        f"[catalogue]\npublic_keys = [\"{public_key_text(generate_key())}\"]\n"
        f"[ratings]\nevaluation_public_key = \"{evaluation}\"\n" + extra, encoding="utf-8")
    return path

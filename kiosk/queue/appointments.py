"""Appointments booked elsewhere: reading import files and keying ID numbers.

Imports come as JSON (a list of objects, or ``{"appointments": [...]}``) or CSV with the header
``ref,category,start,id_number,name,code``. The engine never stores an ID number or a name:
it keeps ``HMAC-SHA256(key, ID number)`` to find the booking when the card is read, and the
masked name for the ticket. The key lives in its own file (mode 600), not in the database, so
a copied database alone does not let anyone test ID numbers against it.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import secrets
from pathlib import Path
from typing import Any

from kiosk.queue.models import AppointmentIn

KEY_BYTES = 32
CSV_FIELDS = ("ref", "category", "start", "id_number", "name", "code")


def load_key(path: Path | str) -> bytes:
    """The hashing key at ``path``, created (mode 600) on first use."""
    path = Path(path)
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # created by another process in the meantime
            key = path.read_bytes()
        else:
            key = secrets.token_bytes(KEY_BYTES)
            with os.fdopen(fd, "wb") as handle:
                handle.write(key)
                handle.flush()
                os.fsync(handle.fileno())
    if len(key) < 16:
        raise ValueError(f"appointment key file {path} is too short ({len(key)} bytes): delete "
                         "it only if no appointments are imported yet, or restore it")
    return key


def hash_id(key: bytes, id_number: str) -> str:
    """Keyed hash of a normalised ID number (spaces dropped, x → X); "" for none."""
    normal = "".join(id_number.split()).upper()
    if not normal:
        return ""
    return hmac.new(key, normal.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_file(path: Path | str) -> list[AppointmentIn]:
    """Read a JSON or CSV import file; ``ValueError`` names the file, row and problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_text(text, str(path), json_format=path.suffix.lower() == ".json")


def parse_text(text: str, name: str = "input", *, json_format: bool | None = None
               ) -> list[AppointmentIn]:
    if json_format is None:
        json_format = text.lstrip().startswith(("[", "{"))
    rows: list[dict[str, Any]]
    if json_format:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{name}: not valid JSON ({exc})") from None
        if isinstance(data, dict):
            data = data.get("appointments")
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ValueError(f"{name}: expected a list of appointment objects or "
                             "{\"appointments\": [...]}")
        rows = data
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = [f for f in ("ref", "category", "start") if f not in (reader.fieldnames or [])]
        if missing:
            seen = text.splitlines()[0] if text.strip() else ""
            raise ValueError(f"{name}: the CSV header lacks {', '.join(missing)} (expected the "
                             f"comma-separated header {','.join(CSV_FIELDS)}, got {seen!r})")
        rows = list(reader)
    result = []
    for index, row in enumerate(rows, start=1):
        try:
            result.append(AppointmentIn.from_dict(row))
        except ValueError as exc:
            raise ValueError(f"{name}: appointment {index}: {exc}") from None
    return result

"""``kiosk-provision reset --factory``: back to a terminal that was never set up.

Wipes the terminal's data (``storage.data_dir``: outbox, queue, catalogue cache, screenshots),
its logs, its enrolment (the MQTT client key and certificate) and its own config file. The site
profiles and the software stay.

Unsent ratings are the one thing that must not be lost: while the outbox holds any, the reset
refuses; ``--force`` first exports them (the records as they would have been published: the
real-name part is sealed for the evaluation system) to a JSON-lines file that
``python -m fleet.receiver`` or a later terminal can deliver, then wipes.
"""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any


class ResetRefused(Exception):
    """The reset would lose data; the message says how to proceed."""


def unsent(outbox: Path, kind: str | None = None) -> list[dict[str, Any]]:
    if not outbox.is_file():
        return []
    db = sqlite3.connect(f"file:{outbox}?mode=ro", uri=True, timeout=5)
    try:
        query = "SELECT id, kind, topic, payload, qos, created FROM outbox"
        rows = db.execute(query + (" WHERE kind=?" if kind else "") + " ORDER BY seq",
                          (kind,) if kind else ()).fetchall()
    finally:
        db.close()
    return [{"id": rid, "kind": k, "topic": topic, "qos": qos, "created": created,
             "payload_b64": base64.b64encode(payload).decode("ascii")}
            for rid, k, topic, payload, qos, created in rows]


def export(records: list[dict[str, Any]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.chmod(0o600)
    tmp.replace(path)
    return path


def _wipe_folder(folder: Path) -> int:
    removed = 0
    if folder.is_dir():
        for child in folder.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
            removed += 1
    return removed


def factory_reset(config: Any, config_file: Path | None, *, force: bool,
                  export_to: Path | None = None) -> dict[str, Any]:
    """Wipe; raises :class:`ResetRefused` while ratings are unsent and not ``force``."""
    data_dir = Path(config.storage.data_dir).expanduser()
    log_dir = Path(config.storage.log_dir).expanduser()
    pending = unsent(data_dir / "outbox.db")
    ratings = [r for r in pending if r["kind"] == "rating"]
    exported = None
    if ratings and not force:
        raise ResetRefused(f"the outbox holds {len(ratings)} unsent rating(s): connect the "
                           "terminal to the fleet until they are sent, or run with --force to "
                           "export them to a file first")
    if pending:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        exported = str(export(pending, export_to or Path.cwd() / (
            f"unsent-{config.terminal.id}-{stamp}.jsonl")))
    result: dict[str, Any] = {"exported": exported, "exported_records": len(pending),
                              "removed": []}
    for folder in (data_dir, log_dir):
        if _wipe_folder(folder):
            result["removed"].append(str(folder))
    for key in ("cert_file", "key_file"):
        path = getattr(config.mqtt, key)
        if path and Path(path).is_file():
            Path(path).unlink()
            result["removed"].append(path)
    if config_file is not None and config_file.is_file():
        config_file.unlink()
        result["removed"].append(str(config_file))
    return result


def run(config: Any, config_file: Path | None, force: bool, export_to: Path | None) -> int:
    try:
        result = factory_reset(config, config_file, force=force, export_to=export_to)
    except ResetRefused as exc:
        print(f"kiosk-provision reset: refused: {exc}")
        return 1
    if result["exported"]:
        print(f"exported {result['exported_records']} unsent record(s) to {result['exported']}")
    for path in result["removed"]:
        print(f"wiped {path}")
    print("factory reset done: set the terminal up again with kiosk-provision init")
    return 0

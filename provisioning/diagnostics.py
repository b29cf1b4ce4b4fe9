"""``kiosk-provision diagnostics --out FILE.tar.gz``: what a technician sends to support.

The bundle holds, and only holds:

- ``config.toml``: the effective configuration (PIN hash hidden; key *files* by path only);
- ``versions.json``: the software, Python, platform and the installed driver libraries;
- ``logs/``: the last lines of each log file, scrubbed again of anything like an ID or phone
  number (the log filter already masks them: this is the second line of defence);
- ``devices.json``: each configured device's health (state, reason, personal-data-free detail);
- ``outbox.json``: outbox statistics (depth, ratings waiting, oldest age) — never a payload;
- ``screenshots/``: the latest screenshot the kiosk took, which it does only outside a session.

Nothing from a session is ever on disk in clear, so nothing personal can leak in; the test
``tests/integration/test_diagnostics.py`` plays an identified session and searches the bundle
for every sample card's data.
"""

from __future__ import annotations

import io
import json
import platform
import sqlite3
import sys
import tarfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from drivers.privacy import scrub

LOG_LINES = 2000
LIBRARIES = ("aishandong-kiosk", "kivy", "pyserial", "pyscard", "python-escpos", "paho-mqtt",
             "opencv-python-headless", "pydantic", "cryptography")


def versions() -> dict[str, Any]:
    found: dict[str, Any] = {"python": sys.version.split()[0], "platform": platform.platform(),
                             "machine": platform.machine()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def outbox_stats(path: Path) -> dict[str, Any]:
    """Counts per kind and the oldest record's age, read-only; never a payload."""
    if not path.is_file():
        return {"present": False}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        rows = db.execute("SELECT kind, COUNT(*), MIN(created) FROM outbox GROUP BY kind")
        kinds = {kind: count for kind, count, _ in rows.fetchall()}
        oldest = db.execute("SELECT MIN(created) FROM outbox").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return {"present": True, "error": f"cannot read the outbox: {exc}"}
    finally:
        db.close()
    return {"present": True, "depth": sum(kinds.values()), "by_kind": kinds,
            "oldest_age_s": round(time.time() - oldest, 1) if oldest else 0.0}


def tail(path: Path, lines: int = LOG_LINES) -> str:
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        kept = handle.readlines()[-lines:]
    return "".join(scrub(line) for line in kept)


def device_health(config: Any, wait_s: float) -> list[dict[str, Any]]:
    from drivers.base import DeviceState
    from kiosk.devices.manager import DeviceManager
    from kiosk.mainthread import MainThreadHandoff

    handoff = MainThreadHandoff()
    manager = DeviceManager(config.devices, handoff)
    manager.start_all()
    try:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and any(
                h.state is DeviceState.STARTING for h in manager.health().values()):
            time.sleep(0.05)
        health = manager.health()
    finally:
        manager.stop_all()
        handoff.close()
    return [{"kind": kind, "type": h.type, "state": h.state.value, "reason": scrub(h.reason),
             "detail": json.loads(scrub(json.dumps(dict(h.detail), default=str,
                                                   ensure_ascii=False)))}
            for kind, h in health.items()]


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(f"diagnostics/{name}")
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def build_bundle(config: Any, out: Path, *, devices_wait_s: float = 3.0,
                 with_devices: bool = True) -> list[str]:
    """Write the bundle to ``out``; returns the names inside it."""
    from config.loader import dump_config

    data_dir = Path(config.storage.data_dir).expanduser()
    log_dir = Path(config.storage.log_dir).expanduser()
    names: list[str] = []
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with tarfile.open(tmp, "w:gz") as archive:
        def add(name: str, data: bytes) -> None:
            _add(archive, name, data)
            names.append(name)

        add("config.toml", scrub(dump_config(config)).encode("utf-8"))
        add("versions.json", json.dumps(versions(), indent=1).encode())
        if log_dir.is_dir():
            for path in sorted(log_dir.glob("*.log*")):
                if path.is_file() and not path.name.endswith(".gz"):
                    add(f"logs/{path.name}", tail(path).encode("utf-8"))
        if with_devices:
            add("devices.json", json.dumps(device_health(config, devices_wait_s),
                                           ensure_ascii=False, indent=1).encode("utf-8"))
        add("outbox.json", json.dumps(outbox_stats(data_dir / "outbox.db"), indent=1).encode())
        shots = sorted((data_dir / "screenshots").glob("*.png"))
        if shots:  # taken by the kiosk, which refuses while a session is on screen
            add(f"screenshots/{shots[-1].name}", shots[-1].read_bytes())
    tmp.chmod(0o600)
    tmp.replace(out)
    return names


def run(config: Any, out: Path, with_devices: bool = True) -> int:
    names = build_bundle(config, out, with_devices=with_devices)
    print(f"wrote {out}: {', '.join(names)}")
    return 0

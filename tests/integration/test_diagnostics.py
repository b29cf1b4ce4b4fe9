"""The diagnostics bundle holds no personal data; the factory reset never loses a rating."""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

from config import load_config
from drivers.idcard import samples
from kiosk.cli.logging_setup import setup_logging
from kiosk.core import build_kiosk
from kiosk.outbox import Outbox

BIN = Path(sys.executable).parent
PHONE = "13812345678"


def _personal_values() -> list[str]:
    values = [PHONE]
    for card in samples.ALL:
        for text in (card.name, card.id_number, card.address, card.english_name,
                     card.pass_number, card.appended_address):
            if text and len(text) >= 2:
                values.append(text)
    return values


def _identified_session(data_dir: Path) -> None:
    """An identified resident session on the real kiosk core, logging to ``data_dir/logs``."""
    setup_logging("DEBUG", data_dir / "logs", console=False)
    kiosk = build_kiosk(load_config("demo", env={"KIOSK_STORAGE__DATA_DIR": str(data_dir)}))
    kiosk.start()
    try:
        reader = kiosk.devices.get("idcard")
        kiosk.machine.start()
        kiosk.machine.open_flow("code")
        kiosk.identify.arm()
        for card in (samples.RESIDENT, samples.RESIDENT_LONG_TERM):
            threading.Thread(target=reader.present, args=(card,)).start()
            deadline = time.monotonic() + 10
            while kiosk.machine.identity is None and time.monotonic() < deadline:
                kiosk.handoff.drain()
                time.sleep(0.01)
            assert kiosk.machine.identity is not None
            reader.lift()
            kiosk.machine.end_session("user")
            kiosk.machine.start()
            kiosk.machine.open_flow("code")
            kiosk.identify.arm()
        # a careless line that bypassed the log filter: the bundle scrubs it again
        with (data_dir / "logs" / "kiosk.log").open("a", encoding="utf-8") as log:
            log.write(f"2026-01-01 DEBUG raw dump {samples.RESIDENT.id_number} {PHONE}\n")
    finally:
        kiosk.stop()
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_kiosk", False):
                logging.getLogger().removeHandler(handler)
                handler.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    _identified_session(folder)
    with Outbox(folder / "outbox.db") as outbox:  # a rating waiting for the broker
        payload = json.dumps({"applicant": samples.RESIDENT.name,
                              "id": samples.RESIDENT.id_number}).encode()
        outbox.put("r-1", "rating", "kiosk/v1/370102/DEMO-0001/rating", payload)
        outbox.put("e-1", "event", "kiosk/v1/370102/DEMO-0001/event", b"{}")
    (folder / "screenshots").mkdir()
    (folder / "screenshots" / "screen-1.png").write_bytes(b"\x89PNG\r\n\x1a\nattract")
    return folder


def test_the_bundle_holds_no_personal_data(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "diag.tar.gz"
    result = subprocess.run(
        [str(BIN / "kiosk-provision"), "diagnostics", "--profile", "demo", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "KIOSK_STORAGE__DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr
    with tarfile.open(out) as archive:
        members = {m.name: archive.extractfile(m).read() for m in archive.getmembers()
                   if m.isfile()}
    names = set(members)
    assert {"diagnostics/config.toml", "diagnostics/versions.json", "diagnostics/devices.json",
            "diagnostics/outbox.json", "diagnostics/logs/kiosk.log",
            "diagnostics/screenshots/screen-1.png"} <= names
    outbox = json.loads(members["diagnostics/outbox.json"])
    assert outbox["by_kind"]["rating"] == 1 and outbox["by_kind"]["event"] >= 2  # session events
    assert outbox["depth"] == sum(outbox["by_kind"].values())
    devices = json.loads(members["diagnostics/devices.json"])
    assert {d["kind"] for d in devices} >= {"idcard", "printer"}
    log_text = members["diagnostics/logs/kiosk.log"].decode()
    assert "raw dump" in log_text and "3701**********0032" in log_text  # scrubbed, kept
    blob = b"\n".join(members.values())
    for value in _personal_values():
        encoded = value.encode("utf-8")
        assert encoded not in blob, f"personal data in the bundle: {value[:2]}…"
        assert base64.b64encode(encoded) not in blob


def test_reset_refuses_with_unsent_ratings_and_force_exports_them(data_dir: Path,
                                                                  tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "KIOSK_STORAGE__DATA_DIR": str(data_dir)}
    refused = subprocess.run([str(BIN / "kiosk-provision"), "reset", "--factory",
                              "--profile", "demo"], capture_output=True, text=True, timeout=60,
                             env=env)
    assert refused.returncode == 1
    assert "1 unsent rating" in refused.stdout and "--force" in refused.stdout
    assert (data_dir / "outbox.db").is_file() and (data_dir / "logs").is_dir()

    export = tmp_path / "unsent.jsonl"
    forced = subprocess.run([str(BIN / "kiosk-provision"), "reset", "--factory", "--force",
                             "--export", str(export), "--profile", "demo"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    records = [json.loads(line) for line in export.read_text().splitlines()]
    assert [r["id"] for r in records if r["kind"] == "rating"] == ["r-1"]
    assert "e-1" in [r["id"] for r in records]  # events go along
    rating = next(r for r in records if r["id"] == "r-1")
    assert json.loads(base64.b64decode(rating["payload_b64"]))["id"] == \
        samples.RESIDENT.id_number  # exported exactly as it would have been published
    assert export.stat().st_mode & 0o077 == 0
    assert list(data_dir.iterdir()) == []

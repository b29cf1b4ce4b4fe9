"""What a real headless demo publishes to a real mosquitto (TLS, per-terminal ACL) is valid
against its own JSON Schema, every payload of every topic; and the demo keeps its data in its
own folder, never in the terminal's real one (issue 16, items 1 and 4)."""

from __future__ import annotations

import json
import os
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import jsonschema
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet.lab import FleetLab

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TERMINAL, REGION = "DEMO-0001", "370102"
#: topic leaf → payload kind (schemas/kiosk.<kind>.v1.json)
KIND_OF_LEAF = {"state": "presence", "birth": "birth", "health": "health", "rating": "rating",
                "event": "event", "cmd/result": "command_result"}


def validators() -> dict[str, jsonschema.protocols.Validator]:
    out = {}
    for kind in set(KIND_OF_LEAF.values()):
        schema = json.loads((ROOT / "schemas" / f"kiosk.{kind}.v1.json").read_text("utf-8"))
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        out[kind] = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return out


class Capture:
    """Everything published under the prefix, raw, as the fleet identity sees it."""

    def __init__(self, lab: FleetLab) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        tls = lab.tls("fleet")
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="schema-capture")
        self.client.tls_set(ca_certs=tls["ca_file"], certfile=tls["cert_file"],
                            keyfile=tls["key_file"], tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.on_connect = lambda c, *_: c.subscribe("kiosk/v1/#", qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", lab.port, keepalive=10)
        self.client.loop_start()
        assert self._subscribed.wait(10), "the capture client did not subscribe"

    def _on_message(self, _c, _u, message) -> None:  # type: ignore[no-untyped-def]
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload)))

    def leaves(self) -> list[str]:
        prefix = f"kiosk/v1/{REGION}/{TERMINAL}/"
        with self._lock:
            return [t[len(prefix):] for t, _ in self.messages if t.startswith(prefix)]

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def site_config(lab: FleetLab, path: Path) -> Path:
    tls = lab.tls(TERMINAL)
    path.write_text(
        f'[terminal]\nid = "{TERMINAL}"\nregion_code = "{REGION}"\n\n'
        f'[mqtt]\nenabled = true\nurl = "{lab.url}"\nkeepalive_s = 5\nhealth_interval_s = 5\n'
        f'ca_file = "{tls["ca_file"]}"\ncert_file = "{tls["cert_file"]}"\n'
        f'key_file = "{tls["key_file"]}"\n', "utf-8")
    return path


def test_everything_a_demo_publishes_is_valid_against_its_schema(tmp_path: Path) -> None:
    checks = validators()
    home = tmp_path / "home"  # the terminal's real data folder would be under it
    out = tmp_path / "demo"
    with FleetLab(tmp_path / "fleet", terminals=[(TERMINAL, REGION)]) as lab:
        capture = Capture(lab)
        try:
            env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
            env["HOME"] = str(home)
            result = subprocess.run(
                [str(BIN / "kiosk"), "demo", "--headless", "--out", str(out),
                 "--config", str(site_config(lab, tmp_path / "site.toml"))],
                capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
            assert result.returncode == 0, result.stderr[-3000:]
            deadline = time.monotonic() + 10  # the last "offline" may still be on its way
            while time.monotonic() < deadline and "state" not in capture.leaves()[-1:]:
                time.sleep(0.05)
        finally:
            capture.stop()

    leaves = capture.leaves()
    assert {"state", "birth", "health", "rating", "event"} <= set(leaves), leaves
    payloads = list(capture.messages)
    # what the demo stored but had not yet sent when it stopped is published on the next run:
    # it must be valid too
    with sqlite3.connect(out / "data" / "outbox.db") as db:
        payloads += [(topic, bytes(blob)) for topic, blob in
                     db.execute("SELECT topic, payload FROM outbox")]
    session_outcomes = []
    for topic, raw in payloads:
        leaf = topic.split(f"/{TERMINAL}/", 1)[1]
        payload = json.loads(raw)
        errors = sorted(checks[KIND_OF_LEAF[leaf]].iter_errors(payload), key=str)
        assert not errors, f"{topic}: {payload}\n" + "\n".join(e.message for e in errors)
        if leaf == "event" and payload["values"]["name"] == "session":
            session_outcomes.append((payload["values"]["data"]["outcome"],
                                     payload["values"]["data"].get("reason")))
    # the demo's sessions: completed ones and one that timed out (the resident walked away)
    assert ("completed", "completed") in session_outcomes
    assert ("timeout", "idle") in session_outcomes, session_outcomes

    # item 4: the demo's records are in its own data folder, none in the terminal's real one
    assert (out / "data" / "outbox.db").exists()
    assert not (home / ".local" / "share" / "aishandong-kiosk").exists()

"""A fleet receiver: subscribes to every terminal's topics and dedupes records by id.

Ratings, events and command results are at-least-once on the wire (a record whose PUBACK
was lost is sent again); the receiver keeps each record id once in a SQLite file, so every
record is stored exactly once. Presence, birth and health are "latest value" facts, kept per
terminal. The receiver uses a persistent session (``clean_session = false``, fixed client id)
so the broker keeps QoS 1 messages for it while it is away (the broker needs
``persistence true`` to keep them over its own restarts; ``fleet.broker`` sets it).

    python -m fleet.receiver --url mqtts://127.0.0.1:8883 --pki pki --db fleet.db
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from drivers.logsetup import setup_logging
from drivers.privacy import scrub
from kiosk.telemetry.topics import TopicError, fleet_subscriptions, parse

log = logging.getLogger(__name__)

RECORD_LEAVES = {"rating": "rating", "event": "event", "cmd/result": "command_result"}
STATE_LEAVES = ("state", "birth", "health")


class FleetReceiver:
    def __init__(self, url: str, db_path: str | Path, *, ca_file: str = "",
                 cert_file: str = "", key_file: str = "", client_id: str = "fleet-receiver",
                 prefix: str = "kiosk/v1",
                 on_record: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"broker url {url!r}: use mqtt://host:port or mqtts://host:port")
        self.host = parts.hostname
        self.tls = parts.scheme == "mqtts"
        self.port = parts.port or (8883 if self.tls else 1883)
        self.prefix = prefix
        self.on_record = on_record
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(db_path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, kind TEXT, "
                         "terminal TEXT, ts INTEGER, payload TEXT)")
        self.duplicates = 0
        self.deliveries = 0
        self.rejected = 0
        self.latest: dict[tuple[str, str], dict[str, Any]] = {}
        self.history: list[tuple[str, str, dict[str, Any]]] = []  # (terminal, leaf, payload)
        self._connected = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                   clean_session=False, protocol=mqtt.MQTTv311)
        self._client.reconnect_delay_set(min_delay=0.2, max_delay=2)  # type: ignore[arg-type]
        if self.tls:
            self._client.tls_set(ca_certs=ca_file or None, certfile=cert_file or None,
                                 keyfile=key_file or None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = lambda *a: self._connected.clear()
        self._client.on_message = self._on_message

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._client.connect_async(self.host, self.port, keepalive=10)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        with self._lock:
            self._db.close()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("fleet receiver refused by the broker: %s", reason)
            return
        client.subscribe([(topic, 1) for topic in fleet_subscriptions(self.prefix)])
        self._connected.set()

    # -- messages --------------------------------------------------------------------------------
    def _on_message(self, _client: mqtt.Client, _u: Any, message: Any) -> None:
        try:
            _region, terminal, leaf = parse(message.topic, self.prefix)
            payload = json.loads(message.payload) if message.payload else {}
        except (TopicError, ValueError):
            self.rejected += 1
            return
        if payload and payload.get("terminal") != terminal:
            self.rejected += 1  # a payload naming another terminal than its topic
            return
        with self._lock:
            self.history.append((terminal, leaf, payload))
            if leaf in STATE_LEAVES:
                self.latest[(terminal, leaf)] = payload
                return
            kind = RECORD_LEAVES[leaf]
            self.deliveries += 1
            cur = self._db.execute(
                "INSERT OR IGNORE INTO records(id, kind, terminal, ts, payload) "
                "VALUES (?, ?, ?, ?, ?)", (str(payload.get("id")), kind, terminal,
                                           payload.get("ts"), message.payload.decode()))
            new = cur.rowcount == 1
            if not new:
                self.duplicates += 1
        if new and self.on_record is not None:
            self.on_record(kind, payload)

    # -- queries ---------------------------------------------------------------------------------
    def count(self, kind: str | None = None) -> int:
        with self._lock:
            if kind is None:
                row = self._db.execute("SELECT COUNT(*) FROM records").fetchone()
            else:
                row = self._db.execute("SELECT COUNT(*) FROM records WHERE kind = ?",
                                       (kind,)).fetchone()
        return int(row[0])

    def records(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT payload FROM records WHERE kind = ? ORDER BY ts",
                                    (kind,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def ids(self, kind: str) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT id FROM records WHERE kind = ?", (kind,)).fetchall()
        return {r[0] for r in rows}

    def state(self, terminal: str, leaf: str) -> dict[str, Any] | None:
        with self._lock:
            return self.latest.get((terminal, leaf))

    def messages(self, leaf: str) -> list[dict[str, Any]]:
        with self._lock:
            return [p for _t, lf, p in self.history if lf == leaf]

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()

    def send_command(self, region: str, terminal: str, signed: bytes) -> None:
        """Publish a signed command (see :mod:`fleet.commands`) on the terminal's topic."""
        info = self._client.publish(f"{self.prefix}/{region}/{terminal}/cmd", signed, qos=1)
        info.wait_for_publish(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fleet.receiver", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--pki", type=Path, help="directory with ca.pem, fleet.pem, fleet.key")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--client-id", default="fleet-receiver")
    args = parser.parse_args(argv)
    setup_logging("INFO")
    tls = {}
    if args.pki:
        tls = {"ca_file": str(args.pki / "ca.pem"), "cert_file": str(args.pki / "fleet.pem"),
               "key_file": str(args.pki / "fleet.key")}
    receiver = FleetReceiver(args.url, args.db, client_id=args.client_id,
                             on_record=lambda kind, p: print(kind, scrub(json.dumps(
                                 p, ensure_ascii=False)), flush=True), **tls)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    receiver.start()
    done.wait()
    receiver.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The fleet's half of a terminal's self-test round trip (``kiosk/telemetry/echo.py``).

After the ingest worker has committed a batch, every fresh ``selftest`` event in it is answered
with a ``selftest_echo`` command on that terminal's ``cmd`` topic: the event's nonce, signed
with the fleet's command key (``command_key_file``) and short-lived, so the kiosk verifies it
like any other command. Answering after the commit means an echo proves the event was stored.

No key configured: nothing is answered (logged once); the self-test then says the fleet did
not answer and names ``command_key_file``. An event older than :data:`ECHO_TTL_S` (a worker
catching up after an outage) is not answered: nobody waits for it any more.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fleet.commands import load_key, signed_command
from fleet.ingest import validate
from kiosk.telemetry.echo import COMMAND, EVENT
from kiosk.telemetry.topics import TopicError, parse

log = logging.getLogger(__name__)

ECHO_TTL_S = 60
_NONCE = re.compile(r"^[0-9a-f]{16,64}$")
_keys: dict[str, Any] = {}
_keys_lock = threading.Lock()


def _key(path: str) -> Any:
    """The signing key, loaded once per path; None (warned once) when missing or unreadable."""
    with _keys_lock:
        if path not in _keys:
            try:
                _keys[path] = load_key(Path(path)) if path else None
            except (OSError, ValueError) as exc:
                log.error("self-test echoes disabled: command_key_file %s: %s", path, exc)
                _keys[path] = None
            if not path:
                log.warning("self-test echoes disabled: command_key_file is not set")
        return _keys[path]


def echoes(messages: Iterable[Any], prefix: str, now_ms: int | None = None
           ) -> list[tuple[str, str, str]]:
    """``(region, terminal, nonce)`` of each fresh, well-formed ``selftest`` event."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    found = []
    for msg in messages:
        if not msg.topic.endswith("/event") or b'"selftest"' not in msg.payload:
            continue  # the common case, without parsing JSON
        try:
            region, terminal, leaf = parse(msg.topic, prefix)
            payload = json.loads(msg.payload)
            values = payload["values"]
            nonce = values["data"]["nonce"]
            ts = int(payload["ts"])
        except (TopicError, ValueError, TypeError, KeyError):
            continue
        if (leaf != "event" or values.get("name") != EVENT or payload.get("terminal") != terminal
                or not isinstance(nonce, str) or not _NONCE.match(nonce)):
            continue
        if abs(now - ts) > ECHO_TTL_S * 1000 or validate(payload, "event"):
            continue  # stale, or quarantined by the ingest (not stored)
        found.append((region, terminal, nonce))
    return found


def answer(client: Any, settings: Any, messages: Iterable[Any]) -> int:
    """Publish the echoes for ``messages`` (a committed batch) with the paho ``client``;
    returns how many were sent. Never raises: the batch is stored whatever happens here."""
    try:
        wanted = echoes(messages, settings.topic_prefix)
        if not wanted:
            return 0
        key = _key(settings.command_key_file)
        if key is None:
            return 0
        for region, terminal, nonce in wanted:
            payload = signed_command(key, terminal, COMMAND, {"nonce": nonce},
                                     ttl_s=ECHO_TTL_S)
            client.publish(f"{settings.topic_prefix}/{region}/{terminal}/cmd", payload, qos=1)
        return len(wanted)
    except Exception:
        log.exception("self-test echo failed")
        return 0

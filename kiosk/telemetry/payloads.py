"""Payloads of every topic: one envelope, a schema name and version, a timestamp.

Envelope (ThingsBoard-style ``ts`` + ``values``, so a record forwarded late keeps its time)::

    {"schema": "kiosk.rating", "v": 1, "ts": 1718000000000, "terminal": "JN-0001",
     "id": "3f…", "values": {...}}

``ts`` is milliseconds since the epoch (UTC) when the fact happened, not when it was sent.
The JSON Schemas in ``schemas/`` (one per kind) are the contract; tests validate every
builder's output against them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from drivers.privacy import scrub

SCHEMA_VERSION = 1
KINDS = ("presence", "birth", "health", "rating", "event", "command", "command_result")

#: events the kiosk sends (``name`` of an event payload)
EVENT_NAMES = ("call_staff", "help", "session", "error", "alarm", "maintenance", "started",
               "stopping", "queue_daily", "selftest")
#: ``outcome`` of a ``session`` event (kiosk.event.v1.json allows these and nothing else)
SESSION_OUTCOMES = ("completed", "abandoned", "timeout", "error")
#: how a session ended (``SessionMachine.end_session(reason)``) → its reported outcome; the
#: reason itself travels beside it as ``reason``
_OUTCOME_OF_REASON = {"completed": "completed", "idle": "timeout", "error": "error"}
#: result statuses of a command
RESULT_STATUSES = ("ok", "failed", "refused", "unsupported")


def now_ms() -> int:
    return int(time.time() * 1000)


def envelope(kind: str, terminal: str, values: Mapping[str, Any], *, ts: int | None = None,
             record_id: str | None = None) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"unknown payload kind {kind!r}")
    return {"schema": f"kiosk.{kind}", "v": SCHEMA_VERSION,
            "ts": now_ms() if ts is None else int(ts), "terminal": terminal,
            "id": record_id or uuid.uuid4().hex, "values": dict(values)}


def encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(data: bytes | str) -> dict[str, Any]:
    value = json.loads(data)
    if not isinstance(value, dict):
        raise ValueError("a payload is a JSON object")
    return value


def clean(value: Any, depth: int = 0) -> Any:
    """Make free-form data safe to send: strings scrubbed of ID/phone numbers, JSON types."""
    if depth > 6:
        return None
    if isinstance(value, str):
        return scrub(value)[:500]
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k)[:64]: clean(v, depth + 1) for k, v in list(value.items())[:50]}
    if isinstance(value, list | tuple | set | frozenset):
        return [clean(v, depth + 1) for v in list(value)[:50]]
    return scrub(str(value))[:500]


# -- builders -------------------------------------------------------------------------------------
def presence(terminal: str, online: bool, reason: str = "", ts: int | None = None
             ) -> dict[str, Any]:
    return envelope("presence", terminal, {"online": online, "reason": reason}, ts=ts)


def event(terminal: str, name: str, data: Mapping[str, Any] | None = None, *,
          ts: int | None = None, record_id: str | None = None) -> dict[str, Any]:
    if name not in EVENT_NAMES:
        raise ValueError(f"unknown event {name!r}; one of {', '.join(EVENT_NAMES)}")
    return envelope("event", terminal, {"name": name, "data": clean(dict(data or {}))}, ts=ts,
                    record_id=record_id)


def session_outcome(reason: str) -> str:
    """The schema's outcome for a session end reason: ``completed``; ``idle`` → ``timeout``;
    ``error``; every other way out (``user``, ``maintenance``, ``out_of_service``,
    ``shutdown``…) left the item unfinished → ``abandoned``."""
    return _OUTCOME_OF_REASON.get(reason, "abandoned")


def rating(record: Any) -> dict[str, Any]:
    """From a :class:`kiosk.ratings.records.FullRatingRecord`."""
    return envelope("rating", record.terminal, record.values(),
                    ts=int(record.at.timestamp() * 1000), record_id=record.id)


def command_result(terminal: str, command_id: str, name: str, status: str, *,
                   reason: str = "", detail: str = "", data: Mapping[str, Any] | None = None
                   ) -> dict[str, Any]:
    if status not in RESULT_STATUSES:
        raise ValueError(f"unknown status {status!r}")
    return envelope("command_result", terminal, {
        "command_id": command_id, "name": name, "status": status, "reason": reason,
        "detail": scrub(detail)[:500], "data": clean(dict(data or {}))})


def health(terminal: str, values: Mapping[str, Any], ts: int | None = None) -> dict[str, Any]:
    return envelope("health", terminal, values, ts=ts)


def birth(terminal: str, values: Mapping[str, Any], ts: int | None = None) -> dict[str, Any]:
    return envelope("birth", terminal, values, ts=ts)


def birth_values(config: Any, version: str, capabilities: Mapping[str, Any] | None = None,
                 started_ms: int | None = None) -> dict[str, Any]:
    """The birth record: what a terminal is, where, when it serves and what it offers."""
    term = config.terminal
    devices = {kind: config.devices.get(kind).type for kind in config.devices.enabled_kinds()}
    return {
        "version": version,
        "config_hash": config.config_hash(),
        "profile": config.profile,
        "started": started_ms or now_ms(),
        "capabilities": {"devices": devices, **dict(capabilities or {})},
        "location": {"name": term.name, "site": term.site, "region_code": term.region_code,
                     "latitude": term.latitude, "longitude": term.longitude,
                     "timezone": term.timezone, "host": term.host},
        "opening_hours": [{"days": h.days, "open": h.open, "close": h.close}
                          for h in term.opening_hours],
        "services": list(config.services.enabled),
        "real_name_followup": bool(config.ratings.evaluation_public_key),
        "open_24h": bool(term.open_24h),
    }

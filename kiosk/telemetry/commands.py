"""Remote commands: Ed25519-signed, with an expiry and a nonce; bad ones refused.

Wire format (JSON on ``…/{terminal}/cmd``)::

    {"schema": "kiosk.command", "v": 1, "id": "<uuid>", "terminal": "JN-0001",
     "name": "maintenance", "args": {"on": true}, "issued": 1718000000000,
     "expires": 1718000300000, "nonce": "<32 hex>", "sig": "<base64 Ed25519 signature>"}

The signature covers the canonical JSON of every field but ``sig`` (keys sorted, no spaces,
UTF-8). A command is refused when: it is not valid JSON or misses a field (``malformed``),
names another terminal (``wrong_terminal``), no configured fleet key verifies it
(``bad_signature``), it expired (``expired``), was issued in the future (``not_yet_valid``),
lives longer than ``command_max_ttl_s`` (``too_long_lived``), its nonce was seen before
(``replayed``; nonces are kept on disk until the command expires, so a restart does not
reopen a replay window) or it is not a known command (``unknown_command``). Each refusal is
published on the result topic.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

#: command name -> allowed argument names and their types
COMMANDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "restart": {},
    "reload_config": {},
    "maintenance": {"on": bool},
    "print_test_page": {},
    "screenshot": {},
    "set_log_level": {"level": str},
    "flush_outbox": {},
    "selftest_echo": {"nonce": str},  # the fleet's answer to a self-test event (echo.py)
}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_FIELDS = ("schema", "v", "id", "terminal", "name", "args", "issued", "expires", "nonce", "sig")
_NONCE = re.compile(r"^[0-9a-f]{16,64}$")


class CommandRefused(Exception):
    """Why a command is not executed. ``reason`` is a stable code for the fleet."""

    def __init__(self, reason: str, detail: str, command_id: str = "", name: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.command_id = command_id
        self.name = name


@dataclass(frozen=True)
class Command:
    id: str
    terminal: str
    name: str
    args: Mapping[str, Any]
    issued: int  # ms
    expires: int  # ms
    nonce: str


@dataclass(frozen=True)
class CommandResult:
    """What a handler returns: ``status`` ok / failed / unsupported, a short detail, data."""

    status: str = "ok"
    detail: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


CommandHandler = Callable[[Command], CommandResult | None]


def canonical(command: Mapping[str, Any]) -> bytes:
    """The signed bytes: every field except ``sig``, keys sorted, compact, UTF-8."""
    body = {k: v for k, v in command.items() if k != "sig"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


class NonceStore:
    """Nonces seen, kept (on disk when a path is given) until their command expires."""

    def __init__(self, path: str | Path | None = None) -> None:
        target = str(path) if path else ":memory:"
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, "
                         "expires INTEGER NOT NULL)")
        self._lock = threading.Lock()

    def check_and_add(self, nonce: str, expires_ms: int, now_ms: int) -> bool:
        """True if the nonce is new (and is now remembered); False if it was seen."""
        with self._lock:
            self._db.execute("DELETE FROM nonces WHERE expires < ?", (now_ms,))
            cur = self._db.execute("INSERT OR IGNORE INTO nonces(nonce, expires) VALUES (?, ?)",
                                   (nonce, expires_ms))
            return cur.rowcount == 1

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM nonces").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CommandVerifier:
    """Checks signature, terminal, expiry, nonce and arguments (see the module docstring)."""

    def __init__(self, terminal: str, keys: Iterable[Ed25519PublicKey], nonces: NonceStore,
                 *, max_ttl_s: int = 3600, skew_s: int = 120,
                 clock: Callable[[], float] = time.time) -> None:
        self.terminal = terminal
        self.keys = list(keys)
        self.nonces = nonces
        self.max_ttl_ms = max_ttl_s * 1000
        self.skew_ms = skew_s * 1000
        self._clock = clock

    def verify(self, raw: bytes | str) -> Command:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CommandRefused("malformed", f"not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise CommandRefused("malformed", "a command is a JSON object")
        cid = str(data.get("id", ""))[:64]
        name = str(data.get("name", ""))[:40]
        missing = [f for f in _FIELDS if f not in data]
        if missing:
            raise CommandRefused("malformed", f"missing field(s): {', '.join(missing)}", cid,
                                 name)
        extra = sorted(set(data) - set(_FIELDS))
        if extra:
            raise CommandRefused("malformed", f"unknown field(s): {', '.join(extra)}", cid, name)
        if data["schema"] != "kiosk.command" or data["v"] != 1:
            raise CommandRefused("malformed", f"schema {data['schema']!r} v{data['v']} is not "
                                 "kiosk.command v1", cid, name)
        if not isinstance(data["issued"], int) or not isinstance(data["expires"], int):
            raise CommandRefused("malformed", "issued and expires are integer milliseconds",
                                 cid, name)
        if not isinstance(data["args"], dict):
            raise CommandRefused("malformed", "args is a JSON object", cid, name)
        if data["terminal"] != self.terminal:
            raise CommandRefused("wrong_terminal", f"the command is for {data['terminal']!r}, "
                                 f"this is {self.terminal!r}", cid, name)
        self._check_signature(data, cid, name)
        now = int(self._clock() * 1000)
        issued, expires = data["issued"], data["expires"]
        if expires <= now - self.skew_ms:
            raise CommandRefused("expired", f"expired {(now - expires) / 1000:.0f} s ago", cid,
                                 name)
        if issued > now + self.skew_ms:
            raise CommandRefused("not_yet_valid", f"issued {(issued - now) / 1000:.0f} s in "
                                 "the future (check the clocks)", cid, name)
        if expires - issued > self.max_ttl_ms or expires <= issued:
            raise CommandRefused("too_long_lived", f"valid for {(expires - issued) / 1000:.0f} "
                                 f"s, at most {self.max_ttl_ms // 1000} s allowed", cid, name)
        nonce = data["nonce"]
        if not isinstance(nonce, str) or not _NONCE.match(nonce):
            raise CommandRefused("malformed", "nonce is 16 to 64 lower-case hex digits", cid,
                                 name)
        if not self.nonces.check_and_add(nonce, expires + self.skew_ms, now):
            raise CommandRefused("replayed", "this command (nonce) was received before", cid,
                                 name)
        self._check_args(name, data["args"], cid)
        return Command(cid, data["terminal"], name, dict(data["args"]), issued, expires, nonce)

    def _check_signature(self, data: Mapping[str, Any], cid: str, name: str) -> None:
        if not self.keys:
            raise CommandRefused("bad_signature", "no fleet command key is configured "
                                 "(fleet.command_keys)", cid, name)
        try:
            sig = base64.b64decode(str(data["sig"]), validate=True)
        except (binascii.Error, ValueError):
            raise CommandRefused("bad_signature", "sig is not base64", cid, name) from None
        body = canonical(data)
        for key in self.keys:
            try:
                key.verify(sig, body)
                return
            except InvalidSignature:
                continue
        raise CommandRefused("bad_signature", "no configured fleet key verifies the signature",
                             cid, name)

    @staticmethod
    def _check_args(name: str, args: Mapping[str, Any], cid: str) -> None:
        if name not in COMMANDS:
            raise CommandRefused("unknown_command", f"{name!r} is not one of "
                                 f"{', '.join(COMMANDS)}", cid, name)
        spec = COMMANDS[name]
        unknown = sorted(set(args) - set(spec))
        missing = sorted(set(spec) - set(args))
        if unknown or missing:
            raise CommandRefused("malformed", f"{name} takes {sorted(spec) or 'no arguments'};"
                                 f" unknown {unknown}, missing {missing}", cid, name)
        for key, kind in spec.items():
            if not isinstance(args[key], kind):
                raise CommandRefused("malformed", f"{name}.{key} has the wrong type", cid, name)
        if name == "set_log_level" and args["level"].upper() not in LOG_LEVELS:
            raise CommandRefused("malformed", f"level must be one of {', '.join(LOG_LEVELS)}",
                                 cid, name)

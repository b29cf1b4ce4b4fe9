"""The fleet side of remote commands: keys, signing, and a command-line sender.

    python -m fleet.commands new-key --out fleet-cmd        # fleet-cmd.key (keep it secret)
                                                            # prints the public key for config
    python -m fleet.commands sign --key fleet-cmd.key --terminal JN-LX-0001 \
        maintenance '{"on": true}' --ttl 300                # prints the signed JSON

The kiosk verifies with :class:`kiosk.telemetry.commands.CommandVerifier`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.telemetry.commands import COMMANDS, canonical


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_b64(key: Ed25519PrivateKey) -> str:
    """The value for ``fleet.command_keys`` in the terminal's config."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def save_key(key: Ed25519PrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    os.chmod(path, 0o600)


def load_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def build_command(terminal: str, name: str, args: Mapping[str, Any] | None = None, *,
                  ttl_s: float = 300, now: float | None = None, nonce: str | None = None,
                  command_id: str | None = None) -> dict[str, Any]:
    """The unsigned command (use :func:`sign` next)."""
    issued = int((time.time() if now is None else now) * 1000)
    return {"schema": "kiosk.command", "v": 1, "id": command_id or uuid.uuid4().hex,
            "terminal": terminal, "name": name, "args": dict(args or {}), "issued": issued,
            "expires": issued + int(ttl_s * 1000), "nonce": nonce or secrets.token_hex(16)}


def sign(command: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    body = {k: v for k, v in command.items() if k != "sig"}
    return {**body, "sig": base64.b64encode(key.sign(canonical(body))).decode("ascii")}


def signed_command(key: Ed25519PrivateKey, terminal: str, name: str,
                   args: Mapping[str, Any] | None = None, **kwargs: Any) -> bytes:
    """Build, sign and encode: the bytes to publish on the terminal's ``cmd`` topic."""
    return json.dumps(sign(build_command(terminal, name, args, **kwargs), key),
                      ensure_ascii=False).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fleet.commands", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    new = sub.add_parser("new-key", help="create a command-signing key")
    new.add_argument("--out", type=Path, required=True, help="file stem; writes STEM.key")
    sig = sub.add_parser("sign", help="print a signed command")
    sig.add_argument("--key", type=Path, required=True)
    sig.add_argument("--terminal", required=True)
    sig.add_argument("--ttl", type=float, default=300.0, help="seconds of validity")
    sig.add_argument("name", choices=sorted(COMMANDS))
    sig.add_argument("args", nargs="?", default="{}", help="JSON object of arguments")
    args = parser.parse_args(argv)
    if args.action == "new-key":
        key = new_key()
        path = args.out.with_suffix(".key")
        save_key(key, path)
        print(f"private key: {path}\nfleet.command_keys = [\"{public_b64(key)}\"]")
        return 0
    try:
        arguments = json.loads(args.args)
        key = load_key(args.key)
    except (ValueError, OSError) as exc:
        print(f"fleet.commands: {exc}", file=sys.stderr)
        return 2
    print(signed_command(key, args.terminal, args.name, arguments, ttl_s=args.ttl).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``kiosk-fleet enrol-token create``, ``kiosk-fleet ca sign``, ``kiosk-fleet terminal revoke``.

    kiosk-fleet enrol-token create --terminal JN-LX-0007 --region 370102 [--ttl-s 86400]
    kiosk-fleet ca sign --csr JN-LX-0007.csr --terminal JN-LX-0007 --region 370102 \\
        --out JN-LX-0007.enrol.json          # then: kiosk-provision enrol --install FILE
    kiosk-fleet terminal revoke JN-LX-0007   # the broker refuses it from now on

Registered into ``fleet/cli.py`` by :func:`register`; each command sets ``func``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML file with fleet.settings.Settings keys")
    parser.add_argument("--db", help="sqlite:///PATH or postgresql://…")


def register(sub: Any) -> None:
    token = sub.add_parser("enrol-token", help="one-time enrolment tokens for new terminals")
    tsub = token.add_subparsers(dest="action", required=True)
    create = tsub.add_parser("create", help="make a token (printed once)")
    _common(create)
    create.add_argument("--terminal", required=True, help="terminal id, e.g. JN-LX-0007")
    create.add_argument("--region", required=True, help="6-digit region code, e.g. 370102")
    create.add_argument("--ttl-s", type=int, default=None, help="lifetime in seconds "
                        "(default: [enrolment] token_ttl_s, one day)")
    create.set_defaults(func=_create_token)

    ca = sub.add_parser("ca", help="the enrolment CA")
    csub = ca.add_subparsers(dest="action", required=True)
    sign = csub.add_parser("sign", help="sign a terminal's CSR (offline enrolment)")
    _common(sign)
    sign.add_argument("--csr", type=Path, required=True)
    sign.add_argument("--terminal", required=True)
    sign.add_argument("--region", required=True)
    sign.add_argument("--out", type=Path, required=True,
                      help="the enrolment file for `kiosk-provision enrol --install`")
    sign.set_defaults(func=_sign)

    terminal = sub.add_parser("terminal", help="terminals")
    tsub2 = terminal.add_subparsers(dest="action", required=True)
    revoke = tsub2.add_parser("revoke", help="revoke a terminal's certificates")
    _common(revoke)
    revoke.add_argument("terminal")
    revoke.set_defaults(func=_revoke)


def _open(args: argparse.Namespace) -> tuple[Any, Any]:
    from fleet.db import Database
    from fleet.enrolment import enrolment_for
    from fleet.settings import Settings

    settings = Settings.load(args.config, db=args.db)
    db = Database(settings.db)
    db.upgrade()
    return db, enrolment_for(settings)


def _now() -> int:
    from fleet.clock import now_ms

    return now_ms()


def _run(args: argparse.Namespace, work: Any) -> int:
    from fleet.auth import Forbidden, Invalid, NotFound

    db, enrolment = _open(args)
    try:
        with db.session() as session:
            return int(work(session, enrolment))
    except (Invalid, NotFound, Forbidden, FileNotFoundError) as exc:
        print(f"kiosk-fleet: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()


def _create_token(args: argparse.Namespace) -> int:
    def work(session: Any, enrolment: Any) -> int:
        secret, expires = enrolment.create_token(session, args.terminal, args.region, _now(),
                                                 args.ttl_s, created_by="cli")
        print(secret)
        until = dt.datetime.fromtimestamp(expires / 1000, dt.UTC).isoformat(timespec="seconds")
        print(f"enrolment token for {args.terminal} in {args.region}: one use, valid until "
              f"{until}; shown once, stored hashed", file=sys.stderr)
        return 0
    return _run(args, work)


def _sign(args: argparse.Namespace) -> int:
    def work(session: Any, enrolment: Any) -> int:
        result = enrolment.sign_offline(session, args.csr.read_text(encoding="ascii"),
                                        args.terminal, args.region, _now())
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"signed: {args.out} (install it with `kiosk-provision enrol --install "
              f"{args.out.name}`)")
        return 0
    return _run(args, work)


def _revoke(args: argparse.Namespace) -> int:
    def work(session: Any, enrolment: Any) -> int:
        count = enrolment.revoke(session, args.terminal, _now())
        print(f"revoked {count} certificate(s) of {args.terminal}; the broker refuses it now")
        return 0
    return _run(args, work)

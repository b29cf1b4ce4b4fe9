"""``kiosk-fleet``: the fleet server's command line.

    kiosk-fleet serve [--db URL] [--mqtt URL] [--listen 127.0.0.1:8800]   # API + one ingest
    kiosk-fleet ingest --worker ingest-2 [--db URL] [--mqtt URL]           # more workers
    kiosk-fleet token create --role viewer --name desk [--region 3701]     # printed once
    kiosk-fleet user create --username wang --role evaluator [--region 370102]
    kiosk-fleet simulate --terminals 200 [--broker mqtt://127.0.0.1:1883] [--seconds 60]
    kiosk-fleet migrate [--db URL]
    kiosk-fleet enrol-token create --terminal ID --region CODE              # printed once
    kiosk-fleet ca sign --csr FILE --terminal ID --region CODE --out F.json  # offline enrolment
    kiosk-fleet terminal revoke ID                                          # broker refuses it

Options can also come from a TOML file (``--config fleet.toml``, keys as in
``fleet.settings.Settings``); the command line wins.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="TOML file with fleet.settings.Settings keys")
    p.add_argument("--db", help="sqlite:///PATH (default sqlite:///fleet.db) or "
                   "postgresql://user@host:port/name")


def _mqtt(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mqtt", help="broker: mqtt://127.0.0.1:1883 (default) or mqtts://host:8883")
    p.add_argument("--pki", type=Path, help="directory with ca.pem, fleet.pem, fleet.key "
                   "(python -m fleet.pki); or give --ca/--cert/--key")
    p.add_argument("--ca")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--share-group", help="shared subscription group (default fleet)")
    p.add_argument("--worker", help="this worker's MQTT client id (unique per worker)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk-fleet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="the REST API (and the console), with one ingest "
                           "worker and the alarm timer")
    _common(serve)
    _mqtt(serve)
    serve.add_argument("--listen", help="HOST:PORT (default 127.0.0.1:8800; port 0 = any "
                       "free port, printed)")
    serve.add_argument("--no-ingest", action="store_true", help="API only")
    serve.add_argument("--command-key", help="Ed25519 key that signs commands "
                       "(python -m fleet.commands new-key)")
    serve.add_argument("--evaluation-key", help="X25519 key that opens real-name parts "
                       "(python -m fleet.keys new-evaluation-key)")

    ingest = sub.add_parser("ingest", help="one ingest worker on the shared subscription")
    _common(ingest)
    _mqtt(ingest)

    migrate = sub.add_parser("migrate", help="create or upgrade the database schema")
    _common(migrate)

    token = sub.add_parser("token", help="API tokens")
    tsub = token.add_subparsers(dest="action", required=True)
    tc = tsub.add_parser("create", help="create a bearer token (printed once)")
    _common(tc)
    tc.add_argument("--role", required=True, choices=("viewer", "operator", "evaluator",
                                                      "admin"))
    tc.add_argument("--name", required=True)
    tc.add_argument("--region", default="", help="region code prefix it is limited to")
    tr = tsub.add_parser("revoke")
    _common(tr)
    tr.add_argument("--name", required=True)

    user = sub.add_parser("user", help="console users")
    usub = user.add_subparsers(dest="action", required=True)
    uc = usub.add_parser("create", help="create a user; the password is read from stdin "
                         "(or prompted on a terminal)")
    _common(uc)
    uc.add_argument("--username", required=True)
    uc.add_argument("--role", required=True, choices=("viewer", "operator", "evaluator",
                                                      "admin"))
    uc.add_argument("--region", default="")

    sim = sub.add_parser("simulate", help="publish realistic traffic for N terminals")
    sim.add_argument("--terminals", type=int, default=200)
    sim.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    sim.add_argument("--pki", type=Path, help="CA dir with one client certificate per "
                     "terminal (created if missing) for mqtts://")
    sim.add_argument("--seconds", type=float, default=0, help="0 = until interrupted")
    sim.add_argument("--health-interval", type=float, default=60.0)
    sim.add_argument("--rate", type=float, default=0.05,
                     help="sessions per terminal per second")
    sim.add_argument("--region", action="append", default=[],
                     help="region codes to spread terminals over (repeat)")
    sim.add_argument("--prefix", default="SIM")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--records", type=int, default=0,
                     help="load test: exactly this many ratings + session events per "
                     "terminal, then print the totals and stop")
    _console_commands(sub)
    from fleet.enrolment.cli import register as enrolment_commands

    enrolment_commands(sub)  # enrol-token create, ca sign, terminal revoke (issue #13)
    return parser


def _console_commands(sub: Any) -> None:
    """``kiosk-fleet demo`` and other console commands live with the console:
    ``fleet.console.cli.register(subparsers)`` adds them, each setting ``func`` (args → int)."""
    import importlib

    try:
        module = importlib.import_module("fleet.console.cli")
    except ModuleNotFoundError as exc:
        if exc.name in ("fleet.console", "fleet.console.cli"):
            return
        raise
    module.register(sub)


def settings_from(args: argparse.Namespace) -> Any:
    from fleet.settings import Settings

    overrides: dict[str, Any] = {"db": getattr(args, "db", None)}
    if hasattr(args, "mqtt"):
        overrides.update(mqtt=args.mqtt, share_group=args.share_group, worker=args.worker)
        if args.pki:
            overrides.update(mqtt_ca=str(args.pki / "ca.pem"),
                             mqtt_cert=str(args.pki / "fleet.pem"),
                             mqtt_key=str(args.pki / "fleet.key"))
        overrides.update({k: v for k, v in (("mqtt_ca", args.ca), ("mqtt_cert", args.cert),
                                            ("mqtt_key", args.key)) if v})
    if getattr(args, "command", "") == "serve":
        overrides.update(listen=args.listen, command_key_file=args.command_key,
                         evaluation_key_file=args.evaluation_key)
        if args.no_ingest:
            overrides["ingest"] = False
    return Settings.load(getattr(args, "config", None), **overrides)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from drivers.logsetup import setup_logging  # the personal-data filter on every handler

    setup_logging("DEBUG" if args.verbose else "INFO")
    if callable(getattr(args, "func", None)):
        return int(args.func(args))
    if args.command == "simulate":
        from fleet.simulate import run_from_args

        return run_from_args(args)
    try:
        settings = settings_from(args)
    except ValidationError as exc:
        for err in exc.errors():
            print(f"kiosk-fleet: {'.'.join(str(x) for x in err['loc'])}: {err['msg']}",
                  file=sys.stderr)
        return 2
    if args.command == "serve":
        from fleet.server import serve

        return serve(settings)
    if args.command == "ingest":
        from fleet.server import run_ingest

        return run_ingest(settings)
    from fleet.auth import Invalid, NotFound
    from fleet.db import Database
    from fleet.services import users

    db = Database(settings.db)
    db.upgrade()
    try:
        if args.command == "migrate":
            print(f"database at the newest schema: {settings.db.split('@')[-1]}")
        elif args.command == "token" and args.action == "create":
            with db.session() as session:
                row, secret = users.create_token(session, args.name, args.role, args.region)
            print(secret)
            print(f"token {row.name!r}: role {row.role}"
                  f"{', region ' + row.region_prefix if row.region_prefix else ''}; "
                  "shown once, stored hashed", file=sys.stderr)
        elif args.command == "token" and args.action == "revoke":
            with db.session() as session:
                users.revoke_token(session, args.name)
        elif args.command == "user":
            password = _read_password()
            with db.session() as session:
                user = users.create_user(session, args.username, password, args.role,
                                         args.region)
            print(f"user {user.username!r} created: role {user.role}"
                  f"{', region ' + user.region_prefix if user.region_prefix else ''}")
    except (Invalid, NotFound) as exc:
        print(f"kiosk-fleet: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise SystemExit("kiosk-fleet: the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


if __name__ == "__main__":
    raise SystemExit(main())

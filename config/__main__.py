"""Technician helpers without the kiosk: ``python -m config <command>``.

    python -m config check --profile hall --config /etc/aishandong-kiosk/terminal.toml
    python -m config show --profile hall            # effective config, with sources
    python -m config profiles
    python -m config hash-pin                       # asks for the PIN twice, prints the hash
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from config.errors import ConfigError
from config.loader import available_profiles, dump_config, load_config, profile_description
from config.pin import hash_pin


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m config", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("check", "validate the configuration"),
                       ("show", "print the effective configuration")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--profile", default="demo", help="site profile (default: demo)")
        command.add_argument("--config", type=Path, default=None, help="terminal config file")
        if name == "check":
            command.add_argument("--deploy", action="store_true",
                                 help="also refuse what must not run in the field")
    commands.add_parser("profiles", help="list the site profiles")
    commands.add_parser("hash-pin", help="hash a new maintenance PIN (read without echo)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "profiles":
        for name in available_profiles():
            print(f"{name:10} {profile_description(name)}")
        return 0
    if args.command == "hash-pin":
        pin = getpass.getpass("new maintenance PIN (4-12 digits): ")
        if pin != getpass.getpass("again: "):
            print("the two PINs differ", file=sys.stderr)
            return 1
        try:
            print(hash_pin(pin))
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 1
        return 0
    try:
        config = load_config(args.profile, args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "show":
        sys.stdout.write(dump_config(config))
        return 0
    from config.deploy import check_command

    return check_command(config, deploy=args.deploy, prog="kiosk-provision")


if __name__ == "__main__":
    raise SystemExit(main())

"""``kiosk-provision init``: write this terminal's config, asked for or given as flags.

    kiosk-provision init                                   # asks, with the current values
    kiosk-provision init --yes --profile bank --terminal-id JN-CCB-LX-0003 \\
        --site 建行历下支行 --region 370102 --lat 36.66 --lon 117.05 \\
        --hours "mon-fri 09:00-17:00" --hours "sat 09:00-12:00" \\
        --device idcard=sam:/dev/ttyUSB0 --device printer=escpos:usb://0x0416:0x5011 \\
        --platform-url https://zwfw.example/gw --out /etc/kiosk/kiosk.toml

Mass roll-out uses the flags with ``--yes`` (nothing is asked). ``--discover`` probes the serial
ports and takes the ID card reader and printer it finds. The file is validated by the kiosk's
own schema before it replaces the old one (kept as ``.bak``); the profile goes to
``/etc/kiosk/environment`` (``KIOSK_PROFILE=…``), which the systemd unit reads.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from provisioning import configfile

_HOURS = re.compile(r"^\s*(\S+)\s+(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})\s*$")
_DEVICE = re.compile(r"^(\w+)=(\w+)(?::(.*))?$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default=None, help="hall, bank or village")
    parser.add_argument("--out", type=Path, default=configfile.DEFAULT_PATH,
                        help=f"config file to write (default {configfile.DEFAULT_PATH})")
    parser.add_argument("--yes", action="store_true", help="ask nothing (mass roll-out)")
    parser.add_argument("--terminal-id")
    parser.add_argument("--name")
    parser.add_argument("--site")
    parser.add_argument("--region", help="6-digit 行政区划代码")
    parser.add_argument("--lat", type=float)
    parser.add_argument("--lon", type=float)
    parser.add_argument("--host", help="host organisation of a hosted terminal")
    parser.add_argument("--hours", action="append", default=None,
                        help='opening hours line "DAYS HH:MM-HH:MM", repeatable')
    parser.add_argument("--open-24h", action="store_true", default=None,
                        help="stands in a 24-hour self-service zone")
    parser.add_argument("--nearest-24h", help="where the nearest 24-hour zone is")
    parser.add_argument("--device", action="append", default=[],
                        help="KIND=TYPE[:URL], e.g. printer=escpos:tcp://10.0.0.5:9100")
    parser.add_argument("--discover", action="store_true",
                        help="probe serial ports and use the reader and printer found")
    parser.add_argument("--queue-url")
    parser.add_argument("--platform-url")
    parser.add_argument("--catalogue-url")
    parser.add_argument("--mqtt-url")


def parse_hours(lines: list[str]) -> list[dict[str, str]]:
    found = []
    for line in lines:
        match = _HOURS.match(line)
        if not match:
            raise ValueError(f'--hours {line!r}: write "DAYS HH:MM-HH:MM", e.g. '
                             '"mon-fri 09:00-17:00"')
        found.append({"days": match.group(1), "open": match.group(2),
                      "close": match.group(3)})
    return found


def parse_devices(specs: list[str]) -> dict[str, dict[str, Any]]:
    devices: dict[str, dict[str, Any]] = {}
    for spec in specs:
        match = _DEVICE.match(spec)
        if not match:
            raise ValueError(f"--device {spec!r}: write KIND=TYPE[:URL], e.g. "
                             "idcard=sam:/dev/ttyUSB0, or KIND=off")
        kind, kind_type, url = match.groups()
        if kind_type == "off":
            devices[kind] = {"enabled": False}
        else:
            devices[kind] = {"enabled": True, "type": kind_type, **({"url": url} if url else {})}
    return devices


def discovered_devices(time_limit_s: float = 4.0) -> dict[str, dict[str, Any]]:
    from provisioning.discover import discover

    devices: dict[str, dict[str, Any]] = {}
    for item in discover([], scan_system=True, time_limit_s=time_limit_s):
        if item.kind in ("idcard", "printer", "smartcard", "camera") and item.kind not in devices:
            entry: dict[str, Any] = {"enabled": True, "type": item.type}
            if item.kind != "smartcard":
                entry["url"] = item.port
            if item.kind == "idcard" and item.baudrate:
                entry["options"] = {"baudrate": item.baudrate}
            if item.kind == "printer" and item.baudrate and item.port.startswith("/"):
                entry["options"] = {"baudrate": item.baudrate}
            devices[item.kind] = entry
    return devices


def _ask(question: str, current: Any, yes: bool) -> Any:
    if yes:
        return current
    from rich.prompt import Prompt

    answer = Prompt.ask(question, default="" if current is None else str(current))
    return answer if answer != "" else current


def gather(args: argparse.Namespace, current: dict[str, Any]) -> dict[str, Any]:
    """The changes to write: flags first, then (unless ``--yes``) questions for the rest."""
    term = dict(current.get("terminal", {}))
    yes = args.yes
    answers = {
        "id": args.terminal_id or _ask("终端编号 terminal id", term.get("id"), yes),
        "name": args.name or _ask("终端名称 name", term.get("name"), yes),
        "site": args.site or _ask("所在场所 site", term.get("site"), yes),
        "region_code": args.region or _ask("行政区划代码 region code", term.get("region_code"),
                                           yes),
        "host": args.host if args.host is not None else _ask(
            "托管单位 host (empty in a government hall)", term.get("host"), yes),
    }
    for key, flag in (("latitude", args.lat), ("longitude", args.lon)):
        value = flag if flag is not None else _ask(key, term.get(key), yes)
        if value not in (None, ""):
            answers[key] = float(value)
    if args.hours is not None:
        answers["opening_hours"] = parse_hours(args.hours)
    elif not yes:
        text = _ask('开放时间 opening hours ("mon-fri 09:00-17:00; sat 09:00-12:00", '
                    'empty = 24 h)', "", yes)
        if text:
            answers["opening_hours"] = parse_hours([p for p in text.split(";") if p.strip()])
    if args.open_24h is not None:
        answers["open_24h"] = True
    if args.nearest_24h is not None:
        answers["nearest_24h_zone"] = args.nearest_24h
    changes: dict[str, Any] = {"terminal": {k: v for k, v in answers.items()
                                            if v not in (None, "") or k == "host"}}
    devices = discovered_devices() if args.discover else {}
    devices.update(parse_devices(args.device))
    if devices:
        changes["devices"] = devices
    backends = {}
    for name, url in (("queue", args.queue_url), ("platform", args.platform_url)):
        if url:
            backends[name] = {"type": "http", "url": url}
    if backends:
        changes["backends"] = backends
    if args.catalogue_url:
        changes["catalogue"] = {"url": args.catalogue_url}
    if args.mqtt_url:
        changes["mqtt"] = {"enabled": True, "url": args.mqtt_url}
    return changes


def run(args: argparse.Namespace) -> int:
    from config.errors import ConfigError

    current = configfile.read(args.out)
    try:
        changes = gather(args, current)
        path = configfile.update(args.out, changes, args.profile)
    except ValueError as exc:
        print(f"kiosk-provision init: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"kiosk-provision init: not written, the result would not load:\n{exc}",
              file=sys.stderr)
        return 2
    if args.profile:
        env = path.parent / "environment"
        env.write_text(f"KIOSK_PROFILE={args.profile}\nKIOSK_CONFIG={path}\n", encoding="utf-8")
    print(f"wrote {path} (previous kept as {path.name}.bak); next: kiosk-provision enrol, "
          f"then kiosk config check --deploy --profile {args.profile or 'PROFILE'} "
          f"--config {path}")
    return 0

"""``kiosk-provision``: technician tooling that works without the touch UI.

    kiosk-provision devices                       what backends exist, serial ports, PC/SC readers
    kiosk-provision discover [--port P] [--json]  find and identify what is attached
    kiosk-provision selftest [--print-report]     devices, camera, test page, fleet round trip, …
    kiosk-provision test idcard --url URL         read one ID card (masked output)
    kiosk-provision test sscard [--reader NAME]   read one social security card (masked output)
    kiosk-provision test printer --url URL        print the test page and report paper status
    kiosk-provision test scanner --url URL        wait for one scan (class and length only)
    kiosk-provision test camera --source SRC      frames per second and decodes
    kiosk-provision preview JOB.bin --out JOB.png render a captured ESC/POS job
    kiosk-provision config check|show|profiles    the configuration, as the kiosk will load it
    kiosk-provision hash-pin                      hash a new maintenance PIN
    kiosk-provision init [--yes --terminal-id …]  write the terminal's config (validated, .bak)
    kiosk-provision enrol --fleet URL --token T   key pair, CSR, certificate; config updated
    kiosk-provision diagnostics --out F.tar.gz    support bundle (no personal data)
    kiosk-provision reset --factory [--force]     wipe the terminal (unsent ratings exported)
    kiosk-provision install [--root DIR]          the systemd unit, session launcher, log rotation

Every check imports its driver only when asked, so a missing optional package is reported
with the pip command that installs it instead of breaking the whole tool.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

EXIT_BAD_ARGS = 3


def _check_module(name: str) -> Any:
    try:
        return importlib.import_module(f"provisioning.check_{name}")
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing == "provisioning":
            raise SystemExit(f"kiosk-provision: the {name} check is not available in this "
                             "version") from exc
        raise SystemExit(f"kiosk-provision: the {name} check needs the Python module "
                         f"{missing!r}; install the project's extras: pip install "
                         "'aishandong-kiosk[all]'") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk-provision",
                                     description="爱山东 kiosk technician tooling")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("devices", help="list backends, serial ports and PC/SC readers")

    discover = sub.add_parser("discover", help="find and identify attached devices (probes "
                              "serial ports with the drivers' own status commands)")
    discover.add_argument("--port", action="append", default=[],
                          help="also probe this port: a path (a pty too) or socket://host:port "
                               "/ tcp://host:port; repeatable")
    discover.add_argument("--only", action="store_true",
                          help="probe only the --port values (no system scan)")
    discover.add_argument("--time-limit", type=float, default=4.0,
                          help="seconds per port (default 4)")
    discover.add_argument("--json", action="store_true")

    selftest = sub.add_parser("selftest", aliases=["self-test"],
                              help="devices, broker, servers, clock, disk, font: pass/fail")
    _config_args(selftest)
    selftest.add_argument("--print-report", action="store_true",
                          help="print the report on the receipt printer")
    selftest.add_argument("--wait-input", type=float, default=0.0, metavar="S",
                          help="wait up to S seconds for a card, a scan and a pad press")
    selftest.add_argument("--wait", type=float, default=5.0,
                          help="seconds to wait for devices to become ready (default 5)")
    selftest.add_argument("--no-test-page", action="store_true",
                          help="do not print the printer's test page (status only)")
    selftest.add_argument("--echo-wait", type=float, default=10.0, metavar="S",
                          help="seconds to wait for the fleet's echo (default 10)")
    selftest.add_argument("--json", action="store_true")

    test = sub.add_parser("test", help="exercise one peripheral")
    kinds = test.add_subparsers(dest="kind", required=True)
    idcard = kinds.add_parser("idcard", help="read one ID card")
    idcard.add_argument("--url", required=True, help="e.g. /dev/ttyUSB0 or socket://host:port")
    idcard.add_argument("--baudrate", type=int, default=115200)
    idcard.add_argument("--timeout", type=float, default=10.0)
    idcard.add_argument("--json", action="store_true")
    sscard = kinds.add_parser("sscard", help="read one social security card over PC/SC")
    sscard.add_argument("--reader", default=None, help="part of the reader's name")
    sscard.add_argument("--timeout", type=float, default=15.0)
    sscard.add_argument("--json", action="store_true")
    printer = kinds.add_parser("printer", help="print the test page")
    printer.add_argument("--url", required=True,
                         help="tcp://host:9100, usb://0xVVVV:0xPPPP or a serial port")
    printer.add_argument("--paper-width-mm", "--width", dest="width", type=int,
                         choices=(58, 80), default=None,
                         help="paper width; default: devices.printer.options.paper_width_mm of "
                              "--profile/--config, else the driver's 58 mm")
    printer.add_argument("--profile", default=None, help="take the width from this profile")
    printer.add_argument("--config", type=Path, default=None,
                         help="take the width from this config file")
    printer.add_argument("--encoding", default="gb18030",
                         choices=("gb18030", "gbk", "gbk_fs", "utf8"))
    printer.add_argument("--baudrate", type=int, default=None)
    printer.add_argument("--terminal-id", default="", help="printed on the page")
    printer.add_argument("--json", action="store_true")
    scanner = kinds.add_parser("scanner", help="wait for one scan")
    scanner.add_argument("--url", required=True)
    scanner.add_argument("--timeout", type=float, default=30.0)
    scanner.add_argument("--json", action="store_true")
    camera = kinds.add_parser("camera", help="measure frame rate and decodes")
    camera.add_argument("--source", required=True, help="device index, file or URL")
    camera.add_argument("--seconds", type=float, default=5.0)
    camera.add_argument("--json", action="store_true")

    preview = sub.add_parser("preview", help="render a captured ESC/POS job to PNG")
    preview.add_argument("job", type=Path)
    preview.add_argument("--out", type=Path, required=True)
    preview.add_argument("--paper-width-mm", "--width", dest="width", type=int,
                         choices=(58, 80), default=58, help="paper width (default 58)")

    cfg = sub.add_parser("config", help="check or show the configuration")
    cfg.add_argument("action", choices=("check", "show", "profiles"))
    _config_args(cfg)
    cfg.add_argument("--deploy", action="store_true",
                     help="check: also refuse what must not run in the field")

    sub.add_parser("hash-pin", help="hash a new maintenance PIN (asked without echo)")

    init = sub.add_parser("init", help="write this terminal's config (asks, or flags for "
                          "mass roll-out)")
    from provisioning.init import add_arguments as init_arguments

    init_arguments(init)

    enrol = sub.add_parser("enrol", help="enrol with the fleet: key pair, CSR, certificate")
    _config_args(enrol, config_default=None)
    enrol.add_argument("--fleet", help="fleet server URL, e.g. https://fleet.example")
    enrol.add_argument("--token", help="the one-time token (kiosk-fleet enrol-token create)")
    enrol.add_argument("--fleet-ca", help="CA file to trust for the fleet's HTTPS")
    enrol.add_argument("--terminal", help="terminal id (default: terminal.id of the config)")
    enrol.add_argument("--pki-dir", help="where key and certificates go (default: pki/ next "
                       "to the config file)")
    enrol.add_argument("--csr-out", help="offline: write the CSR here and stop")
    enrol.add_argument("--install", help="offline: install the file from kiosk-fleet ca sign")

    diagnostics = sub.add_parser("diagnostics", help="a support bundle without personal data")
    _config_args(diagnostics)
    diagnostics.add_argument("--out", type=Path, required=True, help="FILE.tar.gz to write")
    diagnostics.add_argument("--no-devices", action="store_true",
                             help="do not open the devices (the kiosk is running)")

    reset = sub.add_parser("reset", help="factory reset: wipe the terminal's data")
    _config_args(reset)
    reset.add_argument("--factory", action="store_true", required=True,
                       help="wipe data, logs, enrolment and the terminal's config file")
    reset.add_argument("--force", action="store_true",
                       help="even with unsent ratings: they are exported first")
    reset.add_argument("--export", type=Path, default=None,
                       help="where --force writes the unsent records (JSON lines)")

    install = sub.add_parser("install", help="install the systemd unit, session launcher and "
                             "log rotation (deploy/)")
    install.add_argument("--profile", default="hall", help="site profile the service runs")
    install.add_argument("--user", default="kiosk", help="the service's own user")
    install.add_argument("--root", default="/", help="write under this folder instead of / "
                         "(no useradd, no systemctl)")
    install.add_argument("--enable", action="store_true", help="enable the service at boot")
    return parser


def _config_args(parser: argparse.ArgumentParser, config_default: Path | None = None) -> None:
    import os

    parser.add_argument("--profile", default=os.environ.get("KIOSK_PROFILE", "demo"))
    parser.add_argument("--config", type=Path, default=config_default)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "devices":
        return _devices()
    if args.command == "init":
        from provisioning.init import run as run_init

        return run_init(args)
    if args.command == "enrol":
        from provisioning.enrol import run as run_enrol

        return run_enrol(args)
    if args.command in ("diagnostics", "reset"):
        config = _load(args)
        if config is None:
            return 2
        if args.command == "diagnostics":
            from provisioning.diagnostics import run as run_diagnostics

            return run_diagnostics(config, args.out, with_devices=not args.no_devices)
        from provisioning.reset import run as run_reset

        return run_reset(config, args.config, args.force, args.export)
    if args.command == "install":
        from provisioning.install import run as run_install

        return run_install(args.root, args.profile, args.user, args.enable)
    if args.command == "discover":
        from provisioning.discover import run as run_discover

        return run_discover(args.port, args.json, scan_system=not args.only,
                            time_limit_s=args.time_limit)
    if args.command in ("selftest", "self-test"):
        config = _load(args)
        if config is None:
            return 2
        from provisioning.selftest import run as run_selftest

        return run_selftest(config, args.json, args.print_report, args.wait, args.wait_input,
                            not args.no_test_page, args.echo_wait)
    if args.command == "preview":
        return _check_module_preview().run(args.job, args.out, paper_width_mm=args.width)
    if args.command in ("config", "hash-pin"):
        from config.__main__ import main as config_main

        forwarded = ["hash-pin"] if args.command == "hash-pin" else [args.action]
        if args.command == "config" and args.action != "profiles":
            forwarded += ["--profile", args.profile]
            if args.config is not None:
                forwarded += ["--config", str(args.config)]
            if args.action == "check" and args.deploy:
                forwarded.append("--deploy")
        return config_main(forwarded)
    return _test(args)


def _check_module_preview() -> Any:
    return importlib.import_module("provisioning.preview")


def _test(args: argparse.Namespace) -> int:
    kind = args.kind
    if kind == "idcard":
        return _check_module("idcard").run(args.url, args.json, args.timeout,
                                           baudrate=args.baudrate)
    if kind == "sscard":
        return _check_module("sscard").run(args.reader, args.json, args.timeout)
    if kind == "printer":
        options: dict[str, Any] = {"paper_width_mm": _paper_width(args),
                                   "encoding": args.encoding}
        if args.baudrate:
            options["baudrate"] = args.baudrate
        if args.terminal_id:
            options["terminal_id"] = args.terminal_id
        return _check_module("printer").run(args.url, options, args.json)
    if kind == "scanner":
        return _check_module("scanner").run(args.url, args.json, args.timeout)
    if kind == "camera":
        return _check_module("camera").run(args.source, args.json, args.seconds)
    return EXIT_BAD_ARGS


def _load(args: argparse.Namespace) -> Any:
    from config.errors import ConfigError
    from config.loader import load_config

    try:
        return load_config(args.profile, args.config)
    except ConfigError as exc:
        print(f"kiosk-provision: configuration rejected:\n{exc}", file=sys.stderr)
        return None


def _paper_width(args: argparse.Namespace) -> int:
    """``--paper-width-mm``, else the configured printer's, else the driver's default."""
    if args.width:
        return int(args.width)
    if args.profile or args.config:
        from config.errors import ConfigError
        from config.loader import load_config

        try:
            config = load_config(args.profile, args.config)
        except ConfigError as exc:
            raise SystemExit(f"kiosk-provision: configuration rejected:\n{exc}") from exc
        width = config.devices.printer.options.get("paper_width_mm")
        if width:
            return int(width)
    from drivers.printer.encoder import ENCODER_OPTIONS

    return int(ENCODER_OPTIONS["paper_width_mm"].default)


def _devices() -> int:
    from drivers.registry import KINDS, backend_types

    print("device backends (config: devices.<kind>.type):")
    for kind in KINDS:
        print(f"  {kind:10} {', '.join(backend_types(kind))}")
    try:
        from serial.tools import list_ports

        ports = list(list_ports.comports())
        print("serial ports:")
        for port in ports:
            print(f"  {port.device:20} {port.description}")
        if not ports:
            print("  (none found)")
    except ImportError:
        print("serial ports: pyserial is not installed (pip install 'aishandong-kiosk[serial]')")
    try:
        from smartcard.System import readers

        names = [str(r) for r in readers()]
        print("PC/SC readers:")
        for name in names:
            print(f"  {name}")
        if not names:
            print("  (none found)")
    except ImportError:
        print("PC/SC readers: pyscard is not installed (pip install 'aishandong-kiosk[smartcard]')")
    except Exception as exc:  # pcscd not running
        print(f"PC/SC readers: cannot ask pcscd ({exc}); is the pcscd service running?")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

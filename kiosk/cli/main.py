"""``kiosk``: run the terminal, play the headless demo, check and show the config."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from config.errors import ConfigError
from config.loader import available_profiles, dump_config, load_config


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--size wants WIDTHxHEIGHT, e.g. 1920x1080, not {text!r}"
                                         ) from exc
    return width, height


def _kinds(text: str) -> frozenset[str]:
    from kiosk.devices.simulation import EMULATABLE

    kinds = frozenset(k.strip() for k in text.split(",") if k.strip())
    unknown = kinds - set(EMULATABLE)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"cannot emulate {', '.join(sorted(unknown))}; choose from {', '.join(EMULATABLE)}")
    return kinds


def _config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default=os.environ.get("KIOSK_PROFILE", "demo"),
                        help=f"site profile: {', '.join(available_profiles())} (default: demo)")
    parser.add_argument("--config", type=Path, default=None,
                        help="a TOML file whose keys override the profile")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="爱山东 self-service terminal")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the kiosk")
    _config_args(run)
    run.add_argument("--size", type=_size,
                     help="window size, e.g. 1080x1920 (overrides ui.width/height)")
    run.add_argument("--fullscreen", action="store_true", default=None)
    run.add_argument("--emulate", type=_kinds, default=frozenset(),
                     help="run these devices on their wire-protocol emulators, e.g. "
                          "idcard,printer (real drivers, simulated hardware)")

    demo = sub.add_parser("demo", help="play a scripted resident session and take screenshots")
    _config_args(demo)
    demo.add_argument("--headless", action="store_true",
                      help="use a private Xvfb when there is no DISPLAY")
    demo.add_argument("--out", type=Path, required=True, help="folder for screenshots and log")
    demo.add_argument("--size", type=_size, default=(1920, 1080))
    demo.add_argument("--emulate", type=_kinds, default=frozenset(),
                      help="as for run: e.g. idcard,printer")

    from kiosk.soak.cli import add_cli as add_soak_cli

    add_soak_cli(sub, _config_args, _size, _kinds)  # kiosk soak --sessions N …

    bench = sub.add_parser("bench", help="run the benchmarks and print their figures")
    bench.add_argument("-k", dest="keyword", default="",
                       help="only benchmarks whose name matches (pytest -k)")

    cfg = sub.add_parser("config", help="check or show the effective configuration")
    cfg.add_argument("action", choices=("check", "show"))
    _config_args(cfg)
    cfg.add_argument("--deploy", action="store_true",
                     help="also refuse what must not run in the field: simulated devices, the "
                          "demo PIN and keys, the sample platform, plain MQTT, no evaluation key")

    from kiosk.catalogue.cli import add_cli as add_catalogue_cli
    from kiosk.queue.cli import add_cli as add_queue_cli

    add_queue_cli(sub)  # kiosk queue serve|status|call|…: the hall server and window staff
    add_catalogue_cli(sub, _config_args)  # kiosk catalogue search|show|build|verify|serve
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from kiosk.cli.logging_setup import setup_logging

    setup_logging("WARNING")  # every command logs through the personal-data filter; run: a file
    if args.command == "bench":
        return _bench(args.keyword)
    if args.command == "queue":  # loads the config itself (--profile/--config/--settings)
        from kiosk.queue.cli import run as run_queue

        return run_queue(args)
    if args.command == "catalogue" and not getattr(args, "catalogue_needs_config", True):
        return args.catalogue_run(args, None)
    try:
        config = load_config(args.profile, args.config)
    except ConfigError as exc:
        print(f"kiosk: configuration rejected:\n{exc}", file=sys.stderr)
        return 2
    if args.command == "catalogue":
        return args.catalogue_run(args, config)
    if args.command == "config":
        if args.action == "show":
            print(dump_config(config))
            return 0
        from config.deploy import check_command

        return check_command(config, deploy=args.deploy, prog="kiosk")
    if args.command == "run":
        return _run(config, args)
    if args.command == "soak":
        from kiosk.soak.cli import run as run_soak

        return run_soak(config, args)
    if args.command == "demo":
        from kiosk.cli.demo import run_demo

        log = run_demo(config, args.out, size=args.size, headless=args.headless,
                       emulate=args.emulate)
        print(json.dumps({"screenshots": len(log["screenshots"]), "out": str(args.out),
                          "data": str(args.out / "data"),  # its own, never the terminal's
                          "max_frame_ms": log["max_frame_ms"]}, ensure_ascii=False))
        return 0 if log["ok"] else 1
    return 2


def _startup_errors() -> tuple[type[BaseException], ...]:
    """Start-up failures that are the site's set-up, not a bug: shown as one plain line."""
    from drivers.base import DeviceError
    from kiosk.devices.simulation import SimulationError
    from kiosk.telemetry.reporter import ReporterError

    return (ReporterError, DeviceError, SimulationError, ValueError, OSError)


def bench_folder() -> Path:
    """``tests/bench`` of the source checkout this package runs from (kiosk/cli/main.py is
    three levels below the checkout's root)."""
    return Path(__file__).resolve().parents[2] / "tests" / "bench"


def _bench(keyword: str) -> int:
    """Benchmarks live beside the tests (tests/bench/bench_*.py); they print their figures."""
    import subprocess

    folder = bench_folder()
    root = folder.parent.parent
    if not folder.is_dir():
        print("kiosk bench: run it from a source checkout (tests/bench/ not found)",
              file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
               "-o", "python_files=bench_*.py", "-m", "bench", str(folder)]
    if keyword:
        command += ["-k", keyword]
    env = dict(os.environ, KIOSK_BENCH="1", BENCH="1")
    return subprocess.call(command, cwd=root, env=env)


def _run(config, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    import gc

    # start-up makes many objects and frees few: no cyclic collections until the app has built
    # its screens (screens.app.KioskApp._build_rest freezes that heap and turns them back on)
    gc.disable()
    from config.deploy import startup_refusals
    from kiosk.cli.logging_setup import setup_logging

    refusals = startup_refusals(config)
    if refusals:
        print(f"kiosk: cannot start: profile {config.profile} runs only with real devices and "
              "keys (`kiosk config check --deploy` lists the same):", file=sys.stderr)
        for refusal in refusals:
            print(f"  {refusal}", file=sys.stderr)
        return 2

    storage = config.storage
    setup_logging(storage.log_level, Path(storage.log_dir).expanduser())
    width, height = args.size or (config.ui.width, config.ui.height)
    fullscreen = config.ui.fullscreen if args.fullscreen is None else args.fullscreen

    from screens.bootstrap import prepare_kivy

    prepare_kivy(width, height, fullscreen=fullscreen, show_cursor=config.ui.show_cursor)
    from kiosk.core import build_kiosk
    from screens.app import KioskApp

    try:
        kiosk = build_kiosk(config, emulate=args.emulate)
        if kiosk.reporter is not None:
            kiosk.reporter.check()
    except _startup_errors() as exc:
        print(f"kiosk: cannot start: {exc}", file=sys.stderr)
        return 2
    app = KioskApp(kiosk)
    app.run()
    return app.exit_status  # 75 after a remote "restart": the supervisor starts it again


if __name__ == "__main__":
    raise SystemExit(main())

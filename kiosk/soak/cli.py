"""The ``kiosk soak`` subcommand (kept here so that kiosk/cli/main.py only wires it)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_cli(sub: Any, config_args: Callable[[argparse.ArgumentParser], None],
            size: Callable[[str], tuple[int, int]], kinds: Callable[[str], frozenset[str]]
            ) -> None:
    soak = sub.add_parser(
        "soak", help="play N randomised sessions through the real screens and report memory, "
                     "threads, file descriptors, database sizes and frame times")
    config_args(soak)
    soak.add_argument("--sessions", type=_positive, default=100,
                      help="sessions measured after the warm-up (default 100)")
    soak.add_argument("--warmup", type=_positive, default=20,
                      help="sessions played first, not measured (caches fill; default 20)")
    soak.add_argument("--every", type=_positive, default=100,
                      help="take a sample every so many sessions (default 100)")
    soak.add_argument("--seed", type=int, default=17, help="random seed (default 17)")
    soak.add_argument("--size", type=size, default=(1280, 800))
    soak.add_argument("--emulate", type=kinds, default=frozenset(),
                      help="run these devices on their wire-protocol emulators, e.g. "
                           "idcard,printer")
    soak.add_argument("--fleet", action="store_true",
                      help="report to a real mosquitto (TLS) that goes down and comes back")
    soak.add_argument("--no-trace", dest="trace", action="store_false",
                      help="without tracemalloc: no heap figures, but frame times are judged "
                           "(tracing slows every allocation, so a traced run reports frame "
                           "times without holding them to the target)")
    soak.add_argument("--data-dir", type=Path, default=None,
                      help="keep the terminal's databases here (default: a temporary folder)")
    soak.add_argument("--wall-clock", action="store_true",
                      help="hold wall-clock UI work per frame to the 100 ms target too (a quiet "
                           "machine); by default the UI thread's CPU time per frame is checked")
    soak.add_argument("--json", action="store_true", help="print the report as JSON")
    soak.add_argument("--plot", type=Path, default=None, help="write the figures as a PNG")
    soak.add_argument("--samples", type=Path, default=None,
                      help="append every sample to this file as it is taken (JSON lines), so "
                           "that a run stopped early still leaves its figures")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"wants a whole number of at least 1, not {text!r}")
    return value


def run(config: Any, args: argparse.Namespace) -> int:
    from kiosk.soak.runner import SoakOptions, Targets, run_soak

    options = SoakOptions(sessions=args.sessions, warmup=args.warmup, every=args.every,
                          seed=args.seed, size=args.size, emulate=args.emulate,
                          fleet=args.fleet, trace=args.trace, data_dir=args.data_dir,
                          targets=Targets(wall_clock=args.wall_clock))

    def progress(sample: Any) -> None:
        if args.samples is not None:
            with args.samples.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(sample.as_dict(), ensure_ascii=False) + "\n")
        print(f"soak: {sample.sessions:5d} sessions  RSS {sample.rss_mb:7.1f} MB  heap "
              f"{sample.heap_mb:6.1f} MB  threads {sample.threads:3d}  fds {sample.fds:4d}  "
              f"max UI work {sample.max_ui_work_ms:6.1f} ms (CPU {sample.max_ui_cpu_ms:5.1f} ms)  "
              f"stalls {sample.stalls}",
              file=sys.stderr, flush=True)

    report = run_soak(config, options, progress=progress)
    if args.plot is not None:
        from kiosk.soak.plot import write_plot

        report["plot"] = str(write_plot(report, args.plot))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(f"soak: {report['sessions']} sessions in {report['seconds']} s; RSS growth "
              f"{report['rss_growth_mb']} MB, threads {report['threads_growth']:+d}, fds "
              f"{report['fds_growth']:+d}, max UI work {report['max_ui_work_ms']} ms, "
              f"SQLite {report['sqlite_kb']}")
        for violation in report["violations"]:
            print(f"soak: MISSED: {violation}")
    return 0 if report["ok"] else 1

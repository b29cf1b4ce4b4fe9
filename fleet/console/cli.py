"""``kiosk-fleet demo``: the console with a simulated fleet, its pages walked and photographed.

    kiosk-fleet demo --out demo-console            # screenshots + report.txt, then stops
    kiosk-fleet demo --out demo-console --keep     # ... and keeps serving until Ctrl-C

Everything runs on loopback in a throw-away folder (``DIR/stack``): mosquitto, ``kiosk-fleet
serve``, ``kiosk-fleet simulate``; users ``viewer``, ``operator``, ``evaluator`` and ``admin``
with the demo password printed at the start (the demo's database only).
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="start the server with a simulated fleet, walk the "
                          "console's pages and write their screenshots")
    demo.add_argument("--out", type=Path, required=True, help="folder for the screenshots")
    demo.add_argument("--terminals", type=int, default=24,
                      help="simulated terminals (plus one that is taken offline)")
    demo.add_argument("--keep", action="store_true",
                      help="keep the server running after the walk (Ctrl-C stops it)")
    demo.add_argument("--no-axe", action="store_true", help="skip the accessibility check")
    demo.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from playwright.sync_api import sync_playwright

    from fleet.console.stack import (
        PASSWORD,
        USERS,
        VICTIM,
        ConsoleStack,
        StackOptions,
        launch_chromium,
    )
    from fleet.console.walk import report, wait_for_data, wait_for_offline_alarm, walk

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    options = StackOptions(terminals=max(1, args.terminals))
    with ConsoleStack(out / "stack", options) as stack:
        print(f"console at {stack.url}  (users: {', '.join(USERS)}; password {PASSWORD})",
              flush=True)
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(locale="zh-CN")
            stack.login(page, "admin")
            print("waiting for the simulated terminals and a bad review ...", flush=True)
            wait_for_data(stack, page, terminals=options.terminals + 1)
            print(f"taking {VICTIM} off the network, so that the pages show an offline "
                  "terminal and its alarm ...", flush=True)
            stack.kill_terminal()
            wait_for_offline_alarm(stack, page)
            shots = walk(stack, page, out, check=not args.no_axe)
            browser.close()
        text = report(shots)
        (out / "report.txt").write_text(text + "\n", encoding="utf-8")
        print(text)
        print(f"{len(shots)} screenshots in {out}", flush=True)
        critical = sum(len(s.critical) for s in shots)
        if critical:
            print(f"axe-core: {critical} critical violations (see report.txt)", flush=True)
        if args.keep:
            print(f"serving {stack.url} until Ctrl-C", flush=True)
            done = threading.Event()
            signal.signal(signal.SIGINT, lambda *_: done.set())
            signal.signal(signal.SIGTERM, lambda *_: done.set())
            done.wait()
    return 1 if critical else 0

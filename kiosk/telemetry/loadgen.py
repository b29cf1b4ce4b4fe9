"""Produce ratings through the real reporter: for soak tests, benchmarks and the fleet lab.

    python -m kiosk.telemetry.loadgen --setup setup.json --count 5000 --rate 500

``setup.json`` holds ``{"config": {...KioskConfig...}, "fleet": {...FleetSettings...},
"outbox": "path", "progress": "path", "run": "name"}``. Rating ``i`` always gets the same
record id (``uuid5(run, i)``), and the index of the last stored rating is appended to the
progress file after each durable write, so a generator killed with SIGKILL and started again
continues where it was: a rating it produces twice has one id, and receivers keep it once.
After producing, it waits (``--linger``) for the outbox to drain, then stops cleanly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

from drivers.ratingpad.interface import LEVELS


def last_index(progress: Path) -> int:
    try:
        lines = progress.read_text().split()
    except OSError:
        return -1
    for line in reversed(lines):
        if line.isdigit():
            return int(line)
    return -1


def record_id(run: str, index: int) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"kiosk-loadgen:{run}:{index}").hex


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.telemetry.loadgen")
    parser.add_argument("--setup", type=Path, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.0, help="ratings per second (0 = max)")
    parser.add_argument("--linger", type=float, default=60.0,
                        help="seconds to wait for the outbox to drain at the end")
    args = parser.parse_args(argv)

    from config.schema import KioskConfig
    from kiosk.telemetry.reporter import Reporter
    from kiosk.telemetry.settings import FleetSettings

    setup = json.loads(args.setup.read_text())
    config = KioskConfig.model_validate(setup["config"])
    fleet = FleetSettings(**setup.get("fleet", {}))
    progress = Path(setup["progress"])
    run = setup.get("run", "load")
    reporter = Reporter(config, dict, setup["outbox"], fleet=fleet,
                        reconnect_delay=tuple(setup.get("reconnect_delay", (0.2, 1.0))))
    reporter.start()
    start = last_index(progress) + 1
    fd = os.open(progress, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    began = time.monotonic()
    try:
        for i in range(start, args.count):
            level = LEVELS[i % len(LEVELS)]
            reasons = ["等待时间长"] if level in ("dissatisfied", "very_dissatisfied") else []
            reporter.rate(item_code=f"LOAD-{i % 50:03d}", level=level, reasons=reasons,
                          handling_number=f"H{i:06d}", source="pad",
                          record_id=record_id(run, i))
            os.write(fd, f"{i}\n".encode())  # after the durable write
            if args.rate > 0:
                ahead = (i - start + 1) / args.rate - (time.monotonic() - began)
                if ahead > 0:
                    time.sleep(ahead)
        print(json.dumps({"produced_from": start, "count": args.count}), flush=True)
        drained = reporter.wait_drained(args.linger)
        print(json.dumps({"drained": drained, **reporter.status()["outbox"]}), flush=True)
    finally:
        os.close(fd)
        reporter.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

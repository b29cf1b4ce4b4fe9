"""Technician check of the code scanner: wait for one scan and say what it was
(``kiosk-provision test scanner --url URL [--json]``).

``URL`` is the serial scanner's port (``/dev/ttyACM0``, a pty path, ``socket://host:port``) or a
keyboard-wedge scanner's input device (``/dev/input/eventN``, ``/dev/input/by-id/...``,
``evdev:///dev/input/eventN``). Prints the class of the code (resident code, enterprise code,
business licence, ticket/receipt, URL, unknown) and its length; the content only when it is
not personal (a ticket number, a credit code, a URL's host). Nothing personal is printed.

Exit codes: 0 a code was read; 1 the scanner works but nothing was scanned in time; 2 the
scanner cannot be opened or failed; 3 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import threading
import time
from typing import Any, TextIO

from drivers.base import DeviceError, DeviceEvent, DeviceState, DeviceStateChanged
from drivers.scanner.interface import CodeScanned, Scanner
from kiosk.codes.classify import classify

OPEN_WAIT_S = 3.0


INPUT_MAJOR = 13  # Linux character-device major number of /dev/input/*


def _is_input_device(url: str) -> bool:
    """An evdev URL or path, an input character device, or a FIFO (the wedge emulator)."""
    if url.startswith(("/dev/input/", "evdev://")):
        return True
    try:
        info = os.stat(url)
    except (OSError, ValueError):
        return False
    if stat.S_ISFIFO(info.st_mode):
        return True
    return stat.S_ISCHR(info.st_mode) and os.major(info.st_rdev) == INPUT_MAJOR


def _open(url: str, baudrate: int, suffix: str, wedge: bool) -> Scanner:
    if wedge:
        from drivers.scanner.wedge_driver import WedgeScanner

        wedge_suffix = suffix if suffix in ("enter", "tab", "none") else "enter"
        return WedgeScanner(url, {"suffix": wedge_suffix})
    from drivers.scanner.serial_driver import SerialScanner

    return SerialScanner(url, {"baudrate": baudrate, "suffix": suffix})


def run(url: str, as_json: bool = False, timeout_s: float = 15.0, *, baudrate: int = 9600,
        suffix: str = "auto", kind: str = "auto", out: TextIO | None = None) -> int:
    """Wait up to ``timeout_s`` for one scan from the scanner at ``url``; print a report.

    ``kind`` is ``"serial"``, ``"wedge"`` or ``"auto"`` (an input device or FIFO is a wedge
    scanner, anything else a serial port).
    """
    out = out or sys.stdout
    if kind == "auto":
        kind = "wedge" if _is_input_device(url) else "serial"
    report: dict[str, Any] = {"url": url, "type": kind, "ok": False}
    if kind == "serial":
        report["baudrate"] = baudrate
    if not url or timeout_s <= 0 or kind not in ("serial", "wedge"):
        report["error"] = ("give the scanner's port or input device (--url), a positive "
                           "time-out and a kind of serial, wedge or auto")
        return _finish(report, 3, as_json, out)
    try:
        scanner = _open(url, baudrate, suffix, kind == "wedge")
    except DeviceError as exc:
        report["error"] = str(exc)
        return _finish(report, 3, as_json, out)

    scanned: list[CodeScanned] = []
    scanned_at: list[float] = []
    got_scan, state_changed = threading.Event(), threading.Event()

    def on_event(event: DeviceEvent) -> None:
        if isinstance(event, CodeScanned) and not scanned:
            scanned.append(event)
            scanned_at.append(time.monotonic())
            got_scan.set()
        elif isinstance(event, DeviceStateChanged):
            state_changed.set()

    scanner.subscribe(on_event)
    started = time.monotonic()
    scanner.start()
    try:
        deadline = started + min(OPEN_WAIT_S, timeout_s)
        while scanner.state is DeviceState.STARTING and time.monotonic() < deadline:
            state_changed.wait(0.05)
            state_changed.clear()
        if scanner.state is not DeviceState.READY:
            health = scanner.health()
            report["error"] = health.reason or "the scanner did not become ready"
            return _finish(report, 2, as_json, out)
        report["opened_ms"] = round((time.monotonic() - started) * 1000, 1)
        if not got_scan.wait(max(0.0, timeout_s - (time.monotonic() - started))):
            health = scanner.health()
            if health.state is not DeviceState.READY:
                report["error"] = f"the scanner failed while waiting: {health.reason}"
                return _finish(report, 2, as_json, out)
            report["error"] = (f"no code was scanned within {timeout_s:g} s: scan a QR code or "
                               "barcode (check the scanner's suffix and baud rate if it beeps "
                               "but nothing arrives)")
            report["dropped"] = _dropped(health.detail)
            return _finish(report, 1, as_json, out)
        event = scanned[0]
        classification = classify(event.payload)
        report.update(
            ok=True, code_class=classification.cls.value,
            code_label=classification.cls.label_zh, length=classification.length,
            personal=classification.sensitive,
            content=classification.shown if not classification.sensitive else None,
            waited_ms=round((scanned_at[0] - started) * 1000, 1),
            dropped=_dropped(scanner.health().detail))
        return _finish(report, 0, as_json, out)
    finally:
        scanner.stop()


def _dropped(detail: Any) -> dict[str, int]:
    return {key: int(detail.get(key, 0)) for key in ("noise", "overlong", "undecodable")
            if detail.get(key)}


def _finish(report: dict[str, Any], code: int, as_json: bool, out: TextIO) -> int:
    report["exit_code"] = code
    if as_json:
        out.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        return code
    where = f"{report['url']}" + (f" ({report['baudrate']} baud)" if "baudrate" in report else "")
    lines = [f"{report['type']} scanner at {where}"]
    if report["ok"]:
        lines.append(f"  code class:   {report['code_class']} ({report['code_label']})")
        lines.append(f"  length:       {report['length']} characters")
        if report["personal"]:
            lines.append("  content:      (personal: not shown)")
        elif report["content"]:
            lines.append(f"  content:      {report['content']}")
        if report.get("dropped"):
            dropped = ", ".join(f"{k} {v}" for k, v in report["dropped"].items())
            lines.append(f"  dropped:      {dropped}")
        lines.append("  result:       OK, a code was read")
    else:
        lines.append(f"  result:       FAILED: {report.get('error', 'unknown error')}")
    out.write("\n".join(lines) + "\n")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m provisioning.check_scanner",
                                     description="Wait for one scan to check the scanner.")
    parser.add_argument("--url", required=True, help="/dev/ttyACM0, socket://host:port, a pty "
                        "path, or /dev/input/eventN for a keyboard-wedge scanner")
    parser.add_argument("--json", action="store_true", help="machine-readable report")
    parser.add_argument("--timeout", type=float, default=15.0,
                        help="seconds to wait for a scan (default 15)")
    parser.add_argument("--baudrate", type=int, default=9600)
    parser.add_argument("--kind", default="auto", choices=("auto", "serial", "wedge"),
                        help="serial port or keyboard-wedge input device (default: guess)")
    parser.add_argument("--suffix", default="auto",
                        help="line end: auto, cr, lf, crlf, tab, none, or a literal like \\x03")
    args = parser.parse_args(argv)
    return run(args.url, args.json, args.timeout, baudrate=args.baudrate, suffix=args.suffix,
               kind=args.kind)


if __name__ == "__main__":
    sys.exit(main())

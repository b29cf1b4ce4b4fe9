"""Technician check of the ID card reader: talk to the SAM module and read one card
(``kiosk-provision test idcard --url URL [--json]``).

Prints the reader's SAM id, the card type, the *masked* name and ID number, the validity and
how long each step took. Errors are explained in plain words ("no card on the reader",
"checksum error: check the baud rate"...). Personal data is never printed unmasked.

Exit codes: 0 a card was read; 1 the reader works but no card was read (none placed, or it
could not be read); 2 no connection, no answer or a faulty security module; 3 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from typing import Any, TextIO

import serial

from drivers.idcard import decode
from drivers.idcard.client import (
    BadFrames,
    CardError,
    LinkError,
    NoAnswer,
    ReaderError,
    SamClient,
    SamFault,
)
from drivers.idcard.frames import ReplyDataError, Status
from drivers.privacy import mask_text

POLL_S = 0.25


def run(url: str, as_json: bool = False, timeout_s: float = 10.0, *, baudrate: int = 115200,
        out: TextIO | None = None) -> int:
    """Read one card from the reader at ``url`` within ``timeout_s``; print a report."""
    out = out or sys.stdout
    report: dict[str, Any] = {"url": url, "baudrate": baudrate, "ok": False, "timings_ms": {}}
    timings: dict[str, float] = report["timings_ms"]
    if not url or timeout_s <= 0:
        report["error"] = "give the reader's port (--url) and a positive time-out"
        return _finish(report, 3, as_json, out)
    started = time.perf_counter()
    try:
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.05, write_timeout=1.0)
    except (OSError, ValueError) as exc:
        report["error"] = f"cannot open the port: {exc}"
        return _finish(report, 2, as_json, out)
    timings["open"] = _ms(started)
    try:
        return _check(SamClient(port, timeout_s=1.0, card_timeout_s=3.0), report, timings,
                      timeout_s, as_json, out)
    finally:
        try:
            port.close()
        except (OSError, ValueError):
            pass


def _check(client: SamClient, report: dict[str, Any], timings: dict[str, float],
           timeout_s: float, as_json: bool, out: TextIO) -> int:
    step = time.perf_counter()
    try:
        try:
            client.status()
        except SamFault:
            client.reset()
            client.status()
        timings["status"] = _ms(step)
        step = time.perf_counter()
        report["sam_id"] = client.sam_id()
        timings["sam_id"] = _ms(step)
    except BadFrames:
        report["error"] = ("checksum error: check the baud rate (the reader normally runs at "
                           "115200) and the cable")
        return _finish(report, 2, as_json, out)
    except NoAnswer:
        report["error"] = ("the reader does not answer: check the cable, the port and the baud "
                           "rate, and that the reader has power")
        return _finish(report, 2, as_json, out)
    except LinkError as exc:
        report["error"] = f"the connection to the reader failed ({exc}): check the cable and port"
        return _finish(report, 2, as_json, out)
    except SamFault as exc:
        report["error"] = f"the reader is faulty: {exc}"
        return _finish(report, 2, as_json, out)
    except ReaderError as exc:
        report["error"] = f"the reader answered its status query with: {exc}"
        return _finish(report, 2, as_json, out)

    step = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    try:
        while not client.find():
            if time.monotonic() >= deadline:
                report["error"] = (f"{Status.NO_CARD.message}: place an ID card on the reader "
                                   f"within {timeout_s:g} s (a card that was just read must be "
                                   "lifted and placed again)")
                return _finish(report, 1, as_json, out)
            time.sleep(POLL_S)
        timings["find"] = _ms(step)
        step = time.perf_counter()
        client.select()
        timings["select"] = _ms(step)
        step = time.perf_counter()
        data = client.read_selected(address=True)
        timings["read"] = _ms(step)
    except (LinkError, SamFault) as exc:
        report["error"] = str(exc)
        return _finish(report, 2, as_json, out)
    except CardError as exc:
        report["error"] = f"the card could not be read: {exc}"
        return _finish(report, 1, as_json, out)
    except ReplyDataError as exc:
        report["error"] = exc.advice
        return _finish(report, 1, as_json, out)

    today = date.today()
    report.update(
        ok=True,
        card_type=data.card_type.value,
        card_label=data.card_type.label,
        name=data.masked_name,
        id_number=data.masked_id,
        gender=data.gender,
        address=mask_text(data.address) if data.address else "",
        appended_address=bool(data.appended_address),
        valid_to="长期" if data.valid_to is None else data.valid_to.isoformat(),
        expired=data.expired(today),
        problems=decode.problems(data, today),
        photo_bytes=len(data.photo_wlt),
    )
    return _finish(report, 0, as_json, out)


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


def _finish(report: dict[str, Any], code: int, as_json: bool, out: TextIO) -> int:
    report["exit_code"] = code
    if as_json:
        out.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        return code
    lines = [f"ID card reader at {report['url']} ({report['baudrate']} baud)"]
    if report.get("sam_id"):
        lines.append(f"  SAM id:       {report['sam_id']}")
    if report["ok"]:
        lines += [
            f"  card type:    {report['card_label']} ({report['card_type']})",
            f"  name:         {report['name']}",
            f"  ID number:    {report['id_number']}",
            f"  valid until:  {report['valid_to']}{'  (EXPIRED)' if report['expired'] else ''}",
            f"  photo:        {report['photo_bytes']} bytes (WLT)",
        ]
        for problem in report["problems"]:
            lines.append(f"  warning:      {problem}")
        lines.append("  result:       OK, the card was read")
    else:
        lines.append(f"  result:       FAILED: {report.get('error', 'unknown error')}")
    if report["timings_ms"]:
        steps = ", ".join(f"{k} {v:g} ms" for k, v in report["timings_ms"].items())
        lines.append(f"  timings:      {steps}")
    out.write("\n".join(lines) + "\n")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m provisioning.check_idcard",
                                     description="Read one ID card to check the reader.")
    parser.add_argument("--url", required=True,
                        help="/dev/ttyUSB0, socket://127.0.0.1:7001 or a pty path")
    parser.add_argument("--json", action="store_true", help="machine-readable report")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait for a card (default 10)")
    parser.add_argument("--baudrate", type=int, default=115200)
    args = parser.parse_args(argv)
    return run(args.url, args.json, args.timeout, baudrate=args.baudrate)


if __name__ == "__main__":
    sys.exit(main())

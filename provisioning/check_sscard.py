"""Technician check: read one social security card and show what the kiosk would see.

    python -m provisioning.check_sscard [--reader SUBSTRING] [--json] [--timeout 30]

Prints the reader's name, the card's type and spec version, the holder's identity masked
(张*, 3701**********1234), the items the card would not give, and timings. Errors are
plain sentences a technician can act on. Exit codes: 0 card read (possibly partially),
1 the card could not be read, 2 no PC/SC service or no reader (after at most 5 s), 3 no card
within the time-out, 4 the PC/SC support (pyscard) is not installed.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any

READY_WAIT_S = 5.0  # how long pcscd and the reader get to show up
EXIT_OK, EXIT_READ_FAILED, EXIT_NO_READER, EXIT_NO_CARD, EXIT_NO_PYSCARD = 0, 1, 2, 3, 4


class _Watch:
    """Collects the driver's events and lets the main thread wait for them."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.events: list[Any] = []

    def __call__(self, event: Any) -> None:
        with self.cond:
            self.events.append((time.monotonic(), event))
            self.cond.notify_all()

    def first_state(self, state: Any, deadline: float) -> float | None:
        """When the device first reported ``state`` (waiting until ``deadline``)."""
        from drivers.base import DeviceStateChanged

        with self.cond:
            while True:
                for stamp, event in self.events:
                    if isinstance(event, DeviceStateChanged) and event.state is state:
                        return stamp
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.cond.wait(remaining)

    def first(self, types: tuple[type, ...], deadline: float) -> tuple[float, Any] | None:
        with self.cond:
            while True:
                for stamp, event in self.events:
                    if isinstance(event, types):
                        return stamp, event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.cond.wait(remaining)


def _emit(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    if not result["ok"]:
        print(f"FAILED: {result['error']}")
        if result.get("reader"):
            print(f"  reader: {result['reader']}")
        return
    card, times = result["card"], result["timings_ms"]
    print(f"reader:        {result['reader']}")
    print(f"card:          type {card['card_type'] or '?'}, spec {card['spec_version'] or '?'}, "
          f"region {card['region_code'] or '?'}")
    print(f"holder:        {card['masked_name'] or '(not given)'}  {card['masked_id'] or ''}")
    if card["missing"]:
        print(f"not given:     {', '.join(card['missing'])} "
              "(normal for a 3rd-generation card without a PSAM)")
    print(f"timings:       reader ready {times['reader_ready']} ms, "
          f"card read in {times['read']} ms ({result['apdus']} commands)")


def run(reader: str | None, as_json: bool, timeout_s: float) -> int:
    """Read one card from ``reader`` (substring; None = first reader) within ``timeout_s``."""
    try:
        from drivers.smartcard.pcsc import PcscSocialSecurityReader
    except ImportError:
        _emit({"ok": False, "code": EXIT_NO_PYSCARD,
               "error": "PC/SC support is not installed; run: "
                        "pip install 'aishandong-kiosk[smartcard]'"}, as_json)
        return EXIT_NO_PYSCARD
    from drivers.base import DeviceState
    from drivers.smartcard.interface import SsCardInserted, SsCardRead, SsCardReadFailed

    started = time.monotonic()
    deadline = started + timeout_s
    device = PcscSocialSecurityReader(options={"reader": reader or "", "poll_interval": 0.2})
    watch = _Watch()
    device.subscribe(watch)
    device.start()
    try:
        # a missing pcscd or reader is reported after a few seconds, not the whole time-out
        ready = watch.first_state(DeviceState.READY, min(deadline, started + READY_WAIT_S))
        if ready is None:
                with watch.cond:
                    watch.cond.wait(0.2)
        if ready is None:
            reason = device.health().reason or "no reader answered"
            _emit({"ok": False, "code": EXIT_NO_READER,
                   "error": f"no usable card reader: {reason}. Check that pcscd is running "
                            "(systemctl status pcscd) and the reader is plugged in."}, as_json)
            return EXIT_NO_READER
        reader_name = device.reader_name or ""
        if not as_json:
            print(f"reader ready: {reader_name}; insert a social security card…", flush=True)
        done = watch.first((SsCardRead, SsCardReadFailed), deadline)
        if done is None:
            _emit({"ok": False, "code": EXIT_NO_CARD, "reader": reader_name,
                   "error": f"no card was inserted within {timeout_s:.0f} s"}, as_json)
            return EXIT_NO_CARD
        _stamp, event = done
        inserted = watch.first((SsCardInserted,), deadline)
        stats = device.last_stats
        timings = {
            "reader_ready": round((ready - started) * 1000),
            "card_detected": round((inserted[0] - started) * 1000) if inserted else None,
            "read": round(stats.seconds * 1000, 1) if stats else None,
        }
        if isinstance(event, SsCardReadFailed):
            _emit({"ok": False, "code": EXIT_READ_FAILED, "reader": reader_name,
                   "error": f"the card could not be read: {event.reason}",
                   "timings_ms": timings}, as_json)
            return EXIT_READ_FAILED
        data = event.data
        _emit({
            "ok": True,
            "code": EXIT_OK,
            "reader": reader_name,
            "card": {
                "card_type": data.card_type,
                "spec_version": data.spec_version,
                "region_code": data.region_code,
                "masked_name": data.masked_name,
                "masked_id": data.masked_id,
                "missing": list(data.missing),
            },
            "timings_ms": timings,
            "apdus": stats.apdus if stats else None,
        }, as_json)
        return EXIT_OK
    finally:
        device.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="check_sscard", description="read one social security card and show it masked")
    parser.add_argument("--reader", default=None,
                        help="part of the reader's name (default: the first reader)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds to wait for the reader and a card (default 30)")
    args = parser.parse_args(argv)
    return run(args.reader, args.json, args.timeout)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

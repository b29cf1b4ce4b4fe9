"""Technician check of a thermal printer: status, then a test page (``kiosk-provision test
printer --url URL``).

Exit codes: 0 test page sent; 1 the printer answered but cannot print (paper out, cover open…);
2 no connection or no answer to status queries; 3 bad configuration.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from collections.abc import Mapping
from typing import Any

from drivers.base import DeviceError, DeviceState
from drivers.printer.escpos_driver import NOT_CONNECTED, EscposPrinter
from drivers.printer.interface import PrinterError, PrintRefused
from kiosk.printing.slips import TestPage, test_page

WAIT_S = 5.0


def run(url: str, options: Mapping[str, Any] | None = None, as_json: bool = False,
        out: Any = None) -> int:
    """Connect to the printer at ``url``, report its status and print the test page."""
    out = out or sys.stdout
    opts = dict(options or {})
    terminal_id = str(opts.pop("terminal_id", "") or socket.gethostname())
    report: dict[str, Any] = {"url": url, "terminal_id": terminal_id}
    try:
        printer = EscposPrinter(url, opts)
    except (DeviceError, ValueError) as exc:
        report.update(ok=False, error=str(exc))
        return _finish(report, 3, as_json, out)
    printer.start()
    try:
        # the first connection attempt and status poll decide STARTING → READY/UNAVAILABLE
        printer.wait_until(lambda p: p.state is not DeviceState.STARTING, timeout=WAIT_S)
        status = printer.query_status() if printer.status_query else printer.status()
        health = printer.health()
        report.update(state=health.state.value, status=status.as_detail(),
                      reason=status.reason if printer.status_query else "")
        if health.reason == NOT_CONNECTED and status.online is None:
            report.update(ok=False, error=health.reason)
            return _finish(report, 2, as_json, out)
        if printer.status_query and status.online is None:
            report.update(ok=False, error=status.reason)
            return _finish(report, 2, as_json, out)
        enc = printer.encoder.options
        page = TestPage(terminal_id=terminal_id, printer=f"escpos {url}",
                        paper_width_mm=enc.paper_width_mm, encoding=enc.encoding,
                        status=status.reason or "正常")
        try:
            report["job_id"] = printer.print_document(test_page(page))
        except PrintRefused as exc:
            report.update(ok=False, error=exc.reason)
            return _finish(report, 1, as_json, out)
        except PrinterError as exc:
            report.update(ok=False, error=str(exc))
            return _finish(report, 2, as_json, out)
        report["ok"] = True
        return _finish(report, 0, as_json, out)
    finally:
        printer.stop()


def _finish(report: dict[str, Any], code: int, as_json: bool, out: Any) -> int:
    report["exit_code"] = code
    if as_json:
        out.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        return code
    status = report.get("status") or {}
    out.write(f"打印机 {report['url']}\n")
    if status:
        out.write(f"  在线: {_yn(status.get('online'))}  纸张: {status.get('paper')}  "
                  f"纸仓盖打开: {_yn(status.get('cover_open'))}  "
                  f"切刀故障: {_yn(status.get('cutter_error'))}\n")
    if report.get("ok"):
        out.write(f"  测试页已发送（任务 {report['job_id']}），请核对打印效果。\n")
    else:
        out.write(f"  失败: {report.get('error') or report.get('reason')}\n")
    return code


def _yn(value: object) -> str:
    return "未知" if value is None else ("是" if value else "否")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m provisioning.check_printer")
    parser.add_argument("--url", required=True, help="tcp://HOST:9100, usb://0xVVVV:0xPPPP or "
                        "a serial port")
    parser.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                        help="driver option, e.g. -o paper_width_mm=80 -o encoding=gbk")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    options: dict[str, Any] = {}
    for item in args.option:
        key, _, value = item.partition("=")
        options[key] = int(value) if value.isdigit() else value
    return run(args.url, options, args.json)


if __name__ == "__main__":
    sys.exit(main())

"""``kiosk-provision selftest [--print-report] [--json]``: everything this terminal needs, checked.

Devices are started as the kiosk starts them (every configured one must become ready), then
the camera gives frames (count, size, not blank) and the printer reports its paper and prints
the test page (``selftest_devices.py``); then the terminal's surroundings: the MQTT broker (TLS
connect with the client certificate, a QoS 1 publish acknowledged) and a round trip through the
fleet (a signed echo of a nonce, ``selftest_fleet.py``), the queue and platform servers (an
HTTP answer), the clock against those servers' ``Date``, free disk space and the CJK font. The
result is a pass/fail table; any failure makes the exit status 1; ``--print-report`` prints it.
The maintenance screen runs the same checks on the kiosk's running devices and reporter
(``kiosk.maintenance.live_selftest``).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

PASS, FAIL, SKIP = "pass", "fail", "skip"
MIN_FREE_BYTES = 1 << 30
MAX_SKEW_S = 120.0


@dataclass
class Check:
    name: str
    outcome: str  # pass | fail | skip
    detail: str = ""


def _input_event(event: Any) -> tuple[str, str] | None:
    """(kind, masked description) of a card read, a scan or a pad press; else None."""
    name = type(event).__name__
    if name == "IdCardRead":
        return "idcard", f"card read: {event.data.masked_id}"
    if name == "SsCardRead":
        return "smartcard", "social security card read"
    if name == "CodeScanned" and event.kind == "scanner":
        return "scanner", f"code scanned ({len(event.payload)} characters)"
    if name == "RatingKeyPressed":
        return "ratingpad", f"key {event.level}"
    return None


def check_inputs(config: Any, manager: Any, handoff: Any, wait_s: float) -> list[Check]:
    """Wait up to ``wait_s`` for the technician to present a card, scan a code and press the
    pad; each configured input device reports what it saw (masked), or that nothing came."""
    wanted = [k for k in ("idcard", "scanner", "ratingpad")
              if k in config.devices.enabled_kinds()]
    seen: dict[str, str] = {}

    def listen(event: Any) -> None:
        found = _input_event(event)
        if found and found[0] not in seen:
            seen[found[0]] = found[1]

    manager.subscribe(listen)
    pad = manager.get("ratingpad") if "ratingpad" in wanted else None
    if pad is not None:
        pad.arm()  # a pad reports keys only while a rating prompt is open
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and any(k not in seen for k in wanted):
        handoff.drain()
        time.sleep(0.05)
    handoff.drain()
    return [Check(f"input {kind}", PASS if kind in seen else SKIP,
                  seen.get(kind, f"nothing presented within {wait_s:.0f} s"))
            for kind in wanted]


def health_checks(manager: Any) -> list[Check]:
    """One row per device kind from a running manager: ready, disabled or why not."""
    from drivers.base import DeviceState

    checks = []
    for kind, health in manager.health().items():
        if health.state is DeviceState.DISABLED:
            checks.append(Check(f"device {kind}", SKIP, "not configured on this terminal"))
            continue
        detail = health.reason or ", ".join(f"{k} {v}" for k, v in health.detail.items()
                                            if k in ("paper", "sam_id", "reader", "url"))
        ok = health.state is DeviceState.READY
        if kind == "printer" and ok and str(health.detail.get("paper", "ok")) == "out":
            ok, detail = False, "paper out"
        checks.append(Check(f"device {kind} ({health.type})", PASS if ok else FAIL,
                            detail or health.state.value))
    return checks


def check_devices(config: Any, wait_s: float) -> tuple[list[Check], Any]:
    """Start every configured device; each enabled one must become ready."""
    from drivers.base import DeviceState
    from kiosk.devices.manager import DeviceManager
    from kiosk.mainthread import MainThreadHandoff

    handoff = MainThreadHandoff()
    manager = DeviceManager(config.devices, handoff)
    manager.start_all()
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and any(
            h.state is DeviceState.STARTING for h in manager.health().values()):
        time.sleep(0.05)
    return health_checks(manager), (manager, handoff)


def _http_date(url: str, timeout_s: float) -> tuple[int, float | None]:
    import httpx

    reply = httpx.get(url, timeout=timeout_s)
    date = reply.headers.get("date")
    skew = None
    if date:
        skew = time.time() - parsedate_to_datetime(date).timestamp()
    return reply.status_code, skew


def check_backends(config: Any) -> tuple[list[Check], list[float]]:
    import httpx

    checks, skews = [], []
    for name in ("queue", "platform"):
        backend = getattr(config.backends, name)
        label = f"{name} server"
        if backend.type != "http":
            checks.append(Check(label, SKIP, "embedded"))
            continue
        try:
            status, skew = _http_date(backend.url, backend.timeout_s)
        except httpx.HTTPError as exc:
            checks.append(Check(label, FAIL, f"{backend.url}: {exc}"))
            continue
        if skew is not None:
            skews.append(skew)
        checks.append(Check(label, PASS if status < 500 else FAIL,
                            f"{backend.url}: HTTP {status}"))
    return checks, skews


def check_clock(skews: list[float]) -> Check:
    if not skews:
        return Check("clock", SKIP, "no server to compare with")
    worst = max(skews, key=abs)
    ok = abs(worst) <= MAX_SKEW_S
    return Check("clock", PASS if ok else FAIL, f"{worst:+.0f} s against the servers"
                 + ("" if ok else " (set up NTP: timedatectl set-ntp true)"))


def check_disk(config: Any) -> Check:
    folder = Path(config.storage.data_dir).expanduser()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    ok = free >= MIN_FREE_BYTES
    return Check("disk space", PASS if ok else FAIL, f"{free / 2**30:.1f} GB free at {folder}")


def check_font(config: Any) -> Check:
    from screens.fonts import find_cjk_font

    try:
        return Check("CJK font", PASS, str(find_cjk_font(config.ui.font)))
    except (OSError, ValueError, RuntimeError) as exc:
        return Check("CJK font", FAIL, f"{exc} (apt install fonts-noto-cjk)")


def surroundings(config: Any, fleet_checks: list[Check]) -> list[Check]:
    """The fleet's checks, then servers, clock, disk and font (the table's order)."""
    backends, skews = check_backends(config)
    return [*fleet_checks, *backends, check_clock(skews), check_disk(config),
            check_font(config)]


def run_checks(config: Any, wait_s: float = 5.0,
               printer_job: Callable[[Any, list[Check]], Check] | None = None,
               input_wait_s: float = 0.0, test_page: bool = True,
               echo_wait_s: float | None = None) -> list[Check]:
    """Every check, in the order of the table; ``printer_job`` prints with the started
    printer (the report) before the devices are stopped."""
    from provisioning.selftest_devices import check_camera_frames, check_printer_page
    from provisioning.selftest_fleet import ECHO_WAIT_S, check_fleet

    device_checks, (manager, handoff) = check_devices(config, wait_s)
    checks = list(device_checks)
    try:
        if input_wait_s > 0:
            checks += check_inputs(config, manager, handoff, input_wait_s)
        checks.append(check_camera_frames(manager))
        if test_page:
            checks.append(check_printer_page(config, manager))
        fleet = check_fleet(config, echo_wait_s=ECHO_WAIT_S if echo_wait_s is None
                            else echo_wait_s)
        checks += surroundings(config, fleet)
        if printer_job is not None:
            checks.append(printer_job(manager, checks))
    finally:
        manager.stop_all()
        handoff.close()
    return checks


def report_document(config: Any, checks: list[Check]) -> Any:
    from drivers.printer.document import Cut, Document, Feed, Rule, Text

    failed = [c for c in checks if c.outcome == FAIL]
    blocks: list[Any] = [Text("终端自检报告", size=2, align="center", bold=True),
                         Text(f"{config.terminal.id} · {config.terminal.site}", align="center"),
                         Text(time.strftime("%Y-%m-%d %H:%M:%S"), align="center"), Rule()]
    marks = {PASS: "通过", FAIL: "失败", SKIP: "跳过"}
    for check in checks:
        blocks.append(Text(f"[{marks[check.outcome]}] {check.name}", bold=check.outcome == FAIL))
        if check.detail:
            blocks.append(Text(f"    {check.detail[:120]}"))
    blocks += [Rule(), Text("结果：全部通过" if not failed else f"结果：{len(failed)} 项失败",
                            size=2, align="center", bold=True), Feed(3), Cut()]
    return Document(tuple(blocks), title="自检报告")


def _print_report(config: Any) -> Callable[[Any, list[Check]], Check]:
    def job(manager: Any, checks: list[Check]) -> Check:
        from drivers.printer.interface import PrinterError

        printer = manager.get("printer")
        if printer is None:
            return Check("report printed", FAIL, "no printer configured")
        try:
            job_id = printer.print_document(report_document(config, checks))
        except PrinterError as exc:
            return Check("report printed", FAIL, str(exc))
        return Check("report printed", PASS, f"job {job_id}")
    return job


def table(checks: list[Check]) -> str:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        return "\n".join(f"{c.outcome.upper():5} {c.name:28} {c.detail}" for c in checks)
    grid = Table(title="kiosk-provision selftest")
    for column in ("result", "check", "detail"):
        grid.add_column(column)
    styles = {PASS: "green", FAIL: "bold red", SKIP: "dim"}
    for check in checks:
        grid.add_row(f"[{styles[check.outcome]}]{check.outcome.upper()}[/]", check.name,
                     check.detail)
    import io

    console = Console(record=True, width=110, file=io.StringIO())
    console.print(grid)
    return console.export_text()


def run(config: Any, as_json: bool, print_report: bool, wait_s: float,
        input_wait_s: float = 0.0, test_page: bool = True,
        echo_wait_s: float | None = None) -> int:
    checks = run_checks(config, wait_s, _print_report(config) if print_report else None,
                        input_wait_s, test_page, echo_wait_s)
    failed = [c for c in checks if c.outcome == FAIL]
    if as_json:
        devices = [{"kind": c.name.split()[1], "ok": c.outcome != FAIL, "detail": c.detail}
                   for c in checks if c.name.startswith("device ")]
        print(json.dumps({"ok": not failed, "checks": [asdict(c) for c in checks],
                          "devices": devices}, ensure_ascii=False))
    else:
        sys.stdout.write(table(checks))
        print("selftest passed" if not failed else
              f"selftest FAILED: {', '.join(c.name for c in failed)}")
    return 0 if not failed else 1

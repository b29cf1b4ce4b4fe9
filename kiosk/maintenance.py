"""What the maintenance screen shows and does, without Kivy: status lines, recent log lines,
the self-test on the live devices. The screen calls these from a worker (they read files and
may touch the network) and shows the results on the UI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drivers.privacy import scrub

#: the exit status that tells systemd not to restart (deploy/: RestartPreventExitStatus=64)
EXIT_TO_DESKTOP = 64


def status_lines(kiosk: Any) -> list[str]:
    """Network/MQTT/fleet, outbox depth and catalogue version, one line each."""
    lines = []
    reporter = kiosk.reporter
    if reporter is None or not kiosk.config.mqtt.enabled:
        lines.append("车队服务器：未启用 (mqtt.enabled = false)")
    else:
        status = reporter.status()
        state = "已连接" if status["connected"] else "未连接"
        lines.append(f"车队服务器：{state} · {status['broker']} · 重连 {status['reconnects']} 次")
    if reporter is not None:
        stats = reporter.outbox.stats()
        lines.append(f"待发送：{stats.depth} 条（评价 {stats.ratings} 条），最早 "
                     f"{stats.oldest_age_s:.0f} 秒前")
    if kiosk.catalogue is not None:
        record = kiosk.catalogue.birth_record()
        lines.append(f"办事指南目录：版本 {record.get('version') or '-'}"
                     f"{' (示例数据)' if record.get('sample_data') else ''}")
    return lines


def recent_log_lines(config: Any, count: int = 8) -> list[str]:
    """The last lines of the kiosk's log, masked again (the log filter masked them first)."""
    path = Path(config.storage.log_dir).expanduser() / "kiosk.log"
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            lines = handle.readlines()[-count:]
    except OSError:
        return ["(没有日志文件)"]
    return [scrub(line.rstrip())[:160] for line in lines]


def live_selftest(kiosk: Any, echo_wait_s: float = 10.0, test_page: bool = True
                  ) -> list[Any]:
    """The checks of ``kiosk-provision selftest`` with what the kiosk already runs: its
    devices (not opened a second time: camera frames and the test page come from them) and
    its reporter (the fleet round trip goes through the outbox and the verified commands)."""
    from provisioning.selftest import health_checks, surroundings
    from provisioning.selftest_devices import check_camera_frames, check_printer_page
    from provisioning.selftest_fleet import live_round_trip

    checks = health_checks(kiosk.devices)
    checks.append(check_camera_frames(kiosk.devices))
    if test_page:
        checks.append(check_printer_page(kiosk.config, kiosk.devices))
    return checks + surroundings(kiosk.config, live_round_trip(kiosk, echo_wait_s))


def paper_changed(kiosk: Any) -> str:
    """The technician put in a new roll: ask the printer at once instead of waiting for its next
    poll (a real printer senses the paper); the simulated printer is simply refilled."""
    printer = kiosk.devices.get("printer")
    if printer is None:
        return "没有配置打印机"
    if hasattr(printer, "query_status"):
        status = printer.query_status()
    elif hasattr(printer, "set_status"):
        from drivers.printer.interface import PrinterStatus

        printer.set_status(PrinterStatus.ok())
        status = printer.status()
    else:
        status = printer.status()
    return f"纸张：{getattr(status.paper, 'value', status.paper)}"

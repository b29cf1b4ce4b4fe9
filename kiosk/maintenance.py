"""What the maintenance screen shows and does, without Kivy: status lines, recent log lines,
the self-test on the live devices. The screen calls these from a worker (they read files and
may touch the network) and shows the results on the UI thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drivers.privacy import scrub

log = logging.getLogger(__name__)

#: the exit status that tells systemd not to restart (deploy/: RestartPreventExitStatus=64)
EXIT_TO_DESKTOP = 64

Translate = Callable[[str], str]


def _same(msgid: str) -> str:
    return msgid


def status_lines(kiosk: Any, tr: Translate = _same) -> list[str]:
    """Network/MQTT/fleet, outbox depth and catalogue version, one line each; ``tr``
    translates the msgids (the screen passes its language)."""
    lines = []
    reporter = kiosk.reporter
    if reporter is None or not kiosk.config.mqtt.enabled:
        lines.append(tr("车队服务器：未启用 (mqtt.enabled = false)"))
    else:
        status = reporter.status()
        state = tr("已连接") if status["connected"] else tr("未连接")
        lines.append(tr("车队服务器：{state} · {broker} · 重连 {count} 次").format(
            state=state, broker=status["broker"], count=status["reconnects"]))
    if reporter is not None:
        stats = reporter.outbox.stats()
        lines.append(tr("待发送：{depth} 条（评价 {ratings} 条），最早 {age} 秒前").format(
            depth=stats.depth, ratings=stats.ratings, age=f"{stats.oldest_age_s:.0f}"))
    if kiosk.catalogue is not None:
        record = kiosk.catalogue.birth_record()
        lines.append(tr("办事指南目录：版本 {version}").format(
            version=record.get("version") or "-")
            + (tr(" (示例数据)") if record.get("sample_data") else ""))
    return lines


def recent_log_lines(config: Any, count: int = 8, tr: Translate = _same) -> list[str]:
    """The last lines of the kiosk's log, masked again (the log filter masked them first)."""
    path = Path(config.storage.log_dir).expanduser() / "kiosk.log"
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            lines = handle.readlines()[-count:]
    except OSError:
        return [tr("(没有日志文件)")]
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


def paper_changed(kiosk: Any, tr: Translate = _same) -> str:
    """The technician put in a new roll: ask the printer at once instead of waiting for its next
    poll (a real printer senses the paper); the simulated printer is simply refilled."""
    printer = kiosk.devices.get("printer")
    if printer is None:
        return tr("没有配置打印机")
    if hasattr(printer, "query_status"):
        status = printer.query_status()
    elif hasattr(printer, "set_status"):
        from drivers.printer.interface import PrinterStatus

        printer.set_status(PrinterStatus.ok())
        status = printer.status()
    else:
        status = printer.status()
    return tr("纸张：{paper}").format(paper=getattr(status.paper, "value", status.paper))


# -- re-enrolment -------------------------------------------------------------------------------
_URL = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)


class ReenrolError(Exception):
    """Re-enrolment refused or failed; the message says what to fix."""


def enrol_defaults(config: Any) -> dict[str, str]:
    """What the re-enrol form starts with: the fleet URL of the last enrolment, from the
    config file as it is now (an enrolment since the start counts), else as loaded."""
    url = config.fleet.enrol_url
    if config.config_file():
        from provisioning.configfile import read

        try:
            url = str(read(Path(config.config_file())).get("fleet", {}).get("enrol_url", url))
        except (OSError, ValueError) as exc:
            log.warning("cannot read %s: %s", config.config_file(), exc)
    return {"fleet_url": url, "terminal": config.terminal.id}


def check_enrol_form(fleet_url: str, token: str) -> tuple[str, str]:
    """The form's values, stripped; ``ReenrolError`` names the field and the fix (msgids)."""
    tr = _same  # marks the msgids for kiosk.i18n; the screen translates them
    fleet_url, token = fleet_url.strip(), token.strip()
    if not _URL.match(fleet_url):
        raise ReenrolError(tr("车队服务器地址：请填写以 http:// 或 https:// 开头的地址"))
    if len(token) < 8 or any(c.isspace() for c in token):
        raise ReenrolError(tr("注册令牌：请填写车队服务器生成的一次性令牌"))
    return fleet_url, token


def reenrol(config: Any, fleet_url: str, token: str) -> dict[str, Any]:
    """Enrol this terminal again (new key, certificate, fleet CA and command key) into the
    file the kiosk was started with; off the UI thread. The running kiosk keeps its old
    connection until it is restarted. Never logs the token."""
    from config.errors import ConfigError
    from provisioning.enrol import EnrolError, Paths, enrol_online

    tr = _same
    file = config.config_file()
    if not file:
        raise ReenrolError(tr("本机没有自己的配置文件：请用 kiosk-provision enrol 注册"))
    config_file = Path(file)
    paths = Paths(config_file.parent / "pki")
    try:
        result = enrol_online(fleet_url, token, config.terminal.id, paths, config_file,
                              config.profile or None)
    except (EnrolError, ConfigError) as exc:
        raise ReenrolError(str(exc)) from None
    log.info("re-enrolled %s with %s", config.terminal.id, fleet_url)
    return result

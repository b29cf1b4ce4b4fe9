"""`kiosk-provision install` lays out deploy/: a unit systemd accepts, a launcher that hands the
watchdog to the kiosk process, log rotation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    result = subprocess.run([str(BIN / "kiosk-provision"), "install", "--root", str(root),
                             "--profile", "bank"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return root


def test_the_unit_is_hardened_supervised_and_valid(installed: Path, tmp_path: Path) -> None:
    unit = (installed / "etc/systemd/system/aishandong-kiosk.service").read_text()
    for line in ("Type=notify", "NotifyAccess=all", "WatchdogSec=30", "Restart=always",
                 "User=kiosk", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                 "ProtectHome=yes", "CapabilityBoundingSet=", "Environment=KIOSK_PROFILE=bank",
                 f"ExecStartPre={BIN}/kiosk config check --deploy"):
        assert line in unit, line
    assert "@BIN@" not in unit and "@LIBEXEC@" not in unit
    # systemd's own parser: every directive known, every value well-formed (cage is not
    # installed on the test machine, so the compositor is swapped for /bin/true)
    checked = tmp_path / "aishandong-kiosk.service"
    checked.write_text(unit.replace("/usr/bin/cage", "/bin/true"))
    result = subprocess.run(["systemd-analyze", "verify", str(checked)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_the_launcher_runs_the_kiosk_as_the_watchdog_process(installed: Path,
                                                             tmp_path: Path) -> None:
    launcher = installed / "usr/local/libexec/aishandong-kiosk/kiosk-session"
    assert os.access(launcher, os.X_OK)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    kiosk = fake_bin / "kiosk"
    kiosk.write_text('#!/bin/sh\necho "$$ $WATCHDOG_PID $*"\n')
    kiosk.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "KIOSK_BIN": str(fake_bin), "KIOSK_PROFILE": "village",
           "KIOSK_CONFIG": "/etc/kiosk/kiosk.toml", "WATCHDOG_PID": "1"}
    result = subprocess.run([shutil.which("sh") or "/bin/sh", str(launcher)], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    pid, watchdog_pid, *args = result.stdout.split()
    assert pid == watchdog_pid  # exec: the kiosk is the process systemd's watchdog watches
    assert args == ["run", "--profile", "village", "--config", "/etc/kiosk/kiosk.toml",
                    "--fullscreen"]


def test_log_rotation_and_folders(installed: Path) -> None:
    rotate = (installed / "etc/logrotate.d/aishandong-kiosk").read_text()
    assert "/var/log/aishandong-kiosk/audit.log" in rotate and "rotate 26" in rotate
    assert (installed / "etc/systemd/journald.conf.d/aishandong-kiosk.conf").is_file()
    for folder in ("etc/kiosk/pki", "var/lib/aishandong-kiosk", "var/log/aishandong-kiosk"):
        assert (installed / folder).is_dir()
    assert (installed / "etc/kiosk").stat().st_mode & 0o007 == 0

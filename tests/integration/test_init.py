"""`kiosk-provision init`: flags for mass roll-out, questions for one terminal; the file is
validated by the kiosk's schema, written atomically, the previous one kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from config import load_config

BIN = Path(sys.executable).parent


def init(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    return subprocess.run([str(BIN / "kiosk-provision"), "init", *args], input=stdin,
                          capture_output=True, text=True, timeout=60, env=env)


def test_non_interactive_roll_out_writes_a_config_the_kiosk_loads(tmp_path: Path) -> None:
    out = tmp_path / "kiosk" / "kiosk.toml"
    result = init("--yes", "--profile", "bank", "--out", str(out),
                  "--terminal-id", "JN-CCB-LX-0003", "--site", "建设银行历下支行",
                  "--name", "爱山东自助终端", "--region", "370102", "--lat", "36.66",
                  "--lon", "117.05", "--host", "中国建设银行",
                  "--hours", "mon-fri 09:00-17:00", "--hours", "sat 09:00-12:00",
                  "--nearest-24h", "历下区政务服务中心24小时自助区",
                  "--device", "idcard=sam:/dev/ttyUSB3", "--device", "scanner=off",
                  "--platform-url", "https://zwfw.example/gw")
    assert result.returncode == 0, result.stderr
    config = load_config("bank", out, env={})
    assert config.terminal.id == "JN-CCB-LX-0003" and config.terminal.region_code == "370102"
    assert [(h.days, h.open, h.close) for h in config.terminal.opening_hours] == [
        ("mon-fri", "09:00", "17:00"), ("sat", "09:00", "12:00")]
    assert config.devices.idcard.url == "/dev/ttyUSB3" and not config.devices.scanner.enabled
    assert config.backends.platform.url == "https://zwfw.example/gw"
    assert (out.parent / "environment").read_text().startswith("KIOSK_PROFILE=bank")

    # a second run changes one thing, keeps the rest and the previous file
    again = init("--yes", "--profile", "bank", "--out", str(out), "--site", "建行历下支行")
    assert again.returncode == 0, again.stderr
    assert load_config("bank", out, env={}).terminal.id == "JN-CCB-LX-0003"
    assert "建设银行历下支行" in (out.parent / "kiosk.toml.bak").read_text()


def test_a_value_the_schema_refuses_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "kiosk.toml"
    assert init("--yes", "--profile", "hall", "--out", str(out), "--terminal-id",
                "JN-LX-0001", "--region", "370102").returncode == 0
    before = out.read_text()
    bad = init("--yes", "--profile", "hall", "--out", str(out), "--region", "3701")
    assert bad.returncode == 2
    assert "terminal.region_code" in bad.stderr and "6 digits" in bad.stderr
    assert out.read_text() == before
    wrong_hours = init("--yes", "--out", str(out), "--hours", "weekdays 9-5")
    assert wrong_hours.returncode == 2 and "DAYS HH:MM-HH:MM" in wrong_hours.stderr


def test_interactive_questions_with_the_current_values_as_defaults(tmp_path: Path) -> None:
    out = tmp_path / "kiosk.toml"
    answers = "\n".join(["JN-ZQ-VLG-0009", "", "相公庄便民服务站", "370114", "", "36.77",
                         "117.46", "mon-sun 08:00-20:00"]) + "\n"
    result = init("--profile", "village", "--out", str(out), stdin=answers)
    assert result.returncode == 0, result.stdout + result.stderr
    config = load_config("village", out, env={})
    assert config.terminal.id == "JN-ZQ-VLG-0009" and config.terminal.region_code == "370114"
    assert config.terminal.site == "相公庄便民服务站" and config.terminal.latitude == 36.77
    assert config.terminal.opening_hours[0].close == "20:00"

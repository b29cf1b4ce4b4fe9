"""The commands a newcomer and a technician type, run as real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageStat

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*args: str, env: dict[str, str] | None = None,
        timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})})


def test_demo_writes_screenshots_of_every_screen(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}  # it must start its own Xvfb
    result = subprocess.run([str(BIN / "kiosk"), "demo", "--headless", "--out", str(out)],
                            capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    log = json.loads((out / "session.json").read_text("utf-8"))
    assert log["ok"] and log["missing_glyphs"] == []
    shots = sorted(out.glob("*.png"))
    assert len(shots) >= 6 and [p.name for p in shots] == log["screenshots"]
    for shot in shots:
        image = Image.open(shot).convert("RGB")
        assert image.size == (1920, 1080)
        assert max(ImageStat.Stat(image).stddev) > 10, f"{shot.name} is blank"
    screens = {step["screen"] for step in log["steps"]}
    assert {"attract", "home", "identify", "code", "queue", "proof", "rating", "thanks",
            "maintenance", "out_of_service"} <= screens
    shown = "\n".join(t for step in log["steps"] for t in step.get("texts", []))
    assert "轻触屏幕开始办理" in shown and "请将身份证放在感应区" in shown
    assert "李明" not in shown and "370102" not in shown.replace("3701**", "")
    # 亮码, 取号, 证明打印 (skipped), 进度查询 (skipped), 评价 by handling number
    assert [r["level"] for r in log["ratings"]] == ["dissatisfied", "very_satisfied", None,
                                                    None, "satisfied"]
    # every home tile was walked (#15)
    assert {"guide", "guide_detail", "progress", "evaluate", "help"} <= screens


def test_a_bad_config_value_stops_start_up_naming_file_key_and_choices(tmp_path: Path) -> None:
    bad = tmp_path / "site.toml"
    bad.write_text('[ui]\nlanguage = "fr"\nidle_timeout_s = 3\n', "utf-8")
    result = run("kiosk", "run", "--config", str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stderr
    assert 'ui.language = "fr"' in result.stderr and '"zh_CN", "en"' in result.stderr
    assert "ui.idle_timeout_s = 3" in result.stderr and "10 to 600" in result.stderr


def test_a_bad_environment_override_names_the_variable() -> None:
    result = run("kiosk", "config", "check", env={"KIOSK_DEVICES__PRINTER__TYPE": "laser"})
    assert result.returncode == 2
    assert "KIOSK_DEVICES__PRINTER__TYPE" in result.stderr and "escpos, fake" in result.stderr


def test_config_check_accepts_every_profile() -> None:
    for profile in ("demo", "hall", "bank", "village"):
        result = run("kiosk", "config", "check", "--profile", profile)
        assert result.returncode == 0, result.stderr
        assert f"profile {profile}" in result.stdout


def test_self_test_reports_every_device() -> None:
    result = run("kiosk-provision", "self-test", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and {d["kind"] for d in report["devices"]} == {
        "idcard", "smartcard", "printer", "scanner", "camera", "ratingpad"}


@pytest.mark.parametrize("command", [["kiosk", "--help"], ["kiosk-provision", "--help"]])
def test_console_scripts_are_installed(command: list[str]) -> None:
    assert run(*command).returncode == 0


def test_missing_certificates_stop_start_up_with_a_plain_message(tmp_path: Path) -> None:
    from deploy_helpers import deployable_file

    result = run("kiosk", "run", "--profile", "hall", "--config", str(deployable_file(tmp_path)),
                 env={"KIOSK_STORAGE__DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "kiosk: cannot start: mqtt.ca_file" in result.stderr
    assert "Traceback" not in result.stderr

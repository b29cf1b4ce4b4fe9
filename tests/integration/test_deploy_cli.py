"""`kiosk config check --deploy` and `kiosk run` outside the demo, as a technician types them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from deploy_helpers import deployable_file

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    return subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**clean, **(env or {})})


def test_check_deploy_lists_every_refusal_of_the_demo() -> None:
    result = run("kiosk", "config", "check", "--profile", "demo", "--deploy")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    keys = {line.split(":")[0].strip() for line in lines}
    assert {"devices.idcard.type", "devices.printer.type", "maintenance.pin_hash",
            "catalogue.public_keys", "backends.platform.type",
            "ratings.evaluation_public_key", "ui.simulator"} <= keys
    assert all("fix:" in line for line in lines)
    # without --deploy the demo is a valid configuration
    assert run("kiosk", "config", "check", "--profile", "demo").returncode == 0


def test_check_deploy_accepts_a_deployable_terminal(tmp_path: Path) -> None:
    result = run("kiosk", "config", "check", "--profile", "bank", "--config",
                 str(deployable_file(tmp_path)), "--deploy")
    assert result.returncode == 0, result.stderr
    assert "fit for deployment" in result.stdout


def test_run_refuses_a_hall_with_demo_parts_before_opening_a_window(tmp_path: Path) -> None:
    result = run("kiosk", "run", "--profile", "hall",
                 env={"KIOSK_STORAGE__DATA_DIR": str(tmp_path), "DISPLAY": ":999"})
    assert result.returncode == 2
    assert "kiosk: cannot start" in result.stderr
    assert "maintenance.pin_hash" in result.stderr and "kiosk-provision hash-pin" in result.stderr
    assert "Traceback" not in result.stderr


def test_provision_config_check_forwards_deploy(tmp_path: Path) -> None:
    result = run("kiosk-provision", "config", "check", "--profile", "village", "--deploy")
    assert result.returncode == 2
    assert "catalogue.public_keys" in result.stderr

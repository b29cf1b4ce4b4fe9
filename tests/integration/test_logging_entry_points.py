"""Every entry point logs through the one set-up with the personal-data filter: the hall
queue server (its access log at DEBUG holds request paths) and the ``kiosk`` command."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def test_the_hall_server_masks_id_and_phone_numbers_in_its_log(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    key_dir = tmp_path / "secret"  # the ID-number key lives outside the database folder
    key_dir.mkdir(mode=0o700)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.queue", "serve", "--db",
                             str(tmp_path / "db" / "hall.sqlite"), "--port", "0",
                             "--key-file", str(key_dir / "id.key"), "--log-level", "DEBUG"],
                            cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on" in line, proc.stderr.read() if proc.stderr else line
        url = line.split("listening on ")[1].split(" ")[0].rstrip("/")
        for path in ("/api/v1/lookup/370102199003070032", "/api/v1/lookup/138-1234-5678"):
            try:
                urllib.request.urlopen(url + path, timeout=10).close()
            except urllib.error.HTTPError as exc:  # 404/401: what matters is the log line
                exc.close()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "/api/v1/lookup/3701**********0032" in err, err[-2000:]
    assert "/api/v1/lookup/138****5678" in err
    assert "370102199003070032" not in err and "1234-5678" not in err


def test_the_kiosk_command_logs_through_the_filter(tmp_path: Path) -> None:
    """After ``kiosk <command>`` has set up logging, a line that carries a number is masked."""
    code = ("import logging, sys; from kiosk.cli.main import main; "
            "rc = main(['config', 'check']); "
            "logging.getLogger('probe').warning('caller 138 1234 5678'); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "138****5678" in result.stderr and "1234 5678" not in result.stderr

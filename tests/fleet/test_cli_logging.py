"""``kiosk-fleet`` logs through the kiosk's filtered set-up: ID and phone numbers that reach a
log record are masked, and no Kivy is imported for it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_kiosk_fleet_log_records_are_scrubbed_of_personal_numbers(tmp_path):
    code = (
        "import logging, sys\n"
        "from fleet.cli import main\n"
        f"rc = main(['migrate', '--db', 'sqlite:///{tmp_path / 'fleet.db'}'])\n"
        "logging.getLogger('fleet.ingest').warning('payload from %s, phone %s',\n"
        "                                          '370102199001011234', '13812345678')\n"
        "print('kivy loaded' if any(m.startswith('kivy') for m in sys.modules) else 'no kivy')\n"
        "sys.exit(rc)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "payload from 3701**********1234, phone 138****5678" in proc.stderr
    assert "370102199001011234" not in proc.stderr and "13812345678" not in proc.stderr
    assert proc.stdout.splitlines()[-1] == "no kivy"

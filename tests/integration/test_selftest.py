"""`kiosk-provision selftest --print-report` on real parts: the SAM reader on a pty, the printer
emulator on TCP, the camera on a video file (OpenCV), a TLS mosquitto with the terminal's
certificate and a real `kiosk-fleet ingest` answering the round trip, an HTTP server for queue
and platform; the test page and the report come out of the printer; a dead reader, a blank
camera and a silent fleet fail the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from deploy_helpers import deployable_file
from fleet_stack import lab_ingest

from drivers.camera.emulator import make_frame, write_video
from drivers.idcard.emulator import PtyEmulator, SamEmulator
from drivers.printer.emulator import PrinterEmulator
from drivers.printer.interpreter import render_job
from fleet.commands import public_b64
from fleet.lab import FleetLab

pytestmark = pytest.mark.timeout(180)
BIN = Path(sys.executable).parent


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _video(path: Path, blank: bool = False) -> Path:
    frames = [np.zeros((480, 640, 3), np.uint8) if blank else make_frame(None, seed=i)
              for i in range(60)]
    write_video(str(path), frames, 30)
    return path


@pytest.fixture
def parts(tmp_path: Path, http_server: str, request: pytest.FixtureRequest):
    """(config, sam, printer, fleet database); ``@pytest.mark.parametrize("parts", [{...}],
    indirect=True)`` with ``blank_camera`` or ``fleet=False`` changes the set-up."""
    wanted = getattr(request, "param", {})
    sam = PtyEmulator(SamEmulator())
    sam.start()
    printer = PrinterEmulator()
    printer.start_tcp()
    with ExitStack() as stack:
        stack.callback(sam.stop)
        stack.callback(printer.stop)
        lab = FleetLab(tmp_path / "lab", terminals=[("JN-LX-HALL-0042", "370102")]).start()
        stack.callback(lab.close)
        fleet_db = stack.enter_context(lab_ingest(lab, tmp_path / "fleet")) \
            if wanted.get("fleet", True) else None
        tls = lab.tls("JN-LX-HALL-0042")
        video = _video(tmp_path / "camera.avi", blank=wanted.get("blank_camera", False))
        extra = (
            "[devices.idcard]\n"
            f'url = "{sam.url}"\n'
            "[devices.printer]\n"
            f'url = "{printer.tcp_url}"\n'
            "options = { paper_width_mm = 80, encoding = \"gb18030\", status_timeout = 0.5 }\n"
            "[devices.camera]\n"
            f'type = "opencv"\nurl = "{video}"\n'
            "[devices.smartcard]\nenabled = false\n[devices.scanner]\nenabled = false\n"
            "[devices.ratingpad]\nenabled = false\n"
            f'[backends.queue]\nurl = "{http_server}/api"\n'
            f'[backends.platform]\nurl = "{http_server}/gateway"\n'
            f'[mqtt]\nurl = "{lab.url}"\nca_file = "{tls["ca_file"]}"\n'
            f'cert_file = "{tls["cert_file"]}"\nkey_file = "{tls["key_file"]}"\n'
            f'[fleet]\ncommand_keys = ["{public_b64(lab.command_key)}"]\n'
            f'[storage]\ndata_dir = "{tmp_path / "data"}"\n')
        config = deployable_file(tmp_path, extra)
        yield config, sam, printer, fleet_db


def selftest(config: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    return subprocess.run([str(BIN / "kiosk-provision"), "selftest", "--profile", "hall",
                           "--config", str(config), "--wait", "8", *args],
                          capture_output=True, text=True, timeout=120, env=env)


def test_everything_passes_and_the_report_is_printed(parts, tmp_path: Path) -> None:
    config, _sam, printer, fleet_db = parts
    result = selftest(config, "--json", "--print-report")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    outcomes = {name: c["outcome"] for name, c in checks.items()}
    assert outcomes["device idcard (sam)"] == "pass"
    assert outcomes["device printer (escpos)"] == "pass"
    assert outcomes["device camera (opencv)"] == "pass"
    assert outcomes["camera frames"] == "pass"
    assert checks["camera frames"]["detail"].startswith("10 frames, 640x480, contrast σ ")
    assert checks["camera frames"]["detail"].endswith(", not blank")
    assert outcomes["printer test page"] == "pass"
    assert checks["printer test page"]["detail"].endswith("printed, paper ok")
    assert outcomes["fleet broker (MQTT)"] == "pass"
    assert outcomes["fleet round trip"] == "pass"
    assert checks["fleet round trip"]["detail"].startswith("signed echo after ")
    assert outcomes["queue server"] == outcomes["platform server"] == "pass"
    assert outcomes["clock"] == "pass" and outcomes["CJK font"] == "pass"
    assert outcomes["report printed"] == "pass"
    import sqlite3

    with sqlite3.connect(fleet_db) as db:  # the fleet stored the self-test's event
        assert db.execute("SELECT count(*) FROM events WHERE name = 'selftest'").fetchone() \
            == (1,)
    page, report_job = printer.jobs
    test_page = render_job(page.data, paper_width_mm=80)
    assert "打印机测试页" in test_page.text and "JN-LX-HALL-0042" in test_page.text
    rendering = render_job(report_job.data, paper_width_mm=80)
    rendering.save(tmp_path / "report.png")
    print(f"printed report: {tmp_path / 'report.png'}")
    assert "终端自检报告" in rendering.text and "结果：全部通过" in rendering.text
    assert "JN-LX-HALL-0042" in rendering.text and "fleet round trip" in rendering.text
    assert rendering.missing_glyphs == set()


@pytest.mark.parametrize("parts", [{"blank_camera": True, "fleet": False}], indirect=True)
def test_a_blank_camera_and_a_silent_fleet_fail_with_what_to_fix(parts) -> None:
    config, _sam, printer, _db = parts
    result = selftest(config, "--json", "--no-test-page", "--echo-wait", "2")
    assert result.returncode == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["camera frames"]["outcome"] == "fail"
    assert "every frame is blank (lens covered, no light" in checks["camera frames"]["detail"]
    assert checks["fleet broker (MQTT)"]["outcome"] == "pass"
    assert checks["fleet round trip"]["outcome"] == "fail"
    assert checks["fleet round trip"]["detail"].startswith("fleet did not answer within 2 s")
    assert "printer test page" not in checks and printer.jobs == []


def test_a_dead_reader_fails_the_run_with_a_table(parts) -> None:
    config, sam, _printer, _db = parts
    sam.stop()
    result = selftest(config)
    assert result.returncode == 1
    assert "FAIL" in result.stdout and "device idcard (sam)" in result.stdout
    assert "selftest FAILED: device idcard (sam)" in result.stdout


def test_a_presented_card_is_read_and_shown_masked(parts) -> None:
    from drivers.idcard import samples

    config, sam, _printer, _db = parts
    sam.emulator.put_card(samples.RESIDENT)
    result = selftest(config, "--json", "--wait-input", "15")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["input idcard"]["outcome"] == "pass"
    assert checks["input idcard"]["detail"] == f"card read: {samples.RESIDENT.masked_id}"
    assert samples.RESIDENT.id_number not in result.stdout + result.stderr
    assert samples.RESIDENT.name not in result.stdout + result.stderr

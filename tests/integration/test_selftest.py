"""`kiosk-provision selftest --print-report` on real parts: the SAM reader on a pty, the printer
emulator on TCP, a TLS mosquitto with the terminal's certificate, an HTTP server for queue and
platform; the report comes out of the printer; a dead reader fails the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from deploy_helpers import deployable_file

from drivers.idcard.emulator import PtyEmulator, SamEmulator
from drivers.printer.emulator import PrinterEmulator
from drivers.printer.interpreter import render_job
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


@pytest.fixture
def parts(tmp_path: Path, http_server: str):
    sam = PtyEmulator(SamEmulator())
    sam.start()
    printer = PrinterEmulator()
    printer.start_tcp()
    lab = FleetLab(tmp_path / "lab", terminals=[("JN-LX-HALL-0042", "370102")]).start()
    tls = lab.tls("JN-LX-HALL-0042")
    extra = (
        "[devices.idcard]\n"
        f'url = "{sam.url}"\n'
        "[devices.printer]\n"
        f'url = "{printer.tcp_url}"\n'
        "options = { paper_width_mm = 80, encoding = \"gb18030\", status_timeout = 0.5 }\n"
        "[devices.smartcard]\nenabled = false\n[devices.scanner]\nenabled = false\n"
        "[devices.camera]\nenabled = false\n[devices.ratingpad]\nenabled = false\n"
        f'[backends.queue]\nurl = "{http_server}/api"\n'
        f'[backends.platform]\nurl = "{http_server}/gateway"\n'
        f'[mqtt]\nurl = "{lab.url}"\nca_file = "{tls["ca_file"]}"\n'
        f'cert_file = "{tls["cert_file"]}"\nkey_file = "{tls["key_file"]}"\n'
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n')
    config = deployable_file(tmp_path, extra)
    try:
        yield config, sam, printer
    finally:
        lab.close()
        printer.stop()
        sam.stop()


def selftest(config: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    return subprocess.run([str(BIN / "kiosk-provision"), "selftest", "--profile", "hall",
                           "--config", str(config), "--wait", "8", *args],
                          capture_output=True, text=True, timeout=120, env=env)


def test_everything_passes_and_the_report_is_printed(parts, tmp_path: Path) -> None:
    config, _sam, printer = parts
    result = selftest(config, "--json", "--print-report")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    outcomes = {c["name"]: c["outcome"] for c in report["checks"]}
    assert outcomes["device idcard (sam)"] == "pass"
    assert outcomes["device printer (escpos)"] == "pass"
    assert outcomes["fleet broker (MQTT)"] == "pass"
    assert outcomes["queue server"] == outcomes["platform server"] == "pass"
    assert outcomes["clock"] == "pass" and outcomes["CJK font"] == "pass"
    assert outcomes["report printed"] == "pass"
    [job] = printer.jobs
    rendering = render_job(job.data, paper_width_mm=80)
    rendering.save(tmp_path / "report.png")
    print(f"printed report: {tmp_path / 'report.png'}")
    assert "终端自检报告" in rendering.text and "结果：全部通过" in rendering.text
    assert "JN-LX-HALL-0042" in rendering.text
    assert rendering.missing_glyphs == set()


def test_a_dead_reader_fails_the_run_with_a_table(parts) -> None:
    config, sam, _printer = parts
    sam.stop()
    result = selftest(config)
    assert result.returncode == 1
    assert "FAIL" in result.stdout and "device idcard (sam)" in result.stdout
    assert "selftest FAILED: device idcard (sam)" in result.stdout


def test_a_presented_card_is_read_and_shown_masked(parts) -> None:
    from drivers.idcard import samples

    config, sam, _printer = parts
    sam.emulator.put_card(samples.RESIDENT)
    result = selftest(config, "--json", "--wait-input", "15")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["input idcard"]["outcome"] == "pass"
    assert checks["input idcard"]["detail"] == f"card read: {samples.RESIDENT.masked_id}"
    assert samples.RESIDENT.id_number not in result.stdout + result.stderr
    assert samples.RESIDENT.name not in result.stdout + result.stderr

"""Remote commands acting on the real app under Xvfb (not a fake UI): maintenance on and off,
a screenshot (refused while a resident's session is on), the technician's test page, and a
restart that ends a real ``kiosk run`` with exit status 75 after a signed command over a real
mosquitto. Then a whole resident session on the real drivers against the wire emulators."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from PIL import Image, ImageStat

from kiosk.session.machine import Phase
from kiosk.telemetry.commands import Command

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def command(name: str, **args) -> Command:  # type: ignore[no-untyped-def]
    return Command(id=f"c-{name}", terminal="DEMO-0001", name=name, args=args, issued=0,
                   expires=1, nonce="n")


def from_the_telemetry_thread(ui, cmd: Command):  # type: ignore[no-untyped-def]
    """Handle ``cmd`` as the reporter does (on its own thread) while the UI thread pumps."""
    result: list = []
    worker = threading.Thread(target=lambda: result.append(ui.kiosk.remote.handle(cmd)),
                              name="telemetry")
    worker.start()
    ui.wait_for(lambda: not worker.is_alive(), timeout_s=15, what=f"the {cmd.name} command")
    worker.join()
    return result[0]


def test_maintenance_on_and_off_from_the_fleet(ui) -> None:
    result = from_the_telemetry_thread(ui, command("maintenance", on=True))
    assert result.status == "ok", result
    ui.wait_screen("maintenance")
    assert ui.kiosk.machine.phase is Phase.MAINTENANCE
    result = from_the_telemetry_thread(ui, command("maintenance", on=False))
    assert result.status == "ok", result
    ui.wait_screen("attract")


def test_maintenance_is_refused_while_a_resident_is_served(ui) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    result = from_the_telemetry_thread(ui, command("maintenance", on=True))
    assert result.status == "failed" and "resident" in result.detail
    assert ui.current_screen == "home" and ui.kiosk.machine.in_session


def test_a_screenshot_of_the_idle_screen_and_none_of_a_session(ui) -> None:
    folder = Path(ui.kiosk.config.storage.data_dir) / "screenshots"
    before = set(folder.glob("*.png")) if folder.exists() else set()
    result = from_the_telemetry_thread(ui, command("screenshot"))
    assert result.status == "ok", result
    shot = Path(result.data["path"])
    assert shot.parent == folder and shot not in before and shot.exists()
    image = Image.open(shot).convert("RGB")
    assert image.size == (1920, 1080) and max(ImageStat.Stat(image).stddev) > 10
    ui.tap("start")  # a resident starts: the screen is theirs
    ui.wait_screen("home")
    taken = set(folder.glob("*.png"))
    result = from_the_telemetry_thread(ui, command("screenshot"))
    assert result.status == "failed" and "session" in result.detail
    assert set(folder.glob("*.png")) == taken


def test_the_test_page_prints_on_the_printer(ui) -> None:
    printer = ui.kiosk.devices.get("printer")
    before = len(printer.jobs)
    result = from_the_telemetry_thread(ui, command("print_test_page"))
    assert result.status == "ok", result
    dialog = ui.app.controller.print_dialog
    ui.wait_for(lambda: dialog.state == "done", timeout_s=15, what="the test page printed")
    assert len(printer.jobs) == before + 1
    from drivers.printer.fake import render_text

    page = render_text(printer.jobs[-1])
    assert ui.kiosk.config.terminal.id in page
    ui.tap("print_close")


def _site_config(lab, path: Path, data_dir: Path) -> Path:  # type: ignore[no-untyped-def]
    from fleet.commands import public_b64

    tls = lab.tls("JN-T1")
    path.write_text(
        '[terminal]\nid = "JN-T1"\nregion_code = "370102"\n\n'
        f'[storage]\ndata_dir = "{data_dir}"\n\n'
        f'[mqtt]\nenabled = true\nurl = "{lab.url}"\nkeepalive_s = 5\n'
        f'ca_file = "{tls["ca_file"]}"\ncert_file = "{tls["cert_file"]}"\n'
        f'key_file = "{tls["key_file"]}"\n\n'
        f'[fleet]\ncommand_keys = ["{public_b64(lab.command_key)}"]\n', "utf-8")
    return path


def test_a_signed_restart_ends_the_real_app_with_status_75(display: str, tmp_path: Path) -> None:
    from fleet.commands import signed_command
    from fleet.lab import FleetLab

    with FleetLab(tmp_path / "fleet", terminals=[("JN-T1", "370102")]) as lab:
        receiver = lab.receiver()
        receiver.start()
        assert receiver.wait_connected(10)
        config = _site_config(lab, tmp_path / "site.toml", tmp_path / "data")
        proc = subprocess.Popen([str(BIN / "kiosk"), "run", "--config", str(config),
                                 "--size", "1280x800"], cwd=ROOT,
                                env={**os.environ, "DISPLAY": display},
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            online = receiver.wait_for(lambda: ((receiver.state("JN-T1", "birth") or {})
                                                .get("values") or {}).get("version"), 90)
            assert online, proc.stderr.read() if proc.poll() is not None else "no birth"
            receiver.send_command("370102", "JN-T1",
                                  signed_command(lab.command_key, "JN-T1", "restart", {}))
            assert proc.wait(60) == 75
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
            if proc.stderr:
                proc.stderr.close()
        assert receiver.wait_for(lambda: any(
            m["values"].get("name") == "restart" and m["values"].get("status") == "ok"
            for m in receiver.messages("cmd/result")), 10), receiver.messages("cmd/result")


def test_a_whole_session_on_the_real_drivers_against_the_wire_emulators(tmp_path: Path) -> None:
    """``kiosk demo --emulate idcard,printer``: the SAM reader on a pseudo-terminal and the
    ESC/POS printer on TCP behind their real drivers, through every screen of the demo."""
    out = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    result = subprocess.run([str(BIN / "kiosk"), "demo", "--headless", "--emulate",
                             "idcard,printer", "--out", str(out)],
                            capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    log = json.loads((out / "session.json").read_text("utf-8"))
    assert log["ok"] and log["emulated"] == ["idcard", "printer"]
    assert log["device_types"]["idcard"] == "sam" and log["device_types"]["printer"] == "escpos"
    # 亮码, 取号, 证明打印 (skipped), 进度查询 (skipped), 评价 by handling number
    assert [r["level"] for r in log["ratings"]] == ["dissatisfied", "very_satisfied", None,
                                                    None, "satisfied"]
    screens = {step["screen"] for step in log["steps"]}
    assert {"identify", "code", "queue", "proof", "rating", "out_of_service",
            "maintenance"} <= screens
    shown = "\n".join(t for step in log["steps"] for t in step.get("texts", []))
    assert "李明" not in shown

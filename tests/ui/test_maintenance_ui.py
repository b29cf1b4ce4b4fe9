"""The maintenance screen: PIN lock-out through the pad, status, self-test, exit twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.pinguard import PinGuard


class Clock:
    def __init__(self) -> None:
        self.now = 2_000_000.0

    def __call__(self) -> float:
        return self.now


def _enter(ui, pin: str) -> str:
    pad = ui.app.controller.pin_pad
    pad.message = ""
    for digit in pin:
        key = next(w for w in pad.walk() if type(w).__name__ == "PinKey" and w.text == digit)
        ui.tap(key)
    ui.tap("pin_ok")
    ui.wait_for(lambda: pad.message != "" or ui.current_screen == "maintenance",
                what="the PIN's outcome")
    return pad.message


@pytest.fixture
def guarded(ui, tmp_path: Path):
    controller = ui.app.controller
    original = controller.pin_guard
    clock = Clock()
    controller.pin_guard = PinGuard(tmp_path / "guard.json", tmp_path / "audit.log",
                                    max_attempts=5, lockout_s=300, clock=clock)
    yield ui, clock, tmp_path / "audit.log"
    controller.pin_guard = original


def test_five_wrong_pins_lock_the_pad_and_every_entry_is_audited(guarded) -> None:
    ui, clock, audit = guarded
    ui.app.controller.request_maintenance()
    ui.wait_for(lambda: ui.app.controller.pin_pad.parent is not None, what="PIN pad")
    messages = []
    for _ in range(5):
        messages.append(_enter(ui, "1111"))
        clock.now += ui.app.controller.pin_guard.wait_s()  # sit out the growing delay
    assert messages[0] == "密码错误"
    assert messages[1:4] == ["错误次数过多，请 1 秒后再试", "错误次数过多，请 2 秒后再试",
                             "错误次数过多，请 4 秒后再试"]
    assert messages[4] == "错误次数过多，请 300 秒后再试"
    clock.now -= 200  # a hundred seconds into the lock-out: even the right PIN is refused
    assert _enter(ui, "246810").startswith("错误次数过多")
    assert ui.current_screen == "attract"
    clock.now += 200
    _enter(ui, "246810")
    ui.wait_screen("maintenance")
    outcomes = [json.loads(line)["outcome"] for line in audit.read_text().splitlines()]
    assert outcomes == ["wrong"] * 5 + ["locked", "accepted"]
    assert "246810" not in audit.read_text() and "1111" not in audit.read_text()
    ui.tap("exit_maintenance")
    ui.wait_screen("attract")


def test_status_selftest_logs_and_exit_to_desktop_confirmed_twice(
        ui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ui.kiosk.machine.enter_maintenance()
    ui.wait_screen("maintenance")
    screen = ui.manager.get_screen("maintenance")
    assert "车队服务器：未启用" in screen.status and "待发送：" in screen.status
    assert "办事指南目录：版本" in screen.status
    from drivers.printer.interface import PaperLevel, PrinterStatus

    printer = ui.kiosk.devices.get("printer")
    printer.set_status(PrinterStatus(online=True, paper=PaperLevel.OUT, cover_open=False,
                                     cutter_error=False, error=False))
    screen.prepare()
    assert any("纸张: 已用完" in row["reason"] for row in screen.devices
               if row["label"] == "打印机"), screen.devices
    ui.tap("paper_reset")
    ui.wait_for(lambda: screen.selftest_text == "纸张：ok", what="the new roll sensed")
    assert printer.status().paper is PaperLevel.OK
    ui.tap("selftest")
    ui.wait_for(lambda: "自检全部通过" in screen.selftest_text, timeout_s=20,
                what="the self-test result")
    assert "[通过] device printer (fake)" in screen.selftest_text
    for size in ((1920, 1080), (1080, 1920)):
        ui.resize(*size)
        ui.pump(3)
        print(f"screenshot: {ui.screenshot(tmp_path / f'maintenance-{size[0]}x{size[1]}.png')}")
    ui.resize(1920, 1080)
    assert ui.missing_glyphs() == []

    stopped = []
    monkeypatch.setattr(ui.app, "stop", lambda *a: stopped.append(ui.app.exit_status))
    ui.tap("exit_desktop")
    ui.pump(2)
    assert stopped == [] and screen.exit_armed
    assert "再按一次确认退出到桌面" in ui.texts()
    ui.tap("exit_desktop")
    ui.pump(2)
    assert stopped == [64]
    ui.app.exit_status = 0
    ui.tap("exit_maintenance")
    ui.wait_screen("attract")

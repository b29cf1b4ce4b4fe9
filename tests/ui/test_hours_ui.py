"""A hosted terminal outside its opening hours: hours and the nearest 24-hour zone on the
attract screen, no session; inside its hours, or in a 24-hour zone, it serves."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from config.schema import OpeningHours
from kiosk.session.machine import Phase


@pytest.fixture
def bank(ui, monkeypatch: pytest.MonkeyPatch):
    original = ui.kiosk.config
    terminal = original.terminal.model_copy(update={
        "host": "中国建设银行济南历下支行",
        "opening_hours": [OpeningHours(days="mon-fri", open="09:00", close="17:00"),
                          OpeningHours(days="sat", open="09:00", close="12:00")],
        "nearest_24h_zone": "历下区政务服务中心一楼24小时自助服务区（解放东路3号）"})
    ui.kiosk.config = original.model_copy(update={"terminal": terminal})
    now = {"at": datetime(2026, 12, 7, 20, 30)}  # a Monday evening
    monkeypatch.setattr(ui.app.controller, "wall_now",
                        lambda tz: now["at"].replace(tzinfo=tz))
    yield ui, now
    ui.kiosk.config = original
    ui.manager.get_screen("attract").refresh_hours()


def test_closed_shows_hours_and_nearest_zone_and_starts_nothing(bank, tmp_path: Path) -> None:
    ui, now = bank
    attract = ui.manager.get_screen("attract")
    attract.refresh_hours()
    ui.pump(3)
    assert attract.closed
    texts = ui.texts()
    assert "本终端暂停服务" in texts
    assert "服务时间：周一至周五 09:00-17:00；周六 09:00-12:00" in texts
    assert "最近的24小时自助服务区：历下区政务服务中心一楼24小时自助服务区（解放东路3号）" in texts
    assert ui.missing_glyphs() == []
    for size in ((1080, 1920), (1920, 1080)):
        ui.resize(*size)
        ui.pump(3)
        shot = ui.screenshot(tmp_path / f"closed-{size[0]}x{size[1]}.png")
        print(f"screenshot: {shot}")
    ui.resize(1920, 1080)
    ui.tap_at(960, 300)
    ui.pump(5)
    assert ui.kiosk.machine.phase is Phase.ATTRACT  # no session outside the hours

    now["at"] = datetime(2026, 12, 8, 10, 0)  # Tuesday morning: open
    ui.tap_at(960, 300)
    ui.wait_for(lambda: ui.kiosk.machine.phase is Phase.HOME, what="a session starts")


def test_a_24_hour_zone_ignores_hours(bank) -> None:
    ui, _now = bank
    config = ui.kiosk.config
    ui.kiosk.config = config.model_copy(update={"terminal": config.terminal.model_copy(
        update={"open_24h": True})})
    attract = ui.manager.get_screen("attract")
    attract.refresh_hours()
    assert not attract.closed
    ui.tap("start")
    ui.wait_for(lambda: ui.kiosk.machine.phase is Phase.HOME, what="a session starts")

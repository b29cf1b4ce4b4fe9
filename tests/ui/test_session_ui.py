"""Tap through the real app under Xvfb and check what is shown."""

from __future__ import annotations

import threading

import pytest

from drivers.idcard.samples import RESIDENT
from drivers.printer.interface import PaperLevel, PrinterStatus
from kiosk.session.machine import Phase
from screens.pilot import PilotError


def on_device_thread(action) -> None:
    thread = threading.Thread(target=action, name="simulated-device")
    thread.start()
    thread.join(timeout=5)


def take_a_ticket(ui) -> None:
    ui.wait_screen("queue")
    ui.tap("category_A")
    ui.wait_for(lambda: ui.app.controller.print_dialog.state == "done", what="ticket printed")
    ui.tap("print_close")
    ui.wait_for(lambda: ui.app.controller.print_dialog.parent is None, what="dialog closed")


def identify_with_card(ui) -> None:
    on_device_thread(lambda: ui.kiosk.devices.get("idcard").present(RESIDENT))
    ui.wait_for(lambda: ui.manager.get_screen("identify").identified, what="identity shown")


def play_resident_session(ui) -> None:
    """attract → home → 亮码 → card → continue → complete → rating (bad, with reason) → thanks."""
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("code")
    ui.wait_screen("identify")
    identify_with_card(ui)
    ui.tap("continue")
    ui.wait_screen("code")
    ui.tap("code_resident")
    ui.wait_for(lambda: ui.manager.get_screen("code").page == "show", what="the code shown")
    ui.tap("complete")
    ui.wait_screen("rating")
    ui.tap("level_dissatisfied")
    ui.tap("reason_操作复杂")
    ui.tap("submit")
    ui.wait_screen("thanks")
    ui.tap("elder")
    ui.tap("language")
    ui.pump_for(0.2)


def test_a_whole_session_plays_through(ui) -> None:
    """The frames' timings of this session are measured by tests/bench/bench_ui.py."""
    play_resident_session(ui)
    record = ui.kiosk.ratings.records[-1]
    assert record.item == "code" and record.reasons == ("操作复杂",)
    assert len(ui.frame_times) > 50  # the pilot pumped real frames all the way


def test_rating_screen_appears_by_itself_and_bad_rating_needs_a_reason(ui) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("queue")
    take_a_ticket(ui)
    ui.tap("complete")
    ui.wait_screen("rating")  # nobody tapped "rate": the flow's completion led here
    submit = ui.find("submit")
    assert submit.disabled  # no level chosen: no default level
    ui.tap("level_very_dissatisfied")
    assert ui.find("submit").disabled
    with pytest.raises(PilotError, match="disabled"):
        ui.tap("submit")
    assert ui.current_screen == "rating"
    ui.tap("reason_等待时间长")
    assert not ui.find("submit").disabled
    ui.tap("submit")
    ui.wait_screen("thanks")
    record = ui.kiosk.ratings.records[-1]
    assert record.item == "queue" and record.level.value == "very_dissatisfied"
    assert record.reasons == ("等待时间长",)


def test_a_good_rating_needs_no_reason_and_can_come_from_the_pad(ui) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("queue")
    take_a_ticket(ui)
    ui.tap("complete")
    ui.wait_screen("rating")
    on_device_thread(lambda: ui.kiosk.devices.get("ratingpad").press("satisfied"))
    ui.wait_for(lambda: ui.manager.get_screen("rating").selected == "satisfied", what="pad")
    ui.tap("submit")
    ui.wait_screen("thanks")
    assert ui.kiosk.ratings.records[-1].level.value == "satisfied"


def test_pad_presses_outside_the_rating_prompt_are_ignored(ui) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    before = len(ui.kiosk.ratings.records)
    on_device_thread(lambda: ui.kiosk.devices.get("ratingpad").press("very_satisfied"))
    ui.pump_for(0.2)
    assert ui.manager.get_screen("rating").selected == ""
    assert len(ui.kiosk.ratings.records) == before


def test_idle_timeout_drops_every_trace_of_the_person(ui, clock, captured_logs) -> None:
    secrets = [RESIDENT.name, RESIDENT.id_number, RESIDENT.address, RESIDENT.masked_name,
               RESIDENT.masked_id]
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("proof")
    ui.wait_screen("identify")
    identify_with_card(ui)
    identity = ui.kiosk.machine.identity
    shown = ui.texts()
    assert RESIDENT.masked_name in shown and RESIDENT.masked_id in shown
    assert RESIDENT.name not in shown and RESIDENT.id_number not in shown

    clock.advance(ui.kiosk.config.ui.idle_timeout_s + 1)
    ui.wait_for(lambda: ui.app.controller.idle_prompt.parent is not None, what="idle prompt")
    assert any("秒后将结束本次服务" in t for t in ui.texts())
    clock.advance(ui.kiosk.config.ui.idle_prompt_s + 1)
    ui.wait_screen("attract")
    ui.pump(3)

    # the session
    machine = ui.kiosk.machine
    assert machine.phase is Phase.ATTRACT
    assert machine.identity is None and machine.session.personal == {}
    assert identity.name == "" and identity.id_number == "" and not identity.photo
    # every widget of every screen and dialog, shown or not
    everything = "\n".join(ui.texts(visible_only=False))
    for secret in secrets:
        assert secret not in everything
    identify = ui.manager.get_screen("identify")
    assert (identify.masked_name, identify.masked_id, identify.identified) == ("", "", False)
    assert ui.manager.get_screen("progress").masked_name == ""
    # the log of the whole session
    log = "\n".join(captured_logs)
    assert "identified by idcard" in log  # the session was logged…
    for secret in [RESIDENT.name, RESIDENT.id_number, RESIDENT.address]:
        assert secret not in log  # …without the person


def test_need_more_time_keeps_the_session(ui, clock) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    clock.advance(ui.kiosk.config.ui.idle_timeout_s + 1)
    ui.wait_for(lambda: ui.app.controller.idle_prompt.parent is not None, what="idle prompt")
    ui.tap("extend")
    ui.wait_for(lambda: ui.app.controller.idle_prompt.parent is None, what="prompt closed")
    ui.pump_for(0.3)
    assert ui.current_screen == "home"


def test_exit_button_ends_the_session(ui) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("code")
    ui.wait_screen("identify")
    identify_with_card(ui)
    ui.tap("exit")
    ui.wait_screen("attract")
    assert ui.kiosk.machine.identity is None


def test_elder_mode_and_english_apply_everywhere_and_reset_after_the_session(ui) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    body_before = ui.app.theme.body
    ui.tap("elder")
    ui.tap("language")
    ui.pump(2)
    assert ui.app.theme.body > body_before
    assert "Take a Number" in ui.texts() and "取号" not in ui.texts()
    tile = ui.find("queue")
    assert min(tile.size) >= ui.app.theme.target
    ui.tap("exit")
    ui.wait_screen("attract")
    assert ui.app.theme.elder is False and ui.app.lang == "zh_CN"
    assert "轻触屏幕开始办理" in ui.texts()


def test_out_of_service_when_the_printer_has_no_paper(ui, clock) -> None:
    printer = ui.kiosk.devices.get("printer")
    out = PrinterStatus(online=True, paper=PaperLevel.OUT, cover_open=False, cutter_error=False,
                        error=False)
    ok = PrinterStatus(online=True, paper=PaperLevel.OK, cover_open=False, cutter_error=False,
                       error=False)
    on_device_thread(lambda: printer.set_status(out))
    try:
        ui.wait_for(lambda: ui.kiosk.devices.health()["printer"].state.value == "unavailable",
                    what="printer unavailable")
        ui.pump_for(0.5)
        assert ui.current_screen == "attract"  # within the grace period
        clock.advance(ui.kiosk.config.health.grace_s + 1)
        ui.wait_screen("out_of_service")
        assert any("打印机" in t for t in ui.texts())
    finally:
        on_device_thread(lambda: printer.set_status(ok))
    ui.wait_screen("attract")


def test_maintenance_needs_a_long_press_and_the_pin(ui) -> None:
    from kivy.core.window import Window

    corner = (20, Window.height - 20)
    ui.tap_at(*corner)  # a short tap does nothing
    ui.pump_for(0.2)
    assert ui.app.controller.pin_pad.parent is None
    assert ui.current_screen == "attract"
    ui.tap_at(*corner, hold_s=ui.kiosk.config.maintenance.long_press_s + 0.3)
    ui.wait_for(lambda: ui.app.controller.pin_pad.parent is not None, what="PIN pad")

    def enter(pin: str) -> None:
        pad = ui.app.controller.pin_pad
        for digit in pin:
            key = next(w for w in pad.walk() if type(w).__name__ == "PinKey" and w.text == digit)
            ui.tap(key)
        ui.tap("pin_ok")

    enter("1111")
    ui.wait_for(lambda: ui.app.controller.pin_pad.message == "密码错误", what="wrong PIN")
    assert ui.current_screen == "attract"
    enter("246810")
    ui.wait_screen("maintenance")
    rows = ui.manager.get_screen("maintenance").devices
    assert {row["label"] for row in rows} >= {"身份证阅读器", "打印机", "评价器"}
    ui.tap("exit_maintenance")
    ui.wait_screen("attract")

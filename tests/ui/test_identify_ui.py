"""The identify step with the simulator panel, a social security card, and a dead reader."""

from __future__ import annotations

import threading

from drivers.smartcard.samples import SAMPLE_CARD


def go_identify(ui, flow: str = "code") -> None:
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap(flow)
    ui.wait_screen("identify")


def test_the_simulator_panel_places_a_card(ui) -> None:
    go_identify(ui)
    ui.tap("simulator")
    panel = ui.app.simulator_panel
    ui.wait_for(lambda: panel.parent is not None, what="simulator panel")
    assert "放身份证" in ui.texts()
    ui.tap("sim_idcard")
    ui.wait_for(lambda: ui.manager.get_screen("identify").identified, what="identified")
    assert panel.parent is None
    ui.kiosk.simulation.lift_id_card()


def test_a_social_security_card_identifies_too(ui) -> None:
    go_identify(ui, "proof")
    reader = ui.kiosk.devices.get("smartcard")
    thread = threading.Thread(target=reader.insert, args=(SAMPLE_CARD,))
    thread.start()
    thread.join(5)
    ui.wait_for(lambda: ui.manager.get_screen("identify").identified, what="identified")
    assert ui.kiosk.machine.identity.source == "sscard"
    assert SAMPLE_CARD.masked_name in ui.texts()
    reader.remove()


def test_a_dead_id_reader_is_not_asked_for(ui) -> None:
    reader = ui.kiosk.devices.get("idcard")
    go_identify(ui)
    assert "请将身份证放在感应区" in ui.texts()
    thread = threading.Thread(target=reader.set_available, args=(False, "unplugged"))
    thread.start()
    thread.join(5)
    try:
        ui.wait_for(lambda: "请插入社保卡" in ui.texts(), what="the other way offered")
        assert "请将身份证放在感应区" not in ui.texts()
        assert any("身份证阅读器暂时无法使用" in t for t in ui.texts())
    finally:
        reader.set_available(True)
    ui.wait_for(lambda: "请将身份证放在感应区" in ui.texts(), what="reader back")

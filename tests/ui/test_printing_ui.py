"""证明打印 end to end: identify, choose, "printing…", the slip, the refusal path."""

from __future__ import annotations

import threading

from drivers.idcard.samples import RESIDENT
from drivers.printer.fake import render_text
from drivers.printer.interface import PaperLevel, PrinterStatus

OK = PrinterStatus(online=True, paper=PaperLevel.OK, cover_open=False, cutter_error=False,
                   error=False)
OUT = PrinterStatus(online=True, paper=PaperLevel.OUT, cover_open=False, cutter_error=False,
                    error=False)


def on_device_thread(action) -> None:
    thread = threading.Thread(target=action)
    thread.start()
    thread.join(timeout=5)


def open_proof_screen(ui) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("proof")
    ui.wait_screen("identify")
    on_device_thread(lambda: ui.kiosk.devices.get("idcard").present(RESIDENT))
    ui.wait_for(lambda: ui.manager.get_screen("identify").identified, what="identity")
    ui.tap("continue")
    ui.wait_screen("proof")


def test_print_a_proof_then_rate(ui) -> None:
    printer = ui.kiosk.devices.get("printer")
    before = len(printer.jobs)
    open_proof_screen(ui)
    assert ui.find("complete").disabled  # nothing printed yet
    ui.tap("proof_insurance_payment")
    dialog = ui.app.controller.print_dialog
    ui.wait_for(lambda: dialog.state == "done", what="print finished")
    assert "打印完成，请取走凭条" in ui.texts()
    assert len(printer.jobs) == before + 1
    slip = render_text(printer.jobs[-1])
    # the certificate itself carries the holder's full name and number; the screen never does
    assert "参保缴费证明" in slip and RESIDENT.name in slip and RESIDENT.id_number in slip
    assert "样例" in slip  # embedded proofs are marked as sample data
    # the demo profile shows the slip as printed: rendered from the real ESC/POS bytes, in memory
    assert dialog.preview is not None and dialog.preview.size[0] == 576  # 80 mm at 203 dpi
    assert printer.take_preview(printer.job_ids[-1]) == b""  # handed out once, not kept
    ui.tap("print_close")
    assert dialog.preview is None
    ui.wait_for(lambda: dialog.parent is None, what="dialog closed")
    assert not ui.find("complete").disabled
    assert all(RESIDENT.id_number not in t and RESIDENT.name not in t for t in ui.texts())
    ui.tap("complete")
    ui.wait_screen("rating")


def test_paper_out_refuses_and_offers_the_phone(ui) -> None:
    printer = ui.kiosk.devices.get("printer")
    before = len(printer.jobs)
    open_proof_screen(ui)
    on_device_thread(lambda: printer.set_status(OUT))
    try:
        ui.pump(3)
        ui.tap("proof_rights_record")
        dialog = ui.app.controller.print_dialog
        ui.wait_for(lambda: dialog.state == "failed", what="refusal")
        assert "打印纸已用完" in ui.texts() and "无法打印" in ui.texts()
        assert dialog.phone_url.startswith("https://") and "/verify/PV1." in dialog.phone_url
        assert "扫码在手机上查看和下载" in ui.texts()
        assert len(printer.jobs) == before
        ui.tap("print_close")
        assert ui.find("complete").disabled
    finally:
        on_device_thread(lambda: printer.set_status(OK))


def test_a_dropped_connection_is_retried_without_the_resident_noticing(ui) -> None:
    printer = ui.kiosk.devices.get("printer")
    ui.kiosk.printing.backoff_s = 0.01
    open_proof_screen(ui)
    printer.fail_next(1)
    before = len(printer.jobs)
    ui.tap("proof_medical_account")
    dialog = ui.app.controller.print_dialog
    ui.wait_for(lambda: dialog.state == "done", what="printed after a retry")
    assert len(printer.jobs) == before + 1
    ui.tap("print_close")


def test_technician_prints_the_test_page_from_maintenance(ui) -> None:
    printer = ui.kiosk.devices.get("printer")
    ui.kiosk.machine.enter_maintenance()
    ui.wait_screen("maintenance")
    rows = ui.manager.get_screen("maintenance").devices
    assert any(r["label"] == "打印机" and "纸张" in r["reason"] for r in rows)
    before = len(printer.jobs)
    ui.tap("test_page")
    ui.wait_for(lambda: ui.app.controller.print_dialog.state == "done", what="test page")
    assert len(printer.jobs) == before + 1
    assert ui.kiosk.config.terminal.id in render_text(printer.jobs[-1])
    ui.tap("print_close")

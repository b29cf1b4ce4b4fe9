"""进度查询 and 帮办 on screen (issue #15): progress by ID card and by handling number, with the
rating only after something was shown; a help call acknowledged from the staff side of a real
hall server (uvicorn on 127.0.0.1) changing the kiosk's message; help when nothing can be
reached; the proof preview masks what only the paper needs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from drivers.idcard.samples import RESIDENT
from kiosk.codes.platform import Person

API = "/api/v1"


def on_device_thread(action) -> None:
    thread = threading.Thread(target=action, name="simulated-device")
    thread.start()
    thread.join(timeout=5)


def open_progress(ui) -> object:
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("progress")
    ui.wait_screen("progress")
    return ui.manager.get_screen("progress")


def test_progress_by_id_card_shows_the_timeline_and_prints_a_slip(ui) -> None:
    expected = ui.kiosk.codes.progress_for(Person(RESIDENT.id_number, RESIDENT.name))
    screen = open_progress(ui)
    assert screen.page == "start" and ui.kiosk.identify.armed
    on_device_thread(lambda: ui.kiosk.devices.get("idcard").present(RESIDENT))
    ui.wait_for(lambda: screen.page == "list", timeout_s=10, what="the applications")
    texts = ui.texts()
    for app in expected:
        assert app.item in texts
    assert RESIDENT.id_number not in "\n".join(ui.texts(visible_only=False))
    assert ui.find("progress_greeting").text.endswith("李*")
    ui.tap("application_0")
    ui.wait_for(lambda: screen.page == "detail", what="the timeline")
    newest = expected[0]
    assert ui.find("progress_item").text == newest.item
    assert newest.current_step in ui.find("progress_step").text
    rows = [w for w in ui.walk_visible() if type(w).__name__ == "TimelineRow"]
    assert [r.name for r in rows] == [s.name for s in newest.steps]
    assert [r.when for r in rows] == [s.done_on for s in newest.steps]
    assert screen.ids  # the QR to follow on the phone carries the platform's page
    qr = next(w for w in ui.walk_visible() if type(w).__name__ == "QrImage")
    assert qr.data == newest.follow_url
    printer = ui.kiosk.devices.get("printer")
    jobs_before = len(printer.jobs)
    ui.tap("progress_print")
    dialog = ui.app.controller.print_dialog
    ui.wait_for(lambda: dialog.state == "done", timeout_s=10, what="slip printed")
    slip = printer.jobs[jobs_before]
    printed = "\n".join(getattr(b, "text", "") for b in slip.blocks)
    assert newest.handling_number in printed and newest.item in printed
    assert RESIDENT.name not in printed and RESIDENT.id_number not in printed
    ui.tap("print_close")
    on_device_thread(lambda: ui.kiosk.devices.get("idcard").lift())
    ui.tap("complete")
    ui.wait_screen("rating")  # something was done: 好差评 follows
    assert ui.kiosk.machine.session.handling_number == newest.handling_number


def test_progress_by_handling_number_typed_on_the_keypad(ui) -> None:
    number = ui.kiosk.codes.progress_for(Person(RESIDENT.id_number, RESIDENT.name))[1]
    screen = open_progress(ui)
    for char in number.handling_number:
        ui.tap(f"pkey_{char}")
    assert ui.find("progress_number").text == number.handling_number
    ui.tap("progress_search")
    ui.wait_for(lambda: screen.page == "detail", timeout_s=10, what="the application")
    assert ui.find("progress_item").text == number.item
    assert screen.masked_name == ""  # nobody identified: no greeting, no name


def test_a_wrong_number_says_so_and_leaves_without_a_rating(ui) -> None:
    number = ui.kiosk.codes.progress_for(Person(RESIDENT.id_number, RESIDENT.name))[0]
    wrong = number.handling_number[:-1] + str((int(number.handling_number[-1]) + 1) % 10)
    screen = open_progress(ui)
    for char in wrong:
        ui.tap(f"pkey_{char}")
    ui.tap("progress_search")
    ui.wait_for(lambda: screen.page == "problem", timeout_s=10, what="the not-found state")
    assert ui.find("progress_problem").text == "没有找到这个办件编号，请核对回执"
    ui.tap("complete")
    ui.wait_screen("home")  # nothing was done: no rating


def test_progress_when_the_platform_cannot_be_reached(ui) -> None:
    from kiosk.codes.http_adapter import HttpCodePlatform

    real = ui.kiosk.codes
    # a platform URL where nothing listens: a port the OS gave us and we closed again
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ui.kiosk.codes = HttpCodePlatform(f"http://127.0.0.1:{port}", timeout_s=1)
    try:
        screen = open_progress(ui)
        on_device_thread(lambda: ui.kiosk.devices.get("idcard").present(RESIDENT))
        ui.wait_for(lambda: screen.page == "problem", timeout_s=10, what="the error state")
        assert "暂时无法连接服务平台" in ui.find("progress_problem").text
        on_device_thread(lambda: ui.kiosk.devices.get("idcard").lift())
    finally:
        ui.kiosk.codes = real


# -- 帮办 ----------------------------------------------------------------------------------------
def test_help_when_nothing_can_be_reached_offers_what_works(ui) -> None:
    # the demo profile: embedded queue (no hall server), MQTT off
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("help")
    ui.wait_screen("help")
    screen = ui.manager.get_screen("help")
    seen: list[str] = []
    watch = screen.fbind("state", lambda _s, state: seen.append(state))
    ui.wait_for(lambda: screen.state == "unreachable", timeout_s=10, what="the outcome")
    screen.unbind_uid("state", watch)
    assert "accepted" not in seen  # never "已通知工作人员" when nobody was notified
    texts = ui.texts()
    assert "暂时无法联系到工作人员" in texts
    assert "已通知工作人员，请在此稍候" not in texts
    config = ui.kiosk.config.help
    assert config.phone in ui.find("help_phone").text
    assert config.nearest_window in ui.find("help_window").text
    printer = ui.kiosk.devices.get("printer")
    jobs = len(printer.jobs)
    ui.tap("help_print")
    ui.wait_for(lambda: ui.app.controller.print_dialog.state == "done", what="help slip")
    printed = "\n".join(getattr(b, "text", "") for b in printer.jobs[jobs].blocks)
    assert "帮办求助单" in printed and config.phone in printed
    ui.tap("print_close")


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[tuple[object, str]]:
    from kiosk.queue import QueueEngine, QueueHttpServer, QueueSettings

    engine = QueueEngine(tmp_path / "db" / "hall.sqlite", QueueSettings(synchronous="normal"),
                         key_path=tmp_path / "secret" / "id.key")
    with QueueHttpServer(engine, speech_dir=tmp_path / "speech") as server:
        key = server.hall.add_terminal("DEMO-0001")
        server.hall.add_staff("li", "password-1", ["1"])
        yield server, key
    engine.close()


def test_help_call_acknowledged_by_staff_changes_the_message(ui, hall) -> None:
    from kiosk.help.service import HallHelpChannel
    from kiosk.queue.client import HttpQueueService

    server, key = hall
    client = HttpQueueService(server.url, terminal="DEMO-0001", api_key=key, timeout_s=5)
    service = ui.kiosk.help
    saved = service.channels, service.poll_s
    service.channels, service.poll_s = [HallHelpChannel(client)], 0.2
    staff = httpx.Client(base_url=server.url, timeout=10)
    try:
        answer = staff.post(f"{API}/session", json={"name": "li", "password": "password-1"})
        staff.headers["X-CSRF-Token"] = answer.json()["csrf"]
        ui.tap("start")
        ui.wait_screen("home")
        ui.tap("help")
        screen = ui.manager.get_screen("help")
        ui.wait_for(lambda: screen.state == "accepted", timeout_s=10, what="the server's yes")
        assert ui.find("help_message").text == "已通知工作人员，请在此稍候"
        # the staff page's list: this terminal and where it stands
        listed = staff.get(f"{API}/help").json()
        assert len(listed) == 1 and listed[0]["terminal"] == "DEMO-0001"
        assert listed[0]["place"] == f"{ui.kiosk.config.terminal.site} " \
                                     f"{ui.kiosk.config.terminal.name}"
        acked = staff.post(f"{API}/help/{listed[0]['id']}/acknowledge")
        assert acked.status_code == 200, acked.text
        ui.wait_for(lambda: screen.state == "acknowledged", timeout_s=10, what="the ack")
        assert ui.find("help_message").text == "工作人员正在赶来，请在此稍候"
        ui.tap("exit")
        ui.wait_screen("attract")
    finally:
        service.cancel()
        service.channels, service.poll_s = saved
        staff.close()
        client.close()


# -- proofs --------------------------------------------------------------------------------------
def test_proof_preview_masks_the_holder_while_the_paper_has_it_in_full(ui) -> None:
    from kiosk.codes.proofdocs import PROOF_KINDS

    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("proof")
    ui.wait_screen("identify")
    on_device_thread(lambda: ui.kiosk.devices.get("idcard").present(RESIDENT))
    ui.wait_for(lambda: ui.manager.get_screen("identify").identified, what="identity")
    ui.tap("continue")
    ui.wait_screen("proof")
    ui.wait_for(lambda: len(ui.manager.get_screen("proof").proofs) == len(PROOF_KINDS),
                what="the proof list")
    printer = ui.kiosk.devices.get("printer")
    jobs = len(printer.jobs)
    printing = ui.kiosk.printing
    previews: list = []
    real_submit = printing.submit

    def spy(doc, on_done, preview_doc=None):  # records what the preview is made from
        previews.append(preview_doc)
        return real_submit(doc, on_done, preview_doc=preview_doc)

    printing.submit = spy
    try:
        ui.tap("proof_insurance_payment")
        dialog = ui.app.controller.print_dialog
        # the document comes from the platform on a worker first: wait for the new job
        ui.wait_for(lambda: len(printer.jobs) > jobs and dialog.state == "done",
                    timeout_s=10, what="proof printed")
    finally:
        del printing.submit
    paper = "\n".join(getattr(b, "text", "") for b in printer.jobs[jobs].blocks)
    assert RESIDENT.id_number in paper and RESIDENT.name in paper  # the document needs them
    assert "样例" in paper
    qr = next(b for b in printer.jobs[jobs].blocks if type(b).__name__ == "QrCode")
    code = qr.data.rsplit("/verify/", 1)[1]
    assert ui.kiosk.codes.verify_proof(code).masked_id.endswith(RESIDENT.id_number[-4:])
    # the on-screen preview is rendered from the masked slip
    assert len(previews) == 1 and previews[0] is not None
    preview = previews[0]
    shown = "\n".join(getattr(b, "text", "") for b in preview.blocks)
    assert RESIDENT.id_number not in shown and RESIDENT.name not in shown
    assert "3701**********" in shown
    ui.tap("print_close")
    on_device_thread(lambda: ui.kiosk.devices.get("idcard").lift())


def test_progress_by_a_scanned_receipt(ui) -> None:
    """The receipt's QR carries the handling number: scanning it shows the application."""
    app = ui.kiosk.codes.progress_for(Person(RESIDENT.id_number, RESIDENT.name))[0]
    screen = open_progress(ui)
    ui.kiosk.simulation.scan(app.handling_number)
    ui.wait_for(lambda: screen.page == "detail", timeout_s=10, what="the scanned application")
    assert ui.find("progress_item").text == app.item
    assert ui.kiosk.machine.identity is None  # a receipt is not an identity

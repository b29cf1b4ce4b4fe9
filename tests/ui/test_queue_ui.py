"""取号 end to end: tiles with people waiting, a ticket printed on the simulated printer, the
green channel, appointment check-in, closed hours, a full day, an unreachable hall server, and
the layout of every page at four sizes, two modes and two languages."""

from __future__ import annotations

import re
import socket
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_layout import SIZES, problems_on_screen

from drivers.idcard.samples import RESIDENT, RESIDENT_LONG_TERM
from drivers.printer.fake import render_text

SHOTS = Path("/tmp/queue-shots")
SITE = ZoneInfo("Asia/Shanghai")


def on_device_thread(action) -> None:
    thread = threading.Thread(target=action)
    thread.start()
    thread.join(timeout=5)


def queue_screen(ui):
    return ui.manager.get_screen("queue")


def open_queue(ui, tiles: bool = True) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("queue")
    ui.wait_screen("queue")
    if tiles:
        screen = queue_screen(ui)
        ui.wait_for(lambda: screen.categories and screen.categories[0]["waiting"] != -2
                    and not screen.loading, what="tiles with figures")
        ui.find("category_A")


def place_card(ui, card) -> None:
    on_device_thread(lambda: ui.kiosk.devices.get("idcard").present(card))


def close_print_dialog(ui) -> None:
    dialog = ui.app.controller.print_dialog
    ui.wait_for(lambda: dialog.state in ("done", "failed"), what="print outcome")
    ui.tap("print_close")
    ui.wait_for(lambda: dialog.parent is None, what="dialog closed")


def tile_texts(ui, code: str) -> list[str]:
    tile = ui.find(f"category_{code}")
    return [w.text for w in tile.walk(restrict=True) if getattr(w, "text", "")]


def engine_service(tmp_path: Path, *, hours_lines=(), settings=None, name="q.sqlite"):
    """A fresh embedded queue (own database) to put behind the screen for one test."""
    from kiosk.queue import EmbeddedQueueService, OpeningHours, QueueEngine

    engine = QueueEngine(tmp_path / name, settings, OpeningHours(list(hours_lines), SITE))
    return EmbeddedQueueService(engine, terminal="DEMO-0001")


@pytest.fixture
def swap_queue(ui, monkeypatch):
    """Put another queue service behind the kiosk for one test (closed afterwards)."""
    made = []

    def swap(service):
        made.append(service)
        monkeypatch.setattr(ui.kiosk, "queue", service)
        return service

    yield swap
    for service in made:
        service.close()


def test_take_a_ticket_end_to_end_with_the_simulated_printer(ui) -> None:
    printer = ui.kiosk.devices.get("printer")
    before = len(printer.jobs)
    open_queue(ui)
    # the tiles show the categories of the hall with people waiting, fetched off the UI thread
    assert {"综合业务", "社保医保", "不动产登记", "公积金"} <= set(ui.texts())
    waiting_text = next(t for t in tile_texts(ui, "A") if t.startswith("等候"))
    waiting = int(re.search(r"\d+", waiting_text).group())
    assert any(t.startswith("预计等待") for t in tile_texts(ui, "A"))
    ui.tap("category_A")
    dialog = ui.app.controller.print_dialog
    ui.wait_for(lambda: dialog.state == "done", what="ticket printed")
    screen = queue_screen(ui)
    number = screen.ticket["number"]
    assert re.fullmatch(r"A\d{3}", number)
    # the ticket on screen: number, category, where, people ahead, estimated wait, follow QR
    assert number in ui.texts() and "综合业务" in ui.texts()
    assert f"前面还有 {waiting} 人" in ui.texts()
    assert "请到A区等候叫号（1号窗口、2号窗口）" in ui.texts()
    assert (screen.ticket_where(screen.ticket, "en")
            == "Please wait in Area A to be called (Window 1, Window 2)")
    assert any(t.startswith("预计等待：") for t in ui.texts())
    assert screen.ticket["url"].startswith("https://") and number in screen.ticket["url"]
    # …and on paper, through the real ESC/POS layout of the simulated printer
    assert len(printer.jobs) == before + 1
    slip = render_text(printer.jobs[-1])
    assert number in slip and "综合业务" in slip and "A区" in slip
    assert "手机扫码，随时查看排队进度" in slip
    assert screen.printed
    # it is in the queue: the hall's figures count it
    status = ui.kiosk.queue.category("A")
    assert status.waiting == waiting + 1
    close_print_dialog(ui)
    assert "号票已打印，请取走" in ui.texts()
    ui.tap("complete")
    ui.wait_screen("rating")
    assert ui.kiosk.machine.session.handling_number == number
    assert ui.kiosk.machine.session.completed_item == "queue"
    # nothing blocked the UI thread on the way (network and printing ran on workers)
    assert max(ui.ui_work_times()) < 0.1, max(ui.ui_work_times())


def test_paper_out_keeps_the_number_and_the_qr_on_screen(ui) -> None:
    from drivers.printer.interface import PaperLevel, PrinterStatus

    printer = ui.kiosk.devices.get("printer")
    ok = PrinterStatus(online=True, paper=PaperLevel.OK, cover_open=False, cutter_error=False,
                       error=False)
    out = PrinterStatus(online=True, paper=PaperLevel.OUT, cover_open=False,
                        cutter_error=False, error=False)
    open_queue(ui)
    jobs = len(printer.jobs)
    on_device_thread(lambda: printer.set_status(out))
    try:
        ui.pump(3)
        ui.tap("category_C")
        dialog = ui.app.controller.print_dialog
        ui.wait_for(lambda: dialog.state == "failed", what="refusal")
        assert "打印纸已用完" in ui.texts()
        ui.tap("print_close")
        screen = queue_screen(ui)
        # the number was given: it stays on screen with the QR to follow it on a phone
        assert screen.page == "ticket" and screen.ticket["number"] in ui.texts()
        assert screen.qr_png.startswith(b"\x89PNG") and not screen.printed
        assert "号票已打印，请取走" not in ui.texts()
        assert len(printer.jobs) == jobs
        ui.tap("complete")
        ui.wait_screen("rating")
    finally:
        on_device_thread(lambda: printer.set_status(ok))


def test_a_second_tap_while_the_first_is_on_its_way_gives_one_ticket(ui) -> None:
    printer = ui.kiosk.devices.get("printer")
    open_queue(ui)
    before = ui.kiosk.queue.category("B").waiting
    jobs = len(printer.jobs)
    screen = queue_screen(ui)
    screen.choose("B")
    screen.choose("B")  # a double tap before the answer
    close_print_dialog(ui)
    assert ui.kiosk.queue.category("B").waiting == before + 1
    assert len(printer.jobs) == jobs + 1


def test_green_channel_for_an_elderly_resident(ui) -> None:
    printer = ui.kiosk.devices.get("printer")
    open_queue(ui)
    ui.tap("green")
    assert "请将身份证放在感应区" in ui.texts()
    assert ui.kiosk.identify.armed
    place_card(ui, RESIDENT_LONG_TERM)  # born 1950
    screen = queue_screen(ui)
    ui.wait_for(lambda: screen.green and screen.page == "choose", what="green channel on")
    assert not ui.kiosk.identify.armed
    assert any("绿色通道已开启：王**" in t for t in ui.texts())
    ui.tap("category_B")
    close_print_dialog(ui)
    assert screen.ticket["priority"] == "green"
    assert "社保医保 · 绿色通道" in ui.texts() and "持号人：王**" in ui.texts()
    texts = ui.texts()
    assert all(RESIDENT_LONG_TERM.id_number not in t and RESIDENT_LONG_TERM.name not in t
               for t in texts)
    slip = render_text(printer.jobs[-1])
    assert "王**" in slip and RESIDENT_LONG_TERM.name not in slip
    assert RESIDENT_LONG_TERM.id_number not in slip
    # the ticket is kept with the masked name only, and is called first
    kept = ui.kiosk.queue.ticket(screen.ticket["id"])
    assert kept.holder == "王**" and kept.priority.word == "green" and kept.people_ahead == 0
    # leaving drops the name from every widget of the screen
    ui.tap("exit")
    ui.wait_screen("attract")
    assert screen.holder == "" and screen.ticket == {} and not screen.green
    assert all("王**" not in t for t in ui.texts(visible_only=False))


def test_an_identity_already_read_is_used_without_a_second_card(ui) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("proof")  # identified for another service first
    ui.wait_screen("identify")
    place_card(ui, RESIDENT_LONG_TERM)
    ui.wait_for(lambda: ui.manager.get_screen("identify").identified, what="identity")
    ui.tap("continue")
    ui.wait_screen("proof")
    ui.tap("back")
    ui.wait_screen("home")
    ui.tap("queue")
    ui.wait_screen("queue")
    screen = queue_screen(ui)
    assert not screen.green  # a new visit starts with a normal ticket
    ui.tap("green")
    assert screen.green and screen.page == "choose" and not ui.kiosk.identify.armed


def test_figures_refresh_while_the_tiles_show(ui, swap_queue, tmp_path) -> None:
    from kiosk.queue import HttpQueueService

    open_queue(ui)
    screen = queue_screen(ui)
    before = next(c["waiting"] for c in screen.categories if c["code"] == "D")
    ui.kiosk.queue.issue_ticket("D")  # two residents at another kiosk of the hall
    ui.kiosk.queue.issue_ticket("D")
    screen._refresh(0)
    ui.wait_for(lambda: f"等候 {before + 2} 人" in tile_texts(ui, "D"), what="new figures")
    # the hall server goes away: a refresh keeps the tiles instead of covering them
    swap_queue(HttpQueueService(f"http://127.0.0.1:{_free_port()}", timeout_s=1, retries=0))
    screen._refresh(0)
    ui.wait_for(lambda: not screen.loading, what="refresh attempt")
    assert screen.page == "choose" and f"等候 {before + 2} 人" in tile_texts(ui, "D")


def test_a_category_named_by_the_guide_is_marked(ui) -> None:
    open_queue(ui)
    screen = queue_screen(ui)
    screen.preselect_category("社保医保")  # what 办事指南's "取号" for an item passes on
    ui.pump(2)
    assert ui.find("category_B").suggested and not ui.find("category_A").suggested
    assert "您要办理的事项请取“社保医保”号" in ui.texts()
    screen.preselect_category("民政")  # a category this hall does not have: nothing marked
    ui.pump(2)
    assert not any(ui.find(f"category_{c}").suggested for c in "ABCD")
    assert "点击业务类别即可取号，号票将自动打印" in ui.texts()


def test_green_channel_refused_below_60_offers_a_normal_ticket(ui) -> None:
    open_queue(ui)
    ui.tap("green")
    place_card(ui, RESIDENT)  # born 1990
    screen = queue_screen(ui)
    ui.wait_for(lambda: screen.page == "message", what="refusal")
    assert "绿色通道为60周岁以上老人和残疾人士提供" in ui.texts()
    assert any("残疾人士请到服务台" in t for t in ui.texts())
    ui.tap("normal_ticket")
    assert screen.page == "choose" and not screen.green
    ui.find("category_A")


def test_card_prompt_can_be_left_without_a_card(ui) -> None:
    open_queue(ui)
    ui.tap("checkin")
    assert ui.kiosk.identify.armed and "预约签到 · 身份核验" in ui.texts()
    ui.tap("card_back")
    assert not ui.kiosk.identify.armed
    ui.find("category_A")
    place_card(ui, RESIDENT)  # a card now identifies nobody: nothing is waiting for it
    ui.pump(5)
    assert ui.kiosk.machine.identity is None


def _book(service, start: datetime, ref: str) -> None:
    from kiosk.queue import AppointmentIn

    result = service.import_appointments([AppointmentIn(
        ref=ref, category="C", start=start, id_number=RESIDENT.id_number, name=RESIDENT.name)])
    assert result.added == 1


def test_appointment_check_in_with_the_id_card(ui, swap_queue, tmp_path) -> None:
    service = swap_queue(engine_service(tmp_path))
    _book(service, datetime.now(SITE) + timedelta(minutes=5), "BK-1")
    printer = ui.kiosk.devices.get("printer")
    open_queue(ui)
    ui.tap("checkin")
    place_card(ui, RESIDENT)
    dialog = ui.app.controller.print_dialog
    ui.wait_for(lambda: dialog.state == "done", what="check-in ticket printed")
    screen = queue_screen(ui)
    assert screen.ticket["priority"] == "appointment"
    assert "不动产登记 · 预约" in ui.texts() and "持号人：李*" in ui.texts()
    slip = render_text(printer.jobs[-1])
    assert screen.ticket["number"] in slip and "李*" in slip
    assert RESIDENT.id_number not in slip and RESIDENT.name not in slip
    ui.tap("print_close")
    assert all(RESIDENT.id_number not in t and RESIDENT.name not in t for t in ui.texts())
    ui.tap("complete")
    ui.wait_screen("rating")
    assert ui.kiosk.machine.session.handling_number.startswith("C")


def test_check_in_too_early_offers_a_normal_ticket(ui, swap_queue, tmp_path) -> None:
    service = swap_queue(engine_service(tmp_path))
    _book(service, datetime.now(SITE) + timedelta(hours=3), "BK-2")
    open_queue(ui)
    ui.tap("checkin")
    place_card(ui, RESIDENT)
    screen = queue_screen(ui)
    ui.wait_for(lambda: screen.page == "message", what="too early")
    assert "还没到签到时间" in ui.texts()
    text = screen.message_text(screen.message, "zh_CN")
    assert "您预约的是" in text and "后签到" in text and "取普通号" in text
    # English, with the same times
    ui.tap("language")
    assert "It is not yet time to check in" in ui.texts()
    english = screen.message_text(screen.message, "en")
    assert "You booked" in english and "regular ticket" in english
    ui.tap("language")
    ui.tap("normal_ticket")
    ui.find("category_C")
    ui.tap("category_C")  # the identity does not make a normal ticket personal
    close_print_dialog(ui)
    assert screen.ticket["priority"] == "normal" and screen.ticket["holder"] == ""


def test_check_in_too_late_says_so(ui, swap_queue, tmp_path) -> None:
    service = swap_queue(engine_service(tmp_path))
    _book(service, datetime.now(SITE) - timedelta(hours=2), "BK-3")
    open_queue(ui)
    ui.tap("checkin")
    place_card(ui, RESIDENT)
    screen = queue_screen(ui)
    ui.wait_for(lambda: screen.page == "message", what="too late")
    assert "已超过签到时间" in ui.texts()
    assert ui.find("normal_ticket") is not None


def test_no_appointment_found(ui, swap_queue, tmp_path) -> None:
    swap_queue(engine_service(tmp_path))
    open_queue(ui)
    ui.tap("checkin")
    place_card(ui, RESIDENT)
    screen = queue_screen(ui)
    ui.wait_for(lambda: screen.page == "message", what="no booking")
    assert "没有查到您的预约" in ui.texts() and "您可以取普通号" in ui.texts()


def test_outside_opening_hours_says_when_numbers_are_given_again(ui, swap_queue,
                                                                 tmp_path) -> None:
    from config.schema import OpeningHours

    tomorrow = (datetime.now(SITE) + timedelta(days=1)).strftime("%a").lower()
    swap_queue(engine_service(tmp_path, hours_lines=[
        OpeningHours(days=tomorrow, open="09:00", close="17:00")]))
    open_queue(ui, tiles=False)
    screen = queue_screen(ui)
    ui.wait_for(lambda: screen.page == "message", what="closed")
    assert "现在不在取号时间" in ui.texts()
    assert "下次取号时间：明天 09:00" in ui.texts()
    ui.tap("message_home")
    ui.wait_screen("home")


def test_a_full_category_says_come_back_and_offers_the_others(ui, swap_queue,
                                                              tmp_path) -> None:
    from kiosk.queue import QueueSettings

    settings = QueueSettings.model_validate({"categories": [
        {"code": "A", "name": "综合业务", "daily_capacity": 1},
        {"code": "B", "name": "社保医保"}], "windows": [{"id": "1", "categories": ["A", "B"]}]})
    service = swap_queue(engine_service(tmp_path, settings=settings))
    service.issue_ticket("A")
    open_queue(ui)
    assert "今日号已取完" in tile_texts(ui, "A")
    ui.tap("category_A")
    screen = queue_screen(ui)
    ui.wait_for(lambda: screen.page == "message", what="full")
    assert "今日综合业务的号已取完" in ui.texts()
    assert "请明天 00:00后再来，或选择其他业务" in ui.texts()
    ui.tap("other_category")
    ui.tap("category_B")
    close_print_dialog(ui)
    assert screen.ticket["number"] == "B001"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_hall_server_then_retry_over_http(ui, swap_queue, tmp_path) -> None:
    from kiosk.queue import HttpQueueService, QueueEngine, QueueHttpServer
    from kiosk.queue.hall import HallStore

    port = _free_port()
    engine = QueueEngine(tmp_path / "hall.sqlite")
    hall = HallStore(engine.db_path, SITE)
    key = hall.add_terminal("DEMO-0001")  # the kiosk's credential (kiosk queue terminal add)
    hall.close()
    swap_queue(HttpQueueService(f"http://127.0.0.1:{port}", timeout_s=1, retries=0,
                                terminal="DEMO-0001", api_key=key))
    open_queue(ui, tiles=False)
    screen = queue_screen(ui)
    ui.wait_for(lambda: screen.page == "message", what="unreachable")
    assert "排队系统暂时无法连接" in ui.texts()
    assert "请稍后再试，或到服务台咨询工作人员" in ui.texts()
    # the hall server comes back: "重试" loads the tiles, a ticket is taken over HTTP
    server = QueueHttpServer(engine, port=port).start()
    try:
        ui.tap("retry")
        ui.tap("category_D")
        close_print_dialog(ui)
        assert screen.ticket["number"] == "D001"
        assert server.engine.category("D").waiting == 1
    finally:
        server.stop()
        engine.close()
    ui.tap("complete")
    ui.wait_screen("rating")


# -- layout ------------------------------------------------------------------------------------
def _sample_ticket(priority: str = "green", offline: bool = False):
    from kiosk.queue import Priority, Ticket, TicketState

    return Ticket(id="0f" * 16, number="B017", category="B", category_name="社保医保",
                  priority=Priority.parse(priority), state=TicketState.WAITING,
                  day="2026-03-18", issued_at=datetime(2026, 3, 18, 10, 5, tzinfo=SITE),
                  people_ahead=None if offline else 12,
                  estimated_wait_min=None if offline else 85,
                  windows=("1号窗口", "3号窗口"), area="A区", holder="欧阳**", offline=offline)


URL = "https://platform.example/queue/ticket?site=370102&id=0f0f&no=B017&d=20260318"


def show_page(ui, page: str) -> None:
    """Put a page of the 取号 screen up with representative (fictitious) content."""
    from kiosk.queue import CategoryStatus
    from screens.queue import qr_png

    screen = queue_screen(ui)
    statuses = [CategoryStatus(code=c, name=n, waiting=w, estimated_wait_min=m, windows=("1",),
                               area="A区", capacity_left=0 if c == "D" else 100, open=c != "D")
                for c, n, w, m in (("A", "综合业务", 23, 95), ("B", "社保医保", 4, 12),
                                   ("C", "不动产登记", 0, 0), ("D", "公积金", 130, None),
                                   ("E", "出入境证件办理", None, None))]
    screen.populate(statuses)
    screen.message = {}
    now = datetime.now(SITE)
    if page == "choose":
        screen.green, screen.holder, screen.page = True, "欧阳**", "choose"
    elif page == "card":
        screen.purpose, screen.page = "green", "card"
    elif page == "ticket":
        screen.show_ticket(_sample_ticket(), URL, qr_png(URL))
        screen.printed = True
    elif page == "ticket-offline":
        screen.show_ticket(_sample_ticket("normal", offline=True), URL, qr_png(URL))
    elif page == "too-early":
        screen._show_message("too_early", offer=True, booked_at=now + timedelta(days=3),
                             checkin_from=now + timedelta(days=3, minutes=-30))
    elif page == "unavailable":
        screen._show_message("unavailable", retry=lambda: None)
    ui.manager.current = "queue"
    ui.pump(4)


PAGES = ["choose", "card", "ticket", "ticket-offline", "too-early", "unavailable"]
MODES = [(False, "zh_CN"), (True, "zh_CN"), (True, "en"), (False, "en")]


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_queue_page_fits(ui, width: int, height: int) -> None:
    ui.resize(width, height)
    screen = queue_screen(ui)
    failures: list[str] = []
    try:
        for elder, lang in MODES:
            ui.app.theme.elder = elder
            ui.app.lang = lang
            for page in PAGES:
                show_page(ui, page)
                tag = f"{width}x{height}-{'elder' if elder else 'normal'}-{lang}-{page}"
                found = problems_on_screen(ui)
                failures += [f"{tag}: {p}" for p in found]
                ui.screenshot(SHOTS / f"{tag}.png")
                assert ui.missing_glyphs() == [], tag
    finally:
        screen.clear_personal()
        ui.manager.current = "attract"
    assert not failures, "\n".join(failures)


def test_touch_targets_are_at_least_60dp(ui) -> None:
    from kivy.metrics import dp

    from screens.queue import CategoryTile
    from screens.widgets import KButton

    ui.app.theme.elder = False
    try:
        for page in ("choose", "card", "ticket", "too-early"):
            show_page(ui, page)
            seen = 0
            for widget in ui.walk_visible():
                if isinstance(widget, KButton | CategoryTile):
                    seen += 1
                    assert min(widget.size) >= dp(60) - 0.5, (page, widget.size)
            assert seen >= 2, page
    finally:
        queue_screen(ui).clear_personal()
        ui.manager.current = "attract"


def test_age_from_the_card_or_the_id_number() -> None:
    from datetime import date

    from kiosk.identity.person import Identity
    from screens.queue import age_on

    today = date(2026, 3, 18)
    assert age_on(Identity.from_idcard(RESIDENT_LONG_TERM, today), today) == 75
    assert age_on(Identity(source="code", name="x", id_number="370102196603180011"),
                  today) == 60
    assert age_on(Identity(source="code", name="x", id_number="370102196603190011"),
                  today) == 59
    assert age_on(Identity(source="code", name="x", id_number="E1234"), today) is None

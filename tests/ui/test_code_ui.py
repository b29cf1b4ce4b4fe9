"""亮码 end to end: a scanned resident code identifies; refused codes get their message and a way
back; the resident code on screen (countdown, refresh, expiry, print); the enterprise code; the
code is wiped with the session; every page fits every window size, mode and language."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from test_layout import MODES, SIZES, problems_on_screen, screenshot_folder

from drivers.idcard.samples import EXPIRED, RESIDENT
from drivers.printer.fake import render_text
from kiosk.codes import Enterprise, IssuedCode, Person, PlatformUnavailable, TokenKind
from kiosk.codes.embedded import EmbeddedCodePlatform
from kiosk.codes.refusals import MESSAGES_EN, MESSAGES_ZH, RefusalReason
from kiosk.codes.samples import enterprises_of
from kiosk.i18n import translate

SHOTS = Path()  # set for the module by _screenshot_folder


@pytest.fixture(scope="module", autouse=True)
def _screenshot_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    global SHOTS
    SHOTS = screenshot_folder(tmp_path_factory, "code-shots")
LI = Person(RESIDENT.id_number, RESIDENT.name)


def go_identify(ui) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("code")
    ui.wait_screen("identify")


def identify_by_card(ui, card=RESIDENT) -> None:
    go_identify(ui)
    ui.kiosk.simulation.place_id_card(card)
    ui.wait_for(lambda: ui.manager.get_screen("identify").identified, what="identity")
    ui.tap("continue")
    ui.wait_screen("code")
    ui.kiosk.simulation.lift_id_card()


def code_screen(ui):
    return ui.manager.get_screen("code")


def show_resident_code(ui) -> object:
    identify_by_card(ui)
    screen = code_screen(ui)
    assert screen.page == "choose"
    ui.tap("code_resident")
    ui.wait_for(lambda: screen.page == "show", what="the resident code")
    return screen


def decode_screen(ui, name: str) -> list[str]:
    """Photograph the window and read the QR codes in it, as a phone or scanner would."""
    import cv2

    from drivers.camera.detect import make_detector

    path = ui.screenshot(SHOTS / name)
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    return make_detector("auto").detect(gray)


# -- scanning at the identify step ------------------------------------------------------------
def test_scanning_a_resident_code_identifies_without_an_id_card(ui) -> None:
    go_identify(ui)
    payload = ui.kiosk.codes.issue_resident_code(LI).text  # the resident's app shows this
    ui.kiosk.simulation.scan(payload)
    identify = ui.manager.get_screen("identify")
    ui.wait_for(lambda: identify.identified, what="identified by the code")
    identity = ui.kiosk.machine.identity
    assert identity.source == "code" and identity.id_number == ""
    texts = ui.texts()
    assert "身份核验成功" in texts and RESIDENT.masked_name in texts
    assert "已通过居民码核验" in texts
    assert all(RESIDENT.name not in t and RESIDENT.id_number not in t for t in texts)
    ui.screenshot(SHOTS / "flow-identified-by-code.png")

    # the platform issues codes only against an ID number: the screen says so, asks nothing
    platform = ui.kiosk.codes
    calls: list[str] = []
    original = platform.issue_resident_code
    platform.issue_resident_code = lambda person: calls.append("issue") or original(person)
    try:
        ui.tap("continue")
        ui.wait_screen("code")
        screen = code_screen(ui)
        assert screen.page == "message"
        assert any("本机无法为扫码核验的身份亮码" in t for t in ui.texts())
        assert calls == []
        ui.screenshot(SHOTS / "flow-code-identity-message.png")
        # …and offers the ID card instead: the identify step again, then the codes
        ui.tap("code_use_idcard")
        ui.wait_screen("identify")
        assert ui.kiosk.machine.identity is None and not identify.identified
        ui.kiosk.simulation.place_id_card()
        ui.wait_for(lambda: identify.identified, what="identified by the card")
        ui.tap("continue")
        ui.wait_screen("code")
        assert screen.page == "choose" and ui.kiosk.machine.identity.source == "idcard"
        ui.tap("code_resident")
        ui.wait_for(lambda: screen.page == "show", what="the code")
        assert calls == ["issue"]
    finally:
        del platform.issue_resident_code
        ui.kiosk.simulation.lift_id_card()


def tampered(text: str) -> str:
    return text[:40] + ("A" if text[40] != "A" else "B") + text[41:]


def expired_code(platform) -> str:
    real_clock = platform._clock
    platform._clock = lambda: time.time() - 3600  # issued an hour ago, valid for minutes
    try:
        return platform.issue_resident_code(LI).text
    finally:
        platform._clock = real_clock


REFUSED = {
    "invalid": (lambda p: tampered(p.issue_resident_code(LI).text), RefusalReason.INVALID),
    "expired": (expired_code, RefusalReason.EXPIRED),
    "foreign": (lambda p: EmbeddedCodePlatform().issue_resident_code(LI).text,
                RefusalReason.FOREIGN),
    "enterprise": (lambda p: p.issue_enterprise_code(LI, "ent-0001").text,
                   RefusalReason.WRONG_KIND),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_code_gets_its_message_and_a_way_back(ui, case: str) -> None:
    make, reason = REFUSED[case]
    go_identify(ui)
    identify = ui.manager.get_screen("identify")
    ui.kiosk.simulation.scan(make(ui.kiosk.codes))
    ui.wait_for(lambda: identify.refusal, what="the refusal")
    assert identify.refusal == MESSAGES_ZH[reason]
    assert ui.kiosk.machine.identity is None and not identify.identified
    assert MESSAGES_ZH[reason] in ui.texts() and "无法使用此码" in ui.texts()
    assert ui.find("refusal_retry") and ui.find("back")
    ui.screenshot(SHOTS / f"flow-refused-{case}.png")
    ui.tap("language")
    assert MESSAGES_EN[reason] in ui.texts()
    ui.tap("language")
    # way back 1: show a code again (the prompt returns; card and code work as before)
    ui.tap("refusal_retry")
    ui.wait_for(lambda: "请将身份证放在感应区" in ui.texts(), what="the prompt")
    assert identify.refusal == "" and MESSAGES_ZH[reason] not in ui.texts()
    # way back 2: an ID card right after a refusal identifies
    ui.kiosk.simulation.scan(make(ui.kiosk.codes))
    ui.wait_for(lambda: identify.refusal, what="refused again")
    ui.kiosk.simulation.place_id_card()
    ui.wait_for(lambda: identify.identified, what="the card after a refusal")
    assert ui.find("continue")
    ui.kiosk.simulation.lift_id_card()
    # way back 3: home
    ui.tap("back")
    ui.wait_screen("home")


def test_every_refusal_message_is_translated() -> None:
    for reason in RefusalReason:
        assert translate(MESSAGES_ZH[reason], "en") == MESSAGES_EN[reason]


# -- the resident code on screen ---------------------------------------------------------------
def test_the_resident_code_is_shown_with_countdown_and_printed(ui) -> None:
    printer = ui.kiosk.devices.get("printer")
    before = len(printer.jobs)
    screen = show_resident_code(ui)
    code = screen.live.current()
    assert code is not None and code.kind is TokenKind.RESIDENT
    # the QR on screen is that code, readable as a scanner reads it, and it verifies
    assert decode_screen(ui, "flow-resident-code.png") == [code.text]
    assert ui.kiosk.codes.verify(code.text, TokenKind.RESIDENT).masked_name == "李*"
    texts = ui.texts()
    assert "亮码 · 居民码" in texts and RESIDENT.masked_name in texts
    assert all(RESIDENT.name not in t and RESIDENT.id_number not in t for t in texts)
    assert any(t.startswith("在手机上出示") for t in texts)
    # the countdown runs
    shown = ui.find("code_countdown").text
    assert shown.startswith("有效期剩余 ") and 170 <= screen.seconds_left <= 180
    ui.wait_for(lambda: ui.find("code_countdown").text != shown, timeout_s=3,
                what="the countdown ticking")
    assert ui.find("complete").disabled is False  # a code was shown
    # print the slip: the code itself as the QR, the holder masked
    ui.tap("code_print")
    dialog = ui.app.controller.print_dialog
    ui.wait_for(lambda: dialog.state == "done", what="printed")
    assert len(printer.jobs) == before + 1
    slip = render_text(printer.jobs[-1])
    assert "居民码" in slip and f"[QR {code.text}]" in slip
    assert RESIDENT.masked_name in slip and RESIDENT.masked_id in slip
    assert RESIDENT.name not in slip and RESIDENT.id_number not in slip
    assert "有效期至：" in slip
    ui.tap("print_close")
    ui.wait_for(lambda: screen.printed, what="marked printed")
    ui.tap("complete")
    ui.wait_screen("rating")


def test_the_code_is_refreshed_off_the_ui_thread_before_it_expires(ui, monkeypatch) -> None:
    platform = ui.kiosk.codes
    monkeypatch.setattr(platform, "lifetime_s", 10)  # refreshed at half its life
    threads: list[str] = []
    original = platform.issue_resident_code

    def issue(person):
        threads.append(threading.current_thread().name)
        return original(person)

    monkeypatch.setattr(platform, "issue_resident_code", issue)
    screen = show_resident_code(ui)
    first = screen.live.current()
    texture = screen.ids.qr.texture
    ui.wait_for(lambda: screen.live.current() is not first, timeout_s=9,
                what="a fresh code")
    refreshed_at = time.time()
    second = screen.live.current()
    assert refreshed_at < first.expires_at  # before the old one ran out
    assert second.text != first.text and second.expires_at > first.expires_at
    assert screen.ids.qr.texture is not texture and screen.page == "show"
    assert decode_screen(ui, "flow-refreshed.png") == [second.text]
    assert len(threads) == 2 and threading.main_thread().name not in threads


def test_an_expired_code_leaves_the_screen(ui, monkeypatch) -> None:
    platform = ui.kiosk.codes
    screen = show_resident_code(ui)
    code = screen.live.current()

    def down(person):
        raise PlatformUnavailable("platform down (test)")

    monkeypatch.setattr(platform, "issue_resident_code", down)
    # 20 s left: the refresh is due, fails, and the code stays while it is valid
    monkeypatch.setattr(screen, "clock", lambda: time.time() + code.lifetime_s - 20)
    ui.pump_for(1.0)
    assert screen.page == "show" and screen.live.current() is code
    assert screen.seconds_left <= 20 and ui.find("code_countdown").tone == "danger"
    # past its validity: gone from memory and from the screen
    monkeypatch.setattr(screen, "clock", lambda: time.time() + code.lifetime_s + 1)
    ui.wait_for(lambda: screen.page == "message", what="expired")
    assert screen.live.current() is None and screen.ids.qr.texture is None
    assert "此码已过期，已从屏幕上清除。" in ui.texts()
    assert decode_screen(ui, "flow-expired.png") == []
    ui.tap("code_retry")  # still down: the platform's message and another try
    ui.wait_for(lambda: "暂时无法获取，请稍后再试。" in ui.texts(), what="refusal")
    monkeypatch.undo()
    ui.tap("code_retry")
    ui.wait_for(lambda: screen.page == "show", what="a new code")
    assert screen.live.current().text != code.text


def test_showing_and_refreshing_a_code_then_an_enterprise_code(ui, monkeypatch) -> None:
    monkeypatch.setattr(ui.kiosk.codes, "lifetime_s", 10)  # a refresh within the test
    screen = show_resident_code(ui)
    first = screen.live.current()
    ui.wait_for(lambda: screen.live.current() is not first, timeout_s=9, what="a refresh")
    ui.tap("code_other")
    ui.tap("code_enterprise")
    ui.wait_for(lambda: screen.page == "enterprises", what="the enterprise list")
    ui.tap("enterprise_ent-0001")
    ui.wait_for(lambda: screen.page == "show", what="the enterprise code")
    assert screen.live.current().text != first.text
    ui.tap("complete")
    ui.wait_screen("rating")


# -- the enterprise code ------------------------------------------------------------------------
def test_the_enterprise_code_for_a_chosen_enterprise(ui) -> None:
    printer = ui.kiosk.devices.get("printer")
    identify_by_card(ui)
    screen = code_screen(ui)
    ui.tap("code_enterprise")
    ui.wait_for(lambda: screen.page == "enterprises", what="the enterprise list")
    mine = enterprises_of(RESIDENT.id_number)
    texts = ui.texts()
    for enterprise in mine:
        assert enterprise.name in texts and ui.find(f"enterprise_{enterprise.id}")
    assert any("法定代表人" in t for t in texts) and any("经办人" in t for t in texts)
    ui.screenshot(SHOTS / "flow-enterprises.png")
    agent = next(e for e in mine if e.role_zh == "经办人")
    ui.tap(f"enterprise_{agent.id}")
    ui.wait_for(lambda: screen.page == "show", what="the enterprise code")
    code = screen.live.current()
    verified = ui.kiosk.codes.verify(code.text, TokenKind.ENTERPRISE)
    assert verified.enterprise is not None and verified.enterprise.id == agent.id
    assert "亮码 · 企业码" in ui.texts()
    assert agent.name in ui.texts() and f"经办人：{RESIDENT.masked_name}" in ui.texts()
    assert decode_screen(ui, "flow-enterprise-code.png") == [code.text]
    ui.tap("code_print")
    dialog = ui.app.controller.print_dialog
    ui.wait_for(lambda: dialog.state == "done", what="printed")
    slip = render_text(printer.jobs[-1])
    assert "企业码" in slip and agent.name in slip and agent.credit_code in slip
    assert f"[QR {code.text}]" in slip and RESIDENT.id_number not in slip
    ui.tap("print_close")
    # another code: back to the choice, the enterprise code dropped
    ui.tap("code_other")
    assert screen.page == "choose" and screen.live.current() is None


def test_a_person_without_enterprises_is_told_so(ui) -> None:
    identify_by_card(ui, EXPIRED)
    screen = code_screen(ui)
    ui.tap("code_enterprise")
    ui.wait_for(lambda: screen.page == "message", what="no enterprise")
    assert "未查询到您担任法定代表人或经办人的企业。" in ui.texts()
    ui.tap("code_choose_again")
    assert screen.page == "choose"


# -- privacy ------------------------------------------------------------------------------------
def test_leaving_and_ending_the_session_wipe_the_code(ui) -> None:
    screen = show_resident_code(ui)
    ui.tap("back")  # home: the code is off the screen, so it is dropped
    ui.wait_screen("home")
    assert screen.live.current() is None and screen.ids.qr.texture is None
    ui.tap("code")
    ui.wait_screen("code")  # still identified in this session: straight to the choice
    ui.tap("code_enterprise")
    ui.wait_for(lambda: screen.page == "enterprises", what="the enterprise list")
    ui.tap("enterprise_ent-0001")
    ui.wait_for(lambda: screen.page == "show", what="the enterprise code")
    ui.tap("exit")
    ui.wait_screen("attract")
    assert screen.live.current() is None and screen.ids.qr.texture is None
    assert screen.masked_name == "" and screen.enterprises == [] and not screen.shown
    assert screen.enterprise_name == "" and not screen.ids.enterprise_list.children
    everything = "\n".join(ui.texts(visible_only=False))
    assert RESIDENT.masked_name not in everything and "示例科技" not in everything


# -- layout ---------------------------------------------------------------------------------------
def sample_code(kind: TokenKind, enterprise: Enterprise | None = None) -> IssuedCode:
    now = time.time()
    return IssuedCode("RC1:" + "A" * 166 if kind is TokenKind.RESIDENT else "EC1:" + "B" * 166,
                      kind, now, now + 180, "欧阳**", enterprise)


def put_up(ui, page: str) -> None:
    """One page of the flow with representative (fictitious) content, without a session."""
    screen = code_screen(ui)
    identify = ui.manager.get_screen("identify")
    ui.manager.current = "attract"
    screen.clear_personal()
    identify.clear_personal()
    screen.masked_name = "欧阳**"
    long_name = "济南泉城示例科技发展股份有限公司历下分公司"
    enterprises = [Enterprise("ent-1", long_name, "91370102MA3C5X7Y1X"),
                   Enterprise("ent-2", "山东齐鲁示例物流有限公司", "91370100MA3D2K8P4X")]
    if page == "identify-refused":
        identify.refusal = MESSAGES_ZH[RefusalReason.FOREIGN]
        ui.manager.current = "identify"
    elif page == "identify-by-code":
        identify.identified, identify.by_code, identify.masked_name = True, True, "李*"
        ui.manager.current = "identify"
    else:
        if page == "enterprises":
            screen.show_enterprises(enterprises)
        elif page == "resident":
            screen.show_code(sample_code(TokenKind.RESIDENT))
        elif page == "enterprise":
            screen.show_code(sample_code(TokenKind.ENTERPRISE, enterprises[0]))
            screen.enterprise_role = "经办人"
        elif page == "no-id":
            screen.show_message("您是扫码核验的身份，平台需凭身份证号签发居民码和企业码，本机无法"
                                "为扫码核验的身份亮码。请刷身份证后重试，或直接在“爱山东”App中"
                                "亮码。", retry=False, idcard=True)
        elif page == "expired":
            screen.show_message("此码已过期，已从屏幕上清除。", retry=True)
        else:
            screen.page = page
        ui.manager.current = "code"
    ui.pump(4)


PAGES = ["choose", "loading", "enterprises", "resident", "enterprise", "no-id", "expired",
         "identify-refused", "identify-by-code"]


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_code_page_fits(ui, width: int, height: int) -> None:
    ui.resize(width, height)
    failures: list[str] = []
    try:
        for elder, lang in MODES:
            ui.app.theme.elder = elder
            ui.app.lang = lang
            for page in PAGES:
                put_up(ui, page)
                tag = f"{width}x{height}-{'elder' if elder else 'normal'}-{lang}-{page}"
                failures += [f"{tag}: {p}" for p in problems_on_screen(ui)]
                if page in ("resident", "enterprise"):
                    ids = code_screen(ui).ids
                    info, show_page = ids.info, ids.show_page
                    if info.y < show_page.y - 1 or info.top > show_page.top + 1:
                        failures.append(f"{tag}: the text beside the QR overflows its page "
                                        f"({info.y:.0f}-{info.top:.0f} in {show_page.y:.0f}-"
                                        f"{show_page.top:.0f})")
                    qr = ids.qr
                    side = min(qr.size)
                    # large: at least a third of the window's short edge, square, on screen
                    if side < min(width, height) / 3 or abs(qr.width - qr.height) > 1:
                        failures.append(f"{tag}: QR {qr.width:.0f}×{qr.height:.0f}")
                ui.screenshot(SHOTS / f"{tag}.png")
    finally:
        identify = ui.manager.get_screen("identify")
        identify.clear_personal()
        code_screen(ui).clear_personal()
        ui.manager.current = "attract"
    assert not failures, "\n".join(failures)

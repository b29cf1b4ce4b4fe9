"""The hall server's pages in Debian's Chromium (headless, Playwright): the staff workstation,
the calling display (a call appears, its phrase is spoken, two calls never overlap, a recall
is spoken again) and the phone ticket page (its position changes as the queue moves).

Screenshots go to $KIOSK_SCREENSHOT_DIR when set (to look at them), else to tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from kiosk.queue import QueueEngine, QueueHttpServer, QueueSettings
from kiosk.speech import call_phrase, wav_info

pytestmark = pytest.mark.timeout(180)
API = "/api/v1"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("KIOSK_SCREENSHOT_DIR") or tmp_path) / "queue-web"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Hall:
    def __init__(self, server: QueueHttpServer) -> None:
        self.url = server.url
        key = server.hall.add_terminal("K-0001")
        server.hall.add_staff("li", "password-1", ["1", "2"])
        self.kiosk = httpx.Client(base_url=self.url, headers={"X-Api-Key": key}, timeout=10)
        self.staff = httpx.Client(base_url=self.url, timeout=10)
        login = self.staff.post(f"{API}/session", json={"name": "li", "password": "password-1"})
        self.staff.headers["X-CSRF-Token"] = login.json()["csrf"]

    def issue(self, category: str = "A") -> dict[str, Any]:
        answer = self.kiosk.post(f"{API}/tickets", json={"category": category})
        assert answer.status_code == 201
        return answer.json()  # type: ignore[no-any-return]

    def call(self, window: str) -> dict[str, Any]:
        return self.staff.post(f"{API}/windows/{window}/call-next", json={}).json()["ticket"]


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Hall]:
    engine = QueueEngine(tmp_path / "db" / "hall.sqlite", QueueSettings(synchronous="normal"),
                         key_path=tmp_path / "secret" / "id.key")
    with QueueHttpServer(engine, speech_dir=tmp_path / "speech") as server:
        h = Hall(server)
        yield h
        h.kiosk.close()
        h.staff.close()
    engine.close()


def played(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("window.played")  # type: ignore[no-any-return]


def test_the_display_shows_and_speaks_each_call_one_after_the_other(
        browser: Browser, hall: Hall, shots: Path, tmp_path: Path) -> None:
    page = browser.new_page(bypass_csp=True, viewport={"width": 1920, "height": 1080})
    page.goto(f"{hall.url}/display?area=A")
    expect(page.locator("#status")).to_have_text("在线")
    expect(page.locator("#windows tr")).to_have_count(2)  # area A: windows 1 and 2
    first, second = hall.issue("A"), hall.issue("A")
    hall.call("1")
    expect(page.locator("#now")).to_have_text("请 A001 号到 1号窗口 办理")
    expect(page.locator("#windows tr").first).to_contain_text("A001")
    # two calls in the same second: both shown, spoken one after the other
    hall.call("2")
    hall.issue("B")
    hall.staff.post(f"{API}/windows/1/recall")
    page.wait_for_function("window.played.length === 3 && window.played[2].ended !== null",
                           timeout=60000)
    spoken = played(page)
    assert [p["phrase"] for p in spoken] == [call_phrase("A001", "1"), call_phrase("A002", "2"),
                                             call_phrase("A001", "1")]
    assert [p["kind"] for p in spoken] == ["call", "call", "recall"]
    assert all(p["ok"] for p in spoken), spoken  # every announcement played to its end
    for before, after in pairwise(spoken):
        assert after["started"] >= before["ended"], "an announcement cut another short"
    expect(page.locator("#calls li")).to_have_count(3)
    expect(page.locator("#calls li").first).to_have_text("A001 → 1号窗口（重呼）")
    page.screenshot(path=str(shots / "display-1920x1080.png"))
    # what it played is the phrase, rendered and not silent
    audio = httpx.get(f"{hall.url}{spoken[1]['audio']}")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    wav = tmp_path / "a002.wav"
    wav.write_bytes(audio.content)
    info = wav_info(wav)
    assert info.seconds > 2.5 and info.peak > 0.2
    # nothing personal reaches the display: no ticket ids, no names
    state = httpx.get(f"{hall.url}/display/state?area=A").text
    assert first["id"] not in state and second["id"] not in state
    page.close()


def test_the_display_catches_up_after_a_reconnect(browser: Browser, hall: Hall) -> None:
    page = browser.new_page(bypass_csp=True, viewport={"width": 1280, "height": 720})
    page.goto(f"{hall.url}/display")
    expect(page.locator("#status")).to_have_text("在线")
    hall.issue("C")
    hall.call("2")  # window 2 serves A only: nobody
    assert played(page) == []
    hall.issue("A")
    hall.call("1")
    page.wait_for_function("window.played.length === 1")
    assert played(page)[0]["number"] == "A001"
    page.close()


def test_the_staff_workstation(browser: Browser, hall: Hall, shots: Path) -> None:
    for category in "AAB":
        hall.issue(category)
    page = browser.new_page(bypass_csp=True, viewport={"width": 1366, "height": 768})
    page.goto(f"{hall.url}/staff")
    expect(page).to_have_url(f"{hall.url}/login")
    page.fill("#name", "li")
    page.fill("#password", "wrong-password")
    page.click("#submit")
    expect(page.locator("#error")).to_have_text("用户名或密码不正确")
    page.fill("#name", "li")
    page.fill("#password", "password-1")
    page.click("#submit")
    expect(page).to_have_url(f"{hall.url}/staff")
    expect(page.locator("#next tr")).to_have_count(3)
    expect(page.locator("#waiting tr").first).to_contain_text("2 人")
    # the configured order of call, as staff read it
    rules = page.locator("#rules tr")
    expect(rules).to_have_count(3)
    expect(rules.nth(0)).to_have_text("优先通道严格优先：绿色通道、预约号总是先叫")
    expect(rules.nth(1)).to_have_text("转到其他业务按原取号时间排队")
    expect(rules.nth(2)).to_have_text("转到指定窗口排在最前")
    page.click("#call")
    expect(page.locator("#current")).to_have_text("A001")
    expect(page.locator("#next tr")).to_have_count(2)
    page.click("#noshow")  # before a recall: refused, with the reason
    expect(page.locator("#message")).to_contain_text("请先重呼1次")
    page.click("#recall")
    page.click("#noshow")
    expect(page.locator("#current")).to_have_text("—")
    page.click("#call")
    expect(page.locator("#current")).to_have_text("A002")
    page.click("#served")
    expect(page.locator("#current")).to_have_text("—")
    # park the next one, resume it, then send it to window 2
    page.click("#call")
    expect(page.locator("#current")).to_have_text("B001")
    page.click("#park")
    expect(page.locator("#parked tr")).to_have_count(1)
    expect(page.locator("#current")).to_have_text("—")
    page.locator("#parked button").click()
    expect(page.locator("#current")).to_have_text("B001")
    expect(page.locator("#parked tr")).to_have_count(0)
    page.select_option("#transfer-to", "window:2")
    page.click("#transfer")
    expect(page.locator("#current")).to_have_text("—")
    assert hall.call("2")["number"] == "B001"  # window 2 (A only) takes it next
    # a kiosk asks for help: it appears live, staff take it, the kiosk sees who
    made = hall.kiosk.post(f"{API}/help", json={"terminal": "K-0001", "place": "A区入口 2号机",
                                                "reason": "老人需要帮助", "request_id": "h1"})
    row = page.locator("#help tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("K-0001 · A区入口 2号机：老人需要帮助")
    page.screenshot(path=str(shots / "staff-1366x768.png"), full_page=True)
    row.locator("button").click()
    expect(row).to_contain_text("处理中（li）")
    state = hall.kiosk.get(f"{API}/help/{made.json()['id']}").json()
    assert state["state"] == "acknowledged" and state["by"] == "li"
    row.locator("button").click()
    expect(page.locator("#help tr")).to_have_count(0)
    assert hall.kiosk.get(f"{API}/help/{made.json()['id']}").json()["state"] == "done"
    # pause: no calls until resumed
    page.click("#pause")
    expect(page.locator("#call")).to_be_disabled()
    expect(page.locator("#wtitle")).to_contain_text("已暂停")
    page.click("#pause")
    expect(page.locator("#call")).to_be_enabled()
    # the tide table shows what each window serves and why
    expect(page.locator("#windows tr").first).to_contain_text("A、B")
    expect(page.locator("#windows tr").first).to_contain_text("常规")
    page.close()


def test_the_phone_ticket_page_follows_the_queue(browser: Browser, hall: Hall,
                                                  shots: Path) -> None:
    hall.issue("A")
    mine = hall.issue("A")
    page = browser.new_page(bypass_csp=True, viewport={"width": 390, "height": 844}, is_mobile=True,
                            device_scale_factor=2)
    page.goto(f"{hall.url}/t/{mine['id']}")
    expect(page.locator("#number")).to_have_text("A002")
    expect(page.locator("#category")).to_have_text("综合业务")
    expect(page.locator("#ahead")).to_have_text("1")
    page.screenshot(path=str(shots / "ticket-waiting-390x844.png"))
    ahead = hall.call("1")  # the ticket ahead is called, then served
    expect(page.locator("#ahead")).to_have_text("0")
    hall.staff.post(f"{API}/tickets/{ahead['id']}/served")
    hall.call("2")
    expect(page.locator("#called")).to_have_text("请到 2号窗口 办理")
    expect(page.locator("#waiting")).to_be_hidden()
    page.screenshot(path=str(shots / "ticket-called-390x844.png"))
    text = page.content()
    assert "K-0001" not in text and mine["id"] not in page.locator("main").inner_text()
    missing = page.goto(f"{hall.url}/t/not-a-ticket")
    assert missing is not None and missing.status == 404
    page.close()

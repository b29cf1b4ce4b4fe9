"""The console in Debian's Chromium against a real ``kiosk-fleet serve`` fed by ``kiosk-fleet
simulate`` over a real mosquitto: the issue's "must show" list.

Order matters inside this module (one fleet per module): the data tests wait for the
simulated terminals; the offline test kills the victim terminal's process.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from fleet.console.stack import VICTIM, ConsoleStack
from fleet.console.walk import SIZES, axe_check, wait_for, wait_for_data, walk

pytestmark = pytest.mark.slow


def overview_data(stack: ConsoleStack, page: Any) -> dict[str, Any]:
    page.goto(f"{stack.url}/overview.json")
    return json.loads(page.inner_text("body"))


def test_log_in_and_see_every_terminal(stack: ConsoleStack, page: Any) -> None:
    page.goto(stack.url)
    assert "/login" in page.url  # not logged in: the log-in page
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "wrong password!")
    page.click("button[type=submit]")
    assert page.locator("#login-error").inner_text() == "用户名或密码不正确。"
    stack.login(page, "operator")
    wait_for_data(stack, page, terminals=stack.opts.terminals + 1)
    page.goto(stack.url)
    tiles = page.locator("#tiles li[data-terminal]")
    assert tiles.count() == stack.opts.terminals + 1
    assert page.locator(f'#tiles li[data-terminal="{VICTIM}"]').get_attribute(
        "data-state") in ("online", "alarm")
    assert page.locator("#count-total").inner_text() == str(stack.opts.terminals + 1)


def test_a_terminal_that_goes_offline_shows_offline_without_a_reload(stack: ConsoleStack,
                                                                      page: Any) -> None:
    stack.login(page, "operator")
    page.goto(stack.url)
    tile = f'#tiles li[data-terminal="{VICTIM}"]'
    page.wait_for_selector(tile)
    page.evaluate("window.__not_reloaded = true")
    offline_before = int(page.locator("#count-offline").inner_text())
    stack.kill_terminal()
    # the bound: within the offline grace plus 10 s, on the open page
    bound_ms = int((stack.opts.offline_grace_s + 10) * 1000)
    page.wait_for_selector(f'{tile}[data-state="offline"]', timeout=bound_ms)
    assert page.evaluate("window.__not_reloaded === true"), "the page was reloaded"
    assert int(page.locator("#count-offline").inner_text()) == offline_before + 1
    assert "离线" in page.locator(f"{tile} .reason").inner_text()


def test_acknowledge_the_offline_alarm_with_a_note(stack: ConsoleStack, page: Any) -> None:
    stack.login(page, "operator")
    row = f'#alarm-table tr[data-terminal="{VICTIM}"][data-type="offline"]'

    def raised() -> bool:
        page.goto(f"{stack.url}/alarms?terminal={VICTIM}")
        return page.locator(f'{row}[data-state="active"]').count() == 1

    wait_for(raised, 60, "the offline alarm after the grace", alive=stack.check)
    page.fill(f"{row} input[name=note]", "已电话联系网点，正在重启")
    page.click(f"{row} button[type=submit]")
    page.wait_for_url(re.compile(r"ok="))
    assert page.locator('.flash.ok').inner_text() == "告警已确认"
    page.goto(f"{stack.url}/alarms?state=all&terminal={VICTIM}")
    acked = page.locator(f'{row}[data-state="acknowledged"]')
    assert acked.count() == 1
    assert "已电话联系网点，正在重启" in acked.inner_text()
    assert "operator" in acked.inner_text()


def test_move_a_bad_review_case_through_the_workflow(stack: ConsoleStack, page: Any) -> None:
    stack.login(page, "evaluator")
    page.goto(f"{stack.url}/cases")
    first = page.locator('#case-table tr[data-state="pending"]').first
    case_id = first.get_attribute("data-case")
    page.goto(f"{stack.url}/cases/{case_id}")
    assert page.locator("#case-state").inner_text() == "待核实"
    page.click('button[name=state][value="appealed"]')  # needs a reason: refused
    assert "reason" in page.locator(".flash.error").inner_text()
    assert page.locator("#case-state").inner_text() == "待核实"
    steps = (("rectifying", "整改中"), ("rectified", "已整改"), ("revisited", "已回访"))
    for state, label in steps:
        page.fill("#note", f"处理步骤：{label}")
        page.click(f'button[name=state][value="{state}"]')
        page.wait_for_url(re.compile(r"ok="))
        assert page.locator("#case-state").inner_text() == label
    audit = page.locator('#audit tr[data-action="transition"][data-user="evaluator"]')
    assert audit.count() == 3
    assert page.locator("#case-form").count() == 0  # closed: no more actions


def test_a_viewer_sees_no_command_buttons_and_the_api_refuses(stack: ConsoleStack,
                                                              page: Any) -> None:
    stack.login(page, "viewer")
    terminal = next(t["id"] for t in overview_data(stack, page)["tiles"]
                    if t["id"] != VICTIM)
    page.goto(f"{stack.url}/terminals/{terminal}")
    assert page.locator("h1").inner_text().startswith("终端")
    assert page.locator("#commands").count() == 0
    assert page.locator("button[data-confirm]").count() == 0
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    status = page.evaluate("""async ([terminal, token]) => (await fetch('/api/v1/commands', {
        method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
        body: JSON.stringify({name: 'restart', target: {terminal}})})).status""",
                           [terminal, token])
    assert status == 403


def test_an_operator_sends_a_command_after_confirming(stack: ConsoleStack, page: Any) -> None:
    stack.login(page, "operator")
    terminal = next(t["id"] for t in overview_data(stack, page)["tiles"]
                    if t["id"] != VICTIM)
    page.goto(f"{stack.url}/terminals/{terminal}")
    page.click('button[data-confirm="confirm-print_test_page"]')
    dialog = page.locator("#confirm-print_test_page")
    assert dialog.is_visible()
    dialog.locator("button[data-close]").click()  # cancel: nothing sent
    assert not dialog.is_visible()
    assert page.locator("#commands").count() == 1
    page.click('button[data-confirm="confirm-print_test_page"]')
    dialog.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"ok="))
    assert "命令已发送" in page.locator(".flash.ok").inner_text()
    assert "打印测试页" in page.locator("section", has_text="命令记录").inner_text()


def test_a_form_posted_without_the_csrf_token_is_refused(stack: ConsoleStack,
                                                         page: Any) -> None:
    stack.login(page, "operator")
    page.goto(f"{stack.url}/alarms?state=all")
    status = page.evaluate("""async () => {
        const body = new URLSearchParams({note: 'no token'});
        return (await fetch('/alarms/1/ack', {method: 'POST', body})).status; }""")
    assert status == 403
    # the page's own form still works: the session was not harmed
    assert page.evaluate("fetch('/').then(r => r.status)") == 200


def test_every_page_photographed_and_accessible(stack: ConsoleStack, page: Any,
                                                shots_dir: Any) -> None:
    shots = walk(stack, page, shots_dir)
    names = {s.path.name for s in shots}
    for page_name in ("00-login", "01-overview", "02-terminal", "03-alarms", "04-ratings",
                      "05-cases", "06-case", "07-map", "08-admin", "20-overview-en"):
        for w, h in SIZES:
            assert f"{page_name}-{w}x{h}.png" in names
    for shot in shots:
        assert shot.path.stat().st_size > 10_000, shot.path
        assert shot.critical == [], (shot.path.name, shot.critical)


def test_no_page_scrolls_sideways(stack: ConsoleStack, page: Any) -> None:
    """Nothing sticks out of the window at the laptop size (clipped or overlapping)."""
    stack.login(page, "admin")
    page.set_viewport_size({"width": 1280, "height": 800})
    for path in ("/", "/alarms?state=all", "/ratings", "/cases?state=all", "/map",
                 "/admin/users"):
        page.goto(stack.url + path)
        page.wait_for_load_state("load")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 1280, (path, wide)
        assert axe_check(page) is not None

"""办事指南 end to end: initials on the on-screen keyboard, browse, the guide, print, 取号.

The issue's "Must show" for the UI is the first test: find an item by tapping its pinyin
initials on the on-screen keyboard (no system keyboard, no handwriting) and open its guide.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kivy.core.window import Window
from kivy.metrics import dp
from kivy.uix.textinput import TextInput
from test_layout import SIZES, problems_on_screen, screenshot_folder

from drivers.printer.fake import render_text
from screens.pilot import PilotError

SHOTS = Path()  # set for the module by _screenshot_folder


@pytest.fixture(scope="module", autouse=True)
def _screenshot_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    global SHOTS
    SHOTS = screenshot_folder(tmp_path_factory, "guide-shots")

#: real queries a resident types on the keyboard (letters or digits) and the item they mean
KEYBOARD_QUERIES = {
    "dbsq": "SQ-001",  # 低保申请 → 最低生活保障申请 (synonym)
    "gljt": "ZJ-019",  # 高龄津贴
    "sydj": "ZJ-027",  # 生育登记 (hot term over 失业登记)
    "lnyd": "ZJ-026",  # 老年优待证
    "bydj": "SQ-021",  # 兵役登记
    "dibao": "SQ-001",  # full pinyin
}


def open_guide(ui) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("guide")
    ui.wait_screen("guide")


def type_keys(ui, text: str) -> None:
    for char in text:
        ui.tap(f"key_{char}")


def visible_ids(ui) -> set[str]:
    return {getattr(w, "test_id", "") for w in ui.walk_visible()} - {""}


def guide_screen(ui):
    return ui.manager.get_screen("guide")


def detail_screen(ui):
    return ui.manager.get_screen("guide_detail")


def section_text(ui, key: str) -> str:
    ui.wait_for(lambda: not detail_screen(ui).filling, what="the whole guide")
    section = ui.find(f"section_{key}")
    return section.heading + "\n" + section.body


def test_find_an_item_by_initials_on_the_on_screen_keyboard_and_open_its_guide(ui) -> None:
    open_guide(ui)
    # no system keyboard anywhere on the way: the resident only taps keys of this screen
    assert not [w for w in ui.walk_visible() if isinstance(w, TextInput)]
    assert "输入拼音首字母，如“ylbx”查医疗保险，“dbsq”查低保申请" in ui.texts()
    type_keys(ui, "dbsq")
    assert ui.find("query").text == "D B S Q"
    screen = guide_screen(ui)
    assert screen.result_codes[0] == "SQ-001"
    assert "最低生活保障申请" in ui.texts()
    # letters that lead nowhere are dimmed (and do nothing), never hidden
    assert ui.find("key_x").disabled and ui.find("key_x").text == "X"
    with pytest.raises(PilotError):
        ui.tap("key_x")
    assert screen.query == "dbsq"
    ui.tap("item_SQ-001")
    ui.wait_screen("guide_detail")
    assert ui.find("guide_name").text == "最低生活保障申请"
    assert "户籍" in section_text(ui, "conditions")
    materials = section_text(ui, "materials")
    assert "居民身份证" in materials and "原件 1 份" in materials
    assert "可用电子证照代替" in materials  # the e-certificate replaces the paper
    assert "复印件 1 份" in materials and "特定情形提供" in materials
    limits = section_text(ui, "time_limit")
    assert "法定时限：30 个工作日" in limits and "承诺时限：20 个工作日" in limits
    assert "不收费" in section_text(ui, "fees")
    assert "社区服务大厅 一楼 综合服务窗口" in section_text(ui, "where")
    assert "示例数据" in ui.find("sample_notice").text
    detail = detail_screen(ui)
    ui.wait_for(lambda: detail.ids.qr.data == "https://isd.example.invalid/item/SQ-001",
                what="the QR to continue on the phone")
    assert detail.ids.qr.texture is not None
    assert {"print_guide", "take_number", "guide_back"} <= visible_ids(ui)
    # back to the results, the typed letters kept
    ui.tap("guide_back")
    ui.wait_screen("guide")
    assert ui.find("query").text == "D B S Q"
    ui.tap("key_clear")
    assert screen.query == "" and ui.find("query").text.startswith("输入拼音首字母")


@pytest.mark.parametrize(("letters", "code"), list(KEYBOARD_QUERIES.items()))
def test_keyboard_queries_find_the_item_people_mean(ui, letters: str, code: str) -> None:
    open_guide(ui)
    type_keys(ui, letters)
    assert guide_screen(ui).result_codes[0] == code
    ui.tap(f"item_{code}")
    ui.wait_screen("guide_detail")
    assert detail_screen(ui).code == code


def test_browse_by_life_event_department_and_popular(ui) -> None:
    open_guide(ui)
    screen = guide_screen(ui)
    ui.tap("tab_events")
    assert "困难救助" in ui.texts() and "生育服务" in ui.texts()
    ui.tap("group_medical")  # 看病就医: the biggest topic, rows are added over a few frames
    expected = [item.code for item in screen.view.life_events()[3].items]
    assert screen.view.life_events()[3].key == "medical" and len(expected) > 20
    ui.wait_for(lambda: len(screen.ids["items"].children) == len(expected), what="all rows")
    assert ui.find("items_title").text == "看病就医"
    shown = [row.code for row in reversed(screen.ids["items"].children)]
    assert shown == expected
    ui.tap("groups_back")
    ui.tap("tab_departments")
    ui.tap("group_区民政局")
    ui.wait_for(lambda: not screen._pending.get("items"), what="department rows")
    codes = [row.code for row in screen.ids["items"].children]
    assert codes and all(screen.view.get(c).department == "区民政局" for c in codes)
    ui.tap("tab_popular")
    ui.wait_for(lambda: len(screen.ids["items"].children) == 20, what="popular rows")
    assert "groups_back" not in visible_ids(ui)
    first = screen.view.popular(1)[0]
    ui.tap(f"item_{first.code}")
    ui.wait_screen("guide_detail")
    ui.tap("guide_back")
    ui.wait_screen("guide")
    assert screen.page == "popular"  # back where the item was picked


def test_digits_keyboard_for_numbers_in_names(ui) -> None:
    open_guide(ui)
    screen = guide_screen(ui)
    ui.tap("key_switch")
    assert screen.mode == "digits" and "key_q" not in visible_ids(ui)
    type_keys(ui, "80")
    assert screen.result_codes[:2] == ["ZJ-019", "SQ-018"]
    ui.tap("key_switch")
    assert screen.mode == "pinyin" and "key_q" in visible_ids(ui)


def test_print_the_checklist(ui) -> None:
    printer = ui.kiosk.devices.get("printer")
    before = len(printer.jobs)
    open_guide(ui)
    type_keys(ui, "dbsq")
    ui.tap("item_SQ-001")
    ui.wait_screen("guide_detail")
    ui.tap("print_guide")
    dialog = ui.app.controller.print_dialog
    ui.wait_for(lambda: dialog.state == "done", what="checklist printed")
    assert len(printer.jobs) == before + 1
    slip = render_text(printer.jobs[-1])
    assert "最低生活保障申请" in slip and "示例数据" in slip
    assert "居民身份证" in slip and "可用电子证照代替" in slip
    assert detail_screen(ui).printed == ["SQ-001"]
    ui.tap("print_close")
    ui.wait_for(lambda: dialog.parent is None, what="dialog closed")
    assert ui.current_screen == "guide_detail"


def test_take_a_number_for_this_item_opens_the_queue_flow(ui) -> None:
    open_guide(ui)
    type_keys(ui, "gljt")
    ui.tap("item_ZJ-019")
    ui.wait_screen("guide_detail")
    assert detail_screen(ui).queue_category == "民政"
    ui.tap("take_number")
    queue_screen = ui.app.controller.flow_screens.get("queue", "flow")
    ui.wait_screen(queue_screen)
    assert ui.kiosk.machine.flow == "queue"
    # the queue screen is told which business category the item belongs to (its tile is marked)
    assert getattr(ui.manager.get_screen(queue_screen), "preselected", None) == "民政"


def test_no_take_a_number_for_an_item_without_a_queue(ui) -> None:
    open_guide(ui)
    screen = guide_screen(ui)
    item = screen.view.get("CJ-001")
    assert item is not None and not item.queue_category
    detail_screen(ui).show(item, screen.view)
    ui.manager.current = "guide_detail"
    ui.pump(3)
    assert "take_number" not in visible_ids(ui) and "print_guide" in visible_ids(ui)
    assert item.guide is None
    assert "本事项暂无详细办事指南，请咨询窗口工作人员。" in section_text(ui, "summary")
    assert item.where.place in section_text(ui, "where")


def test_unavailable_catalogue_says_so(ui, monkeypatch) -> None:
    monkeypatch.setattr(ui.kiosk.catalogue.service, "_view", None)
    assert not ui.kiosk.catalogue.available
    open_guide(ui)
    assert "办事指南暂时无法使用" in ui.texts()
    assert not {"key_a", "tab_events", "query"} & visible_ids(ui)
    ui.tap("back")
    ui.wait_screen("home")


def test_the_next_resident_does_not_see_the_last_search(ui) -> None:
    open_guide(ui)
    type_keys(ui, "gljt")
    ui.tap("item_ZJ-019")
    ui.wait_screen("guide_detail")
    ui.tap("exit")
    ui.wait_screen("attract")
    assert "G L J T" not in ui.texts(visible_only=False)
    assert "80周岁以上长寿老年人高龄津贴" not in ui.texts(visible_only=False)
    open_guide(ui)
    assert guide_screen(ui).query == "" and not ui.find("key_g").disabled


def test_english_and_elder_mode_on_the_guide(ui) -> None:
    open_guide(ui)
    ui.tap("elder")
    ui.tap("language")
    assert "Delete" in ui.texts() and "Clear" in ui.texts()
    type_keys(ui, "dbsq")
    ui.tap("item_SQ-001")
    ui.wait_screen("guide_detail")
    assert "Conditions" in section_text(ui, "conditions")
    assert "Originals: 1" in section_text(ui, "materials")
    assert "Print checklist" in ui.texts()
    for widget in ui.walk_visible():
        if getattr(widget, "test_id", "") in ("print_guide", "take_number", "guide_back"):
            assert min(widget.size) >= dp(60) - 0.5
    ui.tap("language")  # back to Chinese while the guide is open: the sections follow
    assert "办理条件" in section_text(ui, "conditions")


def show_pages(ui):
    """Every page of the flow with representative content: (tag, how to put it up)."""
    screen = guide_screen(ui)

    def search() -> None:
        screen.show_page("search")
        screen.press("clear")
        if screen.mode == "digits":
            screen.press("switch")
        for char in "ylbx":
            screen.press(char)
        ui.manager.current = "guide"

    def digits() -> None:
        search()
        screen.press("clear")
        screen.press("switch")
        for char in "80":
            screen.press(char)

    def popular() -> None:
        ui.manager.current = "guide"
        screen.show_page("popular")

    def groups() -> None:
        ui.manager.current = "guide"
        screen.show_page("events")

    def items() -> None:
        ui.manager.current = "guide"
        screen.show_page("departments")
        screen.open_group("区医疗保障局")

    def detail(code: str):
        def put_up() -> None:
            detail_screen(ui).show(screen.view.get(code), screen.view)
            ui.manager.current = "guide_detail"
        return put_up

    return [("search", search), ("digits", digits), ("popular", popular), ("events", groups),
            ("items", items),
            ("detail", detail("SQ-001")), ("detail-noguide", detail("ZJ-044"))]


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_guide_pages_fit(ui, width: int, height: int) -> None:
    open_guide(ui)
    screen = guide_screen(ui)
    ui.resize(width, height)
    failures: list[str] = []
    for elder, lang in ((False, "zh_CN"), (True, "zh_CN"), (True, "en"), (False, "en")):
        ui.app.theme.elder = elder
        ui.app.lang = lang
        for name, put_up in show_pages(ui):
            put_up()
            ui.wait_for(lambda: not any(screen._pending.values())
                        and not detail_screen(ui).filling, what="lists filled")
            ui.pump(4)
            tag = f"{width}x{height}-{'elder' if elder else 'normal'}-{lang}-{name}"
            failures += [f"{tag}: {p}" for p in problems_on_screen(ui)]
            failures += [f"{tag}: no glyph for {c!r}" for c in ui.missing_glyphs()]
            for widget in ui.walk_visible():
                if getattr(widget, "test_id", "").startswith(("key_", "item_", "group_")):
                    if min(widget.size) < dp(60) - 0.5:
                        failures.append(f"{tag}: {widget.test_id} is {widget.size}")
            ui.screenshot(SHOTS / f"{tag}.png")
    assert Window.size == (width, height)
    assert not failures, "\n".join(failures)

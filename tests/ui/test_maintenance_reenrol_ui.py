"""The maintenance screen's re-enrolment against a real `kiosk-fleet serve` (its enrolment
endpoint, CA and a TLS mosquitto whose ACL it rewrites), and the whole screen in English with no
untranslated text left."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet_stack import REGION, Stack, fleet_stack

from config.loader import load_config

pytestmark = pytest.mark.timeout(300)
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with fleet_stack(tmp_path_factory.mktemp("reenrol"), ingest=False) as built:
        yield built


@pytest.fixture
def own_file(ui, tmp_path: Path) -> Iterator[Path]:
    """The demo kiosk as if started with ``--config FILE`` (the file re-enrolment updates)."""
    folder = tmp_path / "etc-kiosk"
    folder.mkdir()
    path = folder / "kiosk.toml"
    path.write_text(f'[terminal]\nid = "{ui.kiosk.config.terminal.id}"\n', encoding="utf-8")
    config = ui.kiosk.config
    before = config.config_file()
    config._file = str(path)
    yield path
    config._file = before


def _audit(ui) -> list[dict]:
    path = ui.app.controller.pin_guard.audit_file
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _submit(ui, url: str, token: str) -> str:
    dialog = ui.manager.get_screen("maintenance").reenrol_dialog
    ui.find("reenrol_url").text = url
    ui.find("reenrol_token").text = token
    dialog.message = ""
    ui.tap("reenrol_submit")
    ui.wait_for(lambda: dialog.message not in ("", ui.app.tr("正在注册…", ui.app.lang)),
                timeout_s=30, what="the enrolment's outcome")
    return dialog.message


def test_reenrol_from_the_maintenance_screen(ui, stack: Stack, own_file: Path,
                                             tmp_path: Path) -> None:
    from kivy.config import Config
    from kivy.core.window import Window
    from kivy.uix.vkeyboard import VKeyboard

    keyboard_mode = Config.get("kivy", "keyboard_mode")
    terminal = ui.kiosk.config.terminal.id
    audit_before = len(_audit(ui))
    ui.kiosk.machine.enter_maintenance()
    ui.wait_screen("maintenance")
    ui.tap("reenrol")
    assert ui.find("reenrol_url").text == ""  # never enrolled: nothing to offer yet
    assert f"终端编号：{terminal}" in ui.texts()
    # no keyboard on a terminal: touching a field docks Kivy's on-screen keyboard below
    ui.tap("reenrol_token")
    ui.wait_for(lambda: any(isinstance(w, VKeyboard) for w in Window.children),
                what="the on-screen keyboard")
    keyboard = next(w for w in Window.children if isinstance(w, VKeyboard))
    assert keyboard.top <= ui.find("reenrol_close").y  # the form stays above it
    print(f"screenshot: {ui.screenshot(tmp_path / 'reenrol-keyboard.png')}")
    ui.find("reenrol_token").focus = False
    ui.wait_for(lambda: not any(isinstance(w, VKeyboard) for w in Window.children),
                what="the keyboard gone")

    assert _submit(ui, "fleet.example", "enr_whatever-123") == \
        "车队服务器地址：请填写以 http:// 或 https:// 开头的地址"
    assert _submit(ui, stack.url, "") == "注册令牌：请填写车队服务器生成的一次性令牌"
    wrong = _submit(ui, stack.url, "enr_not-a-real-token-at-all")
    assert wrong.startswith("重新注册失败：the fleet refused the enrolment (403)")
    assert "unknown enrolment token" in wrong
    assert "pki" not in {p.name for p in own_file.parent.iterdir()}  # nothing installed

    token = stack.token(terminal)
    done = _submit(ui, stack.url + "/", token)
    assert done == (f"已重新注册 {terminal}（{REGION}），车队 mqtts://127.0.0.1:"
                    f"{stack.broker_port}；重启后生效")
    assert ui.find("reenrol_token").text == ""  # the used token does not stay on screen
    for size in ((1920, 1080), (1080, 1920)):
        ui.resize(*size)
        ui.pump(3)
        print(f"screenshot: {ui.screenshot(tmp_path / f'reenrol-{size[0]}x{size[1]}.png')}")
    ui.resize(1920, 1080)
    assert ui.missing_glyphs() == []

    config = load_config("demo", own_file, env={})  # what the restarted kiosk will run with
    assert config.terminal.region_code == REGION
    assert config.fleet.command_keys == [stack.command_public]
    assert config.fleet.enrol_url == stack.url + "/"
    assert config.mqtt.url == f"mqtts://127.0.0.1:{stack.broker_port}"
    assert Path(config.mqtt.cert_file).is_file()
    assert stat.S_IMODE(Path(config.mqtt.key_file).stat().st_mode) == 0o600
    assert terminal in (stack.dir / "broker" / "acl").read_text()  # the fleet granted its ACL

    entries = [e for e in _audit(ui)[audit_before:] if e.get("action") == "reenrol"]
    assert [e["outcome"] for e in entries] == ["started", "failed", "started", "ok"]
    assert token not in json.dumps(entries) and "not-a-real-token" not in json.dumps(entries)

    ui.tap("reenrol_close")
    ui.pump(2)
    ui.tap("reenrol")  # offered again with the URL it enrolled with
    assert ui.find("reenrol_url").text == stack.url + "/"
    ui.tap("reenrol_close")
    assert Config.get("kivy", "keyboard_mode") == keyboard_mode  # the app's own mode again
    ui.tap("exit_maintenance")
    ui.wait_screen("attract")


def test_the_maintenance_screen_in_english_has_no_untranslated_text(ui, tmp_path: Path) -> None:
    """Everything built in Chinese first (self-test table, re-enrol form), then the header's
    language button on the maintenance screen itself switches to English."""
    ui.kiosk.machine.enter_maintenance()
    ui.wait_screen("maintenance")
    screen = ui.manager.get_screen("maintenance")
    ui.tap("selftest")
    ui.wait_for(lambda: "自检全部通过" in screen.selftest_text, timeout_s=30,
                what="the self-test")
    # the same checks as `kiosk-provision selftest`, the new ones included
    for name in ("device printer (fake)", "camera frames", "printer test page",
                 "fleet broker (MQTT)", "fleet round trip", "queue server", "clock",
                 "disk space", "CJK font"):
        assert f"] {name}: " in screen.selftest_text, name
    assert "[通过] printer test page: job " in screen.selftest_text
    ui.tap("reenrol")
    ui.tap("reenrol_close")
    ui.pump(2)
    ui.tap("exit_desktop")  # armed: its label changes
    ui.pump(2)

    ui.tap("language")
    ui.pump(3)
    assert ui.app.lang == "en" and ui.current_screen == "maintenance"
    assert "[PASS] printer test page: job " in screen.selftest_text
    assert screen.selftest_text.endswith("Self-test passed")
    # data, not interface text: the site's name and the log lines are shown as they are; the
    # language button names the other language in that language ("中文")
    data = {id(ui.find(test_id)) for test_id in ("maintenance_info", "recent_log", "language")}
    shown = [w.text for w in ui.walk_visible() if hasattr(w, "texture_size")
             and getattr(w, "text", "") and id(w) not in data]
    untranslated = [t for t in shown if CJK.search(t)]
    assert untranslated == [], untranslated
    assert "Maintenance" in shown and "Re-enrol" in shown
    assert "Press again to exit to the desktop" in shown
    assert any(t.startswith("Fleet server: off") for t in ui.texts())

    ui.tap("reenrol")
    dialog = screen.reenrol_dialog
    texts = [w.text for w in dialog.walk() if getattr(w, "text", "") and
             not w.__class__.__name__.endswith("TextInput")]
    hints = [w.hint_text for w in dialog.walk() if hasattr(w, "hint_text")]
    assert [t for t in texts + hints if CJK.search(t)] == []
    assert "Enrol with the fleet server again" in texts
    # and what is drawn is that text: no label still shows the texture of the other language
    assert [w.text for w in ui.walk_visible() if getattr(w, "_text_stale", False)] == []
    print(f"screenshot: {ui.screenshot(tmp_path / 'maintenance-en.png')}")
    assert ui.missing_glyphs() == []
    ui.tap("reenrol_close")
    ui.tap("paper_reset")
    ui.wait_for(lambda: screen.selftest_text.startswith("Paper: "), what="the paper state")
    screen.exit_armed = False
    ui.tap("exit_maintenance")
    ui.wait_screen("attract")

"""Every screen at 1920×1080, 1080×1920, 1280×800 and 800×1280, normal and elder mode,
Chinese and English: no text is clipped and nothing leaves the window. Screenshots go to
$KIOSK_SCREENSHOT_DIR (default: a temporary folder) for a human to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kivy.core.window import Window
from kivy.uix.carousel import Carousel
from kivy.uix.label import Label
from kivy.uix.layout import Layout
from kivy.uix.modalview import ModalView
from kivy.uix.scrollview import ScrollView

from kiosk.identity.person import Identity
from kiosk.session.flows import FLOW_BY_ID

SIZES = [(1920, 1080), (1080, 1920), (1280, 800), (800, 1280)]
MODES = [(False, "zh_CN"), (True, "zh_CN"), (True, "en"), (False, "en")]


def show(ui, name: str) -> None:
    """Put a screen up with representative (fictitious) content, without the session flow."""
    manager = ui.manager
    controller = ui.app.controller
    if name in ("identify-waiting", "identify-done"):
        screen = manager.get_screen("identify")
        screen.flow_title = FLOW_BY_ID["proof"].title
        screen.identified = name == "identify-done"
        screen.masked_name, screen.masked_id = "欧阳**", "3701**********003X"
        screen.expired = name == "identify-done"
        name = "identify"
    elif name == "progress":
        from kiosk.codes.platform import Person

        screen = manager.get_screen("progress")
        screen.applications = ui.kiosk.codes.progress_for(Person("370102199003070032", "欧阳"))
        screen.masked_name = "欧阳**"
        screen.show(0)
    elif name == "help":
        screen = manager.get_screen("help")
        screen.phone, screen.window = "0531-12345", "一楼 综合咨询窗口"
        screen.state = "unreachable"
    elif name == "rating":
        manager.get_screen("rating").select("very_dissatisfied")
        manager.get_screen("rating").reasons = ["操作复杂"]
    elif name == "out_of_service":
        manager.get_screen("out_of_service").kinds = ["printer", "idcard"]
    elif name == "maintenance":
        manager.get_screen("maintenance").prepare()
    elif name == "proof":
        from kiosk.printing.proofs import PROOF_TYPES

        manager.get_screen("proof").populate(list(PROOF_TYPES), "欧阳**", printer_ok=False)
        manager.get_screen("proof").printed = ["rights_record"]
    if name == "idle":
        controller._open_idle_prompt(20)
    elif name == "evaluate":
        manager.get_screen("evaluate").number = "DEMO-0001-20261122-000042"
        manager.get_screen("evaluate").message = ui.app.tr("请输入完整的办件编号")
        manager.get_screen("evaluate").message_is_error = True
    elif name == "simulator":
        ui.app.simulator_panel.open(animation=False)
    elif name in ("print-busy", "print-failed"):
        dialog = controller.print_dialog
        dialog.phone_url = "https://platform.example/verify?no=DEMO-0001-20260101-000001"
        dialog.show_printing()
        if name == "print-failed":
            dialog.show_outcome(False, "打印纸已用完", retryable=True)
    elif name == "pin":
        controller.request_maintenance()
        controller.pin_pad.message = ui.app.tr("密码错误")
    else:
        manager.current = name
    ui.pump(4)


def hide_dialogs(ui) -> None:
    controller = ui.app.controller
    for dialog in (controller.idle_prompt, controller.pin_pad, controller.print_dialog,
                   ui.app.simulator_panel):
        if dialog.parent is not None:
            dialog.dismiss(animation=False)
    ui.pump(2)


def problems_on_screen(ui) -> list[str]:
    width, height = Window.size
    found: list[str] = []
    for widget in ui.walk_visible():
        if not isinstance(widget, Label) or not widget.text.strip():
            continue
        label = f"{type(widget).__name__} {widget.text[:24]!r}"
        tw, th = widget.texture_size
        if tw > widget.width + 2 or th > widget.height + 2:
            found.append(f"{label}: text {tw:.0f}×{th:.0f} clipped in {widget.width:.0f}×"
                         f"{widget.height:.0f}")
        if _inside(widget, (ScrollView, Carousel)):
            continue
        parent = widget.parent
        if isinstance(parent, Layout) and not isinstance(parent, ModalView) and (
                widget.x < parent.x - 2 or widget.y < parent.y - 2
                or widget.right > parent.right + 2 or widget.top > parent.top + 2):
            found.append(f"{label}: spills out of its {type(parent).__name__} "
                         f"({widget.x:.0f},{widget.y:.0f},{widget.width:.0f}×"
                         f"{widget.height:.0f}) in ({parent.x:.0f},{parent.y:.0f},"
                         f"{parent.width:.0f}×{parent.height:.0f})")
        x0, y0 = widget.to_window(widget.x, widget.y)
        x1, y1 = widget.to_window(widget.right, widget.top)
        if x0 < -1 or y0 < -1 or x1 > width + 1 or y1 > height + 1:
            found.append(f"{label}: outside the {width}×{height} window at "
                         f"({x0:.0f},{y0:.0f})-({x1:.0f},{y1:.0f})")
    return found


def _inside(widget, kinds) -> bool:
    node = widget.parent
    while node is not None and node is not node.parent:
        if isinstance(node, kinds):
            return True
        node = node.parent
    return False


def screenshot_folder(factory: pytest.TempPathFactory, name: str) -> Path:
    """Where a module's screenshots go for a human to look at: ``$KIOSK_SCREENSHOT_DIR/<name>``
    when set, else a folder of pytest's own temporary tree (never a fixed /tmp path)."""
    root = os.environ.get("KIOSK_SCREENSHOT_DIR", "")
    if not root:
        return factory.mktemp(name)
    folder = Path(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_folder(tmp_path_factory, "layout-shots")


SCREENS = ["attract", "home", "identify-waiting", "identify-done", "progress", "help", "proof",
           "rating",
           "thanks", "out_of_service", "maintenance", "idle", "pin", "print-busy", "print-failed",
           "simulator", "evaluate"]


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_screen_fits(ui, shots: Path, width: int, height: int) -> None:
    ui.resize(width, height)
    failures: list[str] = []
    try:
        for elder, lang in MODES:
            ui.app.theme.elder = elder
            ui.app.lang = lang
            for name in SCREENS:
                show(ui, name)
                tag = f"{width}x{height}-{'elder' if elder else 'normal'}-{lang}-{name}"
                failures += [f"{tag}: {p}" for p in problems_on_screen(ui)]
                if lang == "zh_CN" or name in ("home", "rating"):
                    ui.screenshot(shots / f"{tag}.png")
                hide_dialogs(ui)
    finally:
        ui.manager.get_screen("identify").clear_personal()
        ui.manager.get_screen("progress").clear_personal()
        ui.manager.get_screen("proof").clear_personal()
        ui.manager.get_screen("evaluate").clear_personal()
        ui.manager.current = "attract"
    assert not failures, "\n".join(failures)


def test_touch_targets_are_at_least_60dp(ui) -> None:
    from kivy.metrics import dp

    from screens.widgets import KButton, Tile

    ui.app.theme.elder = False
    for name in ("home", "rating", "identify-done", "progress", "help"):
        show(ui, name)
        for widget in ui.walk_visible():
            if isinstance(widget, KButton | Tile):
                assert min(widget.size) >= dp(60) - 0.5, (name, getattr(widget, "text", ""),
                                                          widget.size)
    ui.manager.current = "attract"


def test_identity_fixture_is_not_real() -> None:
    """The layout test shows only masked placeholders, never a person."""
    assert Identity(source="idcard", name="欧阳娜娜", id_number="x").masked_name == "欧***"

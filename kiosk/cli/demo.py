"""``kiosk demo``: a scripted resident session on simulated devices, with screenshots.

It runs the real app in-process through :class:`screens.pilot.Pilot`: touches go through
Kivy's input pipeline, card reads and rating-pad presses come from the fake drivers' own
methods (as a driver thread would deliver them). Long waits (idle time-out, out-of-service
grace) are fast-forwarded with a clock offset instead of real sleeping. Writes
``NN-name.png`` for every screen it passes and ``session.json`` with the steps.

The demo keeps its data (outbox, ratings, sessions, catalogue cache) in ``<out>/data``, never
in the terminal's real data folder: a demo's records must not reach the fleet on the next
real run.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from config.schema import KioskConfig

log = logging.getLogger(__name__)


class FastForwardClock:
    """A monotonic clock that can jump ahead (for idle and grace timers in the demo)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def run_demo(config: KioskConfig, out: Path, size: tuple[int, int] = (1920, 1080),
             headless: bool = True, emulate: frozenset[str] = frozenset()) -> dict[str, Any]:
    from kiosk.cli.xvfb import virtual_display

    out.mkdir(parents=True, exist_ok=True)
    config = with_data_dir(config, out / "data")
    width, height = size
    if headless:
        with virtual_display(width, height):
            return _play(config, out, width, height, emulate)
    return _play(config, out, width, height, emulate)


def with_data_dir(config: KioskConfig, data_dir: Path) -> KioskConfig:
    """``config`` keeping its data and logs in ``data_dir`` (the demo's and the tests' own)."""
    storage = type(config.storage).model_validate(
        {**config.storage.model_dump(), "data_dir": data_dir, "log_dir": data_dir / "logs"})
    return config.model_copy(update={"storage": storage})


def _play(config: KioskConfig, out: Path, width: int, height: int,
          emulate: frozenset[str]) -> dict[str, Any]:
    from screens.bootstrap import prepare_kivy

    prepare_kivy(width, height, maxfps=0)
    from drivers.idcard.samples import RESIDENT
    from kiosk.core import build_kiosk
    from screens.pilot import Pilot

    clock = FastForwardClock()
    config = config.model_copy(update={
        "ui": config.ui.model_copy(update={"simulator": True}),
        # the demo's voice goes into WAV files next to the screenshots (no speaker needed)
        "voice": config.voice.model_copy(update={"output": "files"})})
    kiosk = build_kiosk(config, clock=clock, emulate=emulate)
    sim = kiosk.simulation
    assert sim is not None
    pilot = Pilot(kiosk).start()
    script = _Script(pilot, out)
    try:
        ratingpad = kiosk.devices.get("ratingpad")
        printer = kiosk.devices.get("printer")

        # 1. A resident shows their resident code: identify with the ID card, then rate.
        script.shot("attract", "the attract screen waits for a touch")
        script.tap("start", "touch to start", expect="home")
        script.shot("home", "home: service tiles")
        script.tap("code", "choose 亮码 (resident code)", expect="identify")
        script.shot("identify-waiting", "identify step: place the ID card")
        sim.place_id_card(RESIDENT)
        pilot.wait_for(lambda: pilot.manager.get_screen("identify").identified, timeout_s=10,
                       what="identity")
        script.step("card placed on the reader (simulated ID card reader)")
        script.shot("identify-done", "masked identity shown")
        script.tap("continue", "continue", expect="code")
        script.shot("code-choice", "居民码 or 企业码")
        script.tap("code_resident", "show the resident code")
        pilot.wait_for(lambda: pilot.manager.get_screen("code").page == "show", timeout_s=10,
                       what="the resident code")
        script.shot("resident-code", "the resident code with its countdown")
        sim.lift_id_card()
        script.tap("complete", "finish the item", expect="rating")
        script.shot("rating", "evaluation screen appears by itself")
        script.tap("level_dissatisfied", "choose 不满意")
        script.shot("rating-reason", "a bad rating asks for a reason")
        script.tap("reason_等待时间长", "choose a reason")
        script.tap("submit", "submit the rating", expect="thanks")
        script.shot("thanks", "thank-you page; personal data already cleared")
        clock.advance(config.ui.idle_prompt_s + 10)
        pilot.wait_screen("attract")
        script.step("back to attract after the thank-you page")

        # 2. Elder mode and English, taking a queue number, rating on the pad.
        script.tap("start", "touch to start", expect="home")
        script.tap("elder", "switch on elder mode")
        script.shot("home-elder", "elder mode: larger text, higher contrast")
        script.tap("language", "switch to English")
        script.shot("home-elder-english", "English")
        script.tap("queue", "choose 取号 (take a number)", expect="queue")
        script.shot("queue", "categories with people waiting")
        script.tap("category_A", "take a number")
        dialog = pilot.app.controller.print_dialog
        pilot.wait_for(lambda: dialog.state == "done", timeout_s=15, what="ticket printed")
        script.tap("print_close", "take the ticket")
        script.shot("ticket", "the ticket on screen")
        script.tap("complete", "done", expect="rating")
        if ratingpad is not None:
            sim.press_rating("very_satisfied")
            pilot.wait_for(lambda: pilot.manager.get_screen("rating").selected == "very_satisfied",
                           what="rating pad press")
            script.step("pressed 非常满意 on the rating pad")
        else:
            script.tap("level_very_satisfied", "choose 非常满意")
        script.shot("rating-pad", "level chosen on the pad")
        script.tap("submit", "submit", expect="thanks")
        script.tap_anywhere("touch the thank-you page", expect="attract")
        script.shot("attract-reset", "mode and language reset for the next resident")

        # 3. Printing a certificate: the slip comes out (and, in the demo, on screen).
        script.tap("start", "touch to start", expect="home")
        script.tap("proof", "choose 证明打印", expect="identify")
        sim.place_id_card(RESIDENT)
        pilot.wait_for(lambda: pilot.manager.get_screen("identify").identified, timeout_s=10,
                       what="identity")
        script.tap("continue", "continue", expect="proof")
        script.shot("proof", "choose a certificate")
        script.tap("proof_insurance_payment", "print 参保缴费证明")
        dialog = pilot.app.controller.print_dialog
        pilot.wait_for(lambda: dialog.state == "done", timeout_s=15, what="printed")
        script.shot("printed", "the printed slip (rendered from the real ESC/POS bytes)")
        script.tap("print_close", "take the slip")
        script.tap("complete", "finish", expect="rating")
        script.tap("skip", "skip the rating", expect="thanks")
        script.tap_anywhere("touch the thank-you page", expect="attract")
        sim.lift_id_card()

        # 3b. The tiles not walked yet: 办事指南, 进度查询 (card and handling number), 评价, 帮办.
        _walk_other_tiles(script, pilot, sim, config)

        # 4. Walking away: the idle prompt, then the session ends and the data is dropped.
        script.tap("start", "touch to start", expect="home")
        script.tap("proof", "choose 证明打印", expect="identify")
        sim.place_id_card(RESIDENT)
        pilot.wait_for(lambda: pilot.manager.get_screen("identify").identified, timeout_s=10,
                       what="identity")
        script.step("card placed")
        clock.advance(config.ui.idle_timeout_s + 1)
        pilot.wait_for(lambda: pilot.app.controller.idle_prompt is not None
                       and pilot.app.controller.idle_prompt.parent is not None,
                       what="idle prompt")
        script.shot("idle-prompt", "need more time? with a countdown")
        clock.advance(config.ui.idle_prompt_s + 1)
        pilot.wait_screen("attract")
        sim.lift_id_card()
        script.step("the session ended by itself; identity wiped",
                    identified=kiosk.machine.identity is not None)

        # 5. The printer runs out of paper: out of service after the grace period.
        if printer is not None and "printer" in config.health.required_devices:
            sim.set_paper("out")
            pilot.wait_for(lambda: kiosk.devices.health()["printer"].state.value == "unavailable",
                           timeout_s=15, what="printer unavailable")
            pilot.pump_for(0.5)  # the health monitor notes when the printer went down
            clock.advance(config.health.grace_s + 1)
            pilot.wait_screen("out_of_service", timeout_s=15)
            script.shot("out-of-service", "a required device is unavailable")
            sim.set_paper("ok")
            pilot.wait_screen("attract", timeout_s=15)
            script.step("paper refilled: back in service")

        # 6. A technician: long press in the corner, PIN, maintenance screen.
        script.long_press_corner(config.maintenance.long_press_s)
        script.shot("pin", "maintenance PIN pad")
        for digit in "246810":
            pilot.tap(_pin_key(pilot, digit))
        script.tap("pin_ok", "enter the demo PIN", expect="maintenance")
        script.shot("maintenance", "device health for the technician")
        script.tap("exit_maintenance", "leave maintenance", expect="attract")
        ok = True
    except Exception as exc:
        log.exception("demo failed")
        script.step(f"FAILED: {exc}")
        script.shot("failure", "the screen when the demo failed")
        ok = False
    finally:
        pilot.stop()
    frames = pilot.frame_times
    tofu = sorted({ch for step in script.steps for ch in step.get("missing_glyphs", [])})
    result = {
        "ok": ok and not tofu,
        "missing_glyphs": tofu,
        "profile": config.profile,
        "size": [width, height],
        "steps": script.steps,
        "screenshots": script.screenshots,
        "frames": len(frames),
        "max_frame_ms": round(max(frames) * 1000, 1) if frames else None,
        "max_ui_work_ms": round(max(pilot.ui_work_times()) * 1000, 1) if frames else None,
        "emulated": sorted(emulate),
        "device_types": {kind: h.type for kind, h in kiosk.devices.health().items()},
        "ratings": [{"item": r.item, "level": r.level.value if r.level else None,
                     "reasons": list(r.reasons)}
                    for r in getattr(kiosk.ratings, "records", [])],
    }
    (out / "session.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), "utf-8")
    return result


def _walk_other_tiles(script: _Script, pilot: Any, sim: Any, config: KioskConfig) -> None:
    """办事指南, 进度查询, 评价 and 帮办, one short visit each, with a screenshot of every step."""
    from drivers.idcard.samples import RESIDENT

    offered = {flow.id for flow in pilot.kiosk.flows}
    number = ""
    if "guide" in offered:
        script.tap("start", "touch to start", expect="home")
        script.tap("guide", "choose 办事指南", expect="guide")
        script.shot("guide", "办事指南: search by pinyin initials, browse by life event")
        for char in "dbsq":
            pilot.tap(f"key_{char}")
        script.step("typed the initials d b s q on the on-screen keyboard")
        script.shot("guide-results", "matching items")
        guide = pilot.manager.get_screen("guide")
        if guide.result_codes:
            script.tap(f"item_{guide.result_codes[0]}", "open the first guide",
                       expect="guide_detail")
            pilot.wait_for(lambda: not pilot.manager.get_screen("guide_detail").filling,
                           what="the whole guide")
            script.shot("guide-detail", "the guide with materials, limits and a phone QR")
        script.tap("exit", "leave", expect="attract")
    if "progress" in offered:
        script.tap("start", "touch to start", expect="home")
        script.tap("progress", "choose 进度查询", expect="progress")
        script.shot("progress-start", "card, resident code or handling number")
        sim.place_id_card(RESIDENT)
        screen = pilot.manager.get_screen("progress")
        pilot.wait_for(lambda: screen.page in ("list", "detail", "problem"), timeout_s=10,
                       what="the applications")
        script.step("ID card placed (simulated reader)")
        script.shot("progress-list", "the resident's applications")
        if screen.page == "list":
            script.tap("application_0", "open the newest application")
        script.shot("progress-detail", "timeline, promised date, pickup, phone QR")
        script.tap("progress_print", "print the progress slip")
        dialog = pilot.app.controller.print_dialog
        pilot.wait_for(lambda: dialog.state == "done", timeout_s=15, what="printed")
        script.shot("progress-printed", "the progress slip")
        script.tap("print_close", "take the slip")
        number = screen.current.handling_number if screen.current else ""
        sim.lift_id_card()
        script.tap("complete", "done: something was looked up, so 好差评 follows",
                   expect="rating")
        script.shot("progress-rating", "evaluation after the look-up")
        script.tap("skip", "skip the rating", expect="thanks")
        script.tap_anywhere("touch the thank-you page", expect="attract")
        # by handling number, typed on the keypad
        script.tap("start", "touch to start", expect="home")
        script.tap("progress", "choose 进度查询 again", expect="progress")
        for char in number:
            pilot.tap(f"pkey_{char}")
        script.shot("progress-number", "a handling number typed on the keypad")
        script.tap("progress_search", "look it up")
        pilot.wait_for(lambda: screen.page == "detail", timeout_s=10, what="the application")
        script.shot("progress-by-number", "the same application, found by its number")
        script.tap("exit", "leave", expect="attract")
    if "rating" in offered:
        script.tap("start", "touch to start", expect="home")
        script.tap("rating", "choose 评价", expect="evaluate")
        script.shot("evaluate", "rate a service by its handling number")
        for char in number or "A005":
            pilot.tap(f"key_{char}")
        script.shot("evaluate-number", "the handling number of the application looked up")
        script.tap("evaluate_submit", "go to the evaluation", expect="rating")
        script.tap("level_satisfied", "choose 满意")
        script.tap("submit", "submit the rating", expect="thanks")
        script.tap_anywhere("touch the thank-you page", expect="attract")
    if "help" in offered:
        script.tap("start", "touch to start", expect="home")
        script.tap("help", "choose 帮办", expect="help")
        help_screen = pilot.manager.get_screen("help")
        pilot.wait_for(lambda: help_screen.state != "calling", timeout_s=15,
                       what="the help call's outcome")
        script.step(f"help call: {help_screen.state}")
        script.shot("help", "帮办: what happened to the call, and what works")
        if help_screen.state == "unreachable":
            script.tap("help_print", "print a help slip to take to a window")
            dialog = pilot.app.controller.print_dialog
            pilot.wait_for(lambda: dialog.state == "done", timeout_s=15, what="printed")
            script.shot("help-slip", "the help slip")
            script.tap("print_close", "take the slip")
        script.tap("exit", "leave", expect="attract")


def _pin_key(pilot: Any, digit: str) -> Any:
    from kivy.core.window import Window

    from screens.dialogs import PinPad

    pad = next(w for w in Window.children if isinstance(w, PinPad))
    return next(w for w in pad.walk() if getattr(w, "text", None) == digit
                and type(w).__name__ == "PinKey")


class _Script:
    def __init__(self, pilot: Any, out: Path) -> None:
        self.pilot = pilot
        self.out = out
        self.steps: list[dict[str, Any]] = []
        self.screenshots: list[str] = []
        self._t0 = time.monotonic()
        self._frames_seen = 0

    def step(self, action: str, **extra: Any) -> None:
        frames = self.pilot.frame_times[self._frames_seen:]
        work = self.pilot.ui_work_times()[self._frames_seen:]
        self._frames_seen = len(self.pilot.frame_times)
        self.steps.append({"n": len(self.steps) + 1, "t": round(time.monotonic() - self._t0, 3),
                           "action": action, "screen": self.pilot.current_screen,
                           "max_frame_ms": round(max(frames) * 1000, 1) if frames else None,
                           "max_ui_work_ms": round(max(work) * 1000, 1) if work else None,
                           **extra})

    def shot(self, name: str, caption: str) -> None:
        path = self.out / f"{len(self.screenshots) + 1:02d}-{name}.png"
        self.pilot.screenshot(path)
        self.screenshots.append(path.name)
        self.step(f"screenshot: {caption}", file=path.name, texts=self.pilot.texts(),
                  missing_glyphs=self.pilot.missing_glyphs())

    def tap(self, test_id: str, action: str, expect: str | None = None) -> None:
        self.pilot.tap(test_id)
        if expect:
            self.pilot.wait_screen(expect)
        self.step(action)

    def tap_anywhere(self, action: str, expect: str) -> None:
        from kivy.core.window import Window

        self.pilot.tap_at(Window.width / 2, Window.height / 2)
        self.pilot.wait_screen(expect)
        self.step(action)

    def long_press_corner(self, hold_s: float) -> None:
        from kivy.core.window import Window

        self.pilot.tap_at(20, Window.height - 20, hold_s=hold_s + 0.3)
        self.step("long press in the top-left corner")

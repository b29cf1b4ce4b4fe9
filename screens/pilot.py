"""Drives a real :class:`~screens.app.KioskApp` in-process: the scripted demo and the UI tests.

The pilot pumps Kivy's event loop itself (one ``EventLoop.idle()`` per frame) instead of
``App.run()``, so a script can tap, wait and look between frames. Touches go through Kivy's
real input pipeline (a motion event posted to the event loop), not through direct calls.
Every frame's duration is recorded: it is the time the UI thread was busy, which is how the
UI tests prove that nothing blocks it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kivy.base import EventLoop, runTouchApp
from kivy.core.window import Window
from kivy.input.motionevent import MotionEvent
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.widget import Widget

from kiosk.core import Kiosk
from screens.app import KioskApp

#: set KIOSK_PILOT_PROFILE_MS=80 to print a profile of every frame slower than that
PROFILE_SLOW_FRAMES_MS = float(os.environ.get("KIOSK_PILOT_PROFILE_MS", "0") or 0)


class PilotError(AssertionError):
    pass


def _profiled_idle(pilot: Pilot) -> None:
    """One frame under cProfile; printed when its UI-thread CPU time outside GL drawing
    exceeds ``KIOSK_PILOT_PROFILE_MS`` (cProfile itself roughly doubles the figure)."""
    import cProfile
    import io
    import pstats

    profile = cProfile.Profile()
    started = time.thread_time()
    profile.enable()
    EventLoop.idle()
    profile.disable()
    elapsed = (time.thread_time() - started - pilot._render_cpu_s) * 1000
    if elapsed > PROFILE_SLOW_FRAMES_MS:
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(15)
        print(f"--- slow frame: {elapsed:.1f} ms of UI-thread CPU outside GL ---\n"
              f"{out.getvalue()}", file=sys.stderr)


class _Touch(MotionEvent):
    def __init__(self, x: float, y: float) -> None:
        win = EventLoop.window
        position = {"x": x / (win.width - 1.0), "y": y / (win.height - 1.0)}
        super().__init__("pilot", id(self), position)

    def depack(self, args: dict[str, float]) -> None:
        self.is_touch = True
        self.sx, self.sy = args["x"], args["y"]
        self.profile = ["pos"]
        super().depack(args)


class Pilot:
    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self.app = KioskApp(kiosk)
        self.frame_times: list[float] = []
        #: per frame, the time spent issuing GL draw calls and swapping buffers: under Xvfb this
        #: is Mesa's software rasteriser (the UI thread waits for its worker threads)
        self.render_times: list[float] = []
        self._render_s = 0.0
        #: per frame, the UI thread's CPU time inside GL drawing and the buffer swap (Mesa's
        #: software rasteriser runs partly on the calling thread; a GPU does this on a terminal)
        self.render_cpu_times: list[float] = []
        self._render_cpu_s = 0.0
        #: per frame, CPU time of the UI thread (what a busy neighbour on a shared machine
        #: cannot inflate; the GL rasteriser's own threads are not in it)
        self.cpu_times: list[float] = []
        self._recording = True
        self._coverage: set[int] | None = None
        self._icon_coverage: set[int] = set()

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> Pilot:
        self.app._run_prepare()
        runTouchApp(embedded=True)
        self._time_rendering()
        self.wait_for(lambda: self.app.controller.warmed, 30.0, "start-up warm-up")
        self.wait_for(self.kiosk.started.is_set, 60.0, "the deferred start-up (catalogue)")
        self.pump(5)
        self.clear_frames()  # start-up (font loading, first layout) is not a session frame
        return self

    def clear_frames(self) -> None:
        """Forget the frames recorded so far (every per-frame list at once)."""
        for times in (self.frame_times, self.render_times, self.cpu_times,
                      self.render_cpu_times):
            times.clear()

    def stop(self) -> None:
        self.app.stop()
        for _ in range(3):
            EventLoop.idle()

    # -- frames --------------------------------------------------------------------------------
    def _time_rendering(self) -> None:
        window = EventLoop.window
        for name in ("on_draw", "flip"):
            original = getattr(window, name)

            def timed(*args: Any, _original: Any = original) -> Any:
                started = time.perf_counter()
                cpu_started = time.thread_time()
                try:
                    return _original(*args)
                finally:
                    self._render_s += time.perf_counter() - started
                    self._render_cpu_s += time.thread_time() - cpu_started

            setattr(window, name, timed)

    def pump(self, frames: int = 1) -> None:
        for _ in range(frames):
            self._render_s = 0.0
            self._render_cpu_s = 0.0
            started = time.perf_counter()
            cpu_started = time.thread_time()
            if PROFILE_SLOW_FRAMES_MS:
                _profiled_idle(self)
            else:
                EventLoop.idle()
            if self._recording:
                self.frame_times.append(time.perf_counter() - started)
                self.render_times.append(self._render_s)
                self.cpu_times.append(time.thread_time() - cpu_started)
                self.render_cpu_times.append(self._render_cpu_s)

    def ui_work_times(self) -> list[float]:
        """Per frame: the time the UI thread spent on its own work — clock callbacks (handed-over
        device events included), input dispatch, layout and text rendering — that is, the frame
        minus GL drawing and the buffer swap, which a software GL spends rasterising pixels."""
        return [max(0.0, total - render) for total, render in zip(self.frame_times,
                                                                   self.render_times, strict=True)]

    def ui_cpu_times(self) -> list[float]:
        """Per frame: the UI thread's CPU time outside GL drawing and the buffer swap — the
        load-independent form of :meth:`ui_work_times`."""
        return [max(0.0, total - render) for total, render in zip(self.cpu_times,
                                                                   self.render_cpu_times,
                                                                   strict=True)]

    def pump_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump()
            time.sleep(0.005)

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 5.0,
                 what: str = "condition") -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.pump()
            if predicate():
                self.pump(2)  # let bindings settle and draw
                return
            time.sleep(0.005)
        raise PilotError(f"timed out after {timeout_s}s waiting for {what} "
                         f"(screen is {self.current_screen!r})")

    def wait_screen(self, name: str, timeout_s: float = 5.0) -> None:
        self.wait_for(lambda: self.current_screen == name, timeout_s, f"screen {name!r}")

    def not_recording(self) -> _Paused:
        """``with pilot.not_recording():`` frames inside (resizes, screenshots) are not timed."""
        return _Paused(self)

    # -- looking -------------------------------------------------------------------------------
    @property
    def manager(self) -> Any:
        return self.app.controller.manager

    @property
    def current_screen(self) -> str:
        return self.manager.current

    def visible_roots(self) -> list[Widget]:
        """The current screen, plus any open modal views on top of it."""
        roots: list[Widget] = [self.manager.current_screen]
        roots += [w for w in self.app.root.children if w is not self.manager]  # overlays
        roots += [w for w in Window.children if isinstance(w, ModalView)]
        return roots

    def walk_visible(self) -> Iterator[Widget]:
        for root in self.visible_roots():
            for widget in root.walk(restrict=True):
                if _shown(widget):
                    yield widget

    def find(self, test_id: str, timeout_s: float = 3.0) -> Widget:
        found: list[Widget] = []

        def look() -> bool:
            found[:] = [w for w in self.walk_visible() if getattr(w, "test_id", None) == test_id
                        or getattr(w, "flow_id", None) == test_id]
            return bool(found)

        self.wait_for(look, timeout_s, f"a visible widget {test_id!r}")
        return found[0]

    def missing_glyphs(self) -> list[str]:
        """Characters on screen now that the UI font has no glyph for (they would be tofu)."""
        from screens.fonts import find_cjk_font, glyph_coverage, missing_glyphs

        if self._coverage is None:
            from screens.icons import FONT_FILE

            self._coverage = glyph_coverage(find_cjk_font(self.kiosk.config.ui.font))
            self._icon_coverage = glyph_coverage(FONT_FILE)
        return missing_glyphs(self.texts(), self._coverage) + self.missing_icons()

    def missing_icons(self) -> list[str]:
        """Icons on screen not drawn by the icon font, or not in it (as ``icon:<name>``)."""
        from screens.icons import FONT_NAME, Icon

        if self._coverage is None:
            self.missing_glyphs()
        return sorted({f"icon:{w.name}" for w in self.walk_visible() if isinstance(w, Icon)
                       and w.text and (w.font_name != FONT_NAME
                                       or ord(w.text) not in self._icon_coverage)})

    def texts(self, visible_only: bool = True) -> list[str]:
        """Every label text in the window (all screens when ``visible_only`` is False)."""
        if visible_only:
            widgets: Iterator[Widget] = self.walk_visible()
        else:
            roots = list(self.manager.screens) + list(Window.children)
            widgets = (w for root in roots for w in root.walk(restrict=True))
        from screens.icons import Icon, strip_icon_markup

        # icons are checked against the icon font (missing_icons), not the text font
        return [strip_icon_markup(w.text) for w in widgets
                if isinstance(w, Label) and w.text and not isinstance(w, Icon)]

    # -- acting --------------------------------------------------------------------------------
    def tap(self, target: Widget | str, hold_s: float = 0.0) -> None:
        widget = self.find(target) if isinstance(target, str) else target
        if widget.disabled:
            raise PilotError(f"{getattr(widget, 'test_id', widget)!r} is disabled")
        x, y = widget.to_window(*widget.center)
        self.tap_at(x, y, hold_s)

    def tap_at(self, x: float, y: float, hold_s: float = 0.0) -> None:
        touch = _Touch(x, y)
        EventLoop.post_dispatch_input("begin", touch)
        self.pump(2)
        if hold_s:
            self.pump_for(hold_s)
        touch.move({"x": touch.sx, "y": touch.sy})
        EventLoop.post_dispatch_input("end", touch)
        self.pump(2)

    def resize(self, width: int, height: int) -> None:
        with self.not_recording():
            Window.size = (width, height)
            self.pump(6)

    def screenshot(self, path: Path) -> Path:
        """Render the whole window (screen and open dialogs) into an off-screen buffer and save
        it as PNG. Reading the on-screen buffer back is unreliable under Xvfb right after a
        resize, so the widget tree is drawn again into an FBO of the window's size."""
        from kivy.graphics import (
            ClearBuffers,
            ClearColor,
            Fbo,
            PopMatrix,
            PushMatrix,
            Scale,
            Translate,
        )

        with self.not_recording():
            self.pump(2)
            width, height = (int(v) for v in Window.size)
            layers = list(reversed(Window.children))  # bottom first
            fbo = Fbo(size=(width, height), with_stencilbuffer=True)
            with fbo:
                ClearColor(*Window.clearcolor)
                ClearBuffers()
                PushMatrix()
                Scale(1, -1, 1)
                Translate(0, -height, 0)
            moved = []
            for layer in layers:
                parent_canvas = Window.canvas
                index = parent_canvas.indexof(layer.canvas)
                if index > -1:
                    parent_canvas.remove(layer.canvas)
                fbo.add(layer.canvas)
                moved.append((layer, index))
            with fbo:
                PopMatrix()
            fbo.draw()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fbo.texture.save(str(path), flipped=False)
            finally:
                for layer, index in moved:
                    fbo.remove(layer.canvas)
                    if index > -1:
                        Window.canvas.insert(index, layer.canvas)
            self.pump(1)
        return path


class _Paused:
    def __init__(self, pilot: Pilot) -> None:
        self.pilot = pilot

    def __enter__(self) -> None:
        self.pilot._recording = False

    def __exit__(self, *_: object) -> None:
        self.pilot._recording = True


def _shown(widget: Widget) -> bool:
    node: Widget | None = widget
    while node is not None and not isinstance(node, Window.__class__):
        collapsed = node.width <= 0 and not isinstance(node, ModalView)
        if getattr(node, "opacity", 1) == 0 or collapsed:
            return False
        node = node.parent
    return True

"""The Kivy application: builds the screens around a ready :class:`kiosk.core.Kiosk`.

Deliberately thin (no god App): the controller follows the session, the screens render, the
kiosk core owns devices and state. Import only after :func:`screens.bootstrap.prepare_kivy`.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition
from kivy.uix.widget import Widget

from kiosk.core import Kiosk
from kiosk.i18n import translate
from screens.attract import AttractScreen
from screens.controller import UiController
from screens.flow_screens import discover
from screens.fonts import register_default_font
from screens.home import HomeScreen
from screens.icons import register_icon_font
from screens.identify import IdentifyScreen
from screens.lazyscreens import LazyScreenManager
from screens.rating import RatingScreen
from screens.simple import MaintenanceScreen, OutOfServiceScreen, ThanksScreen
from screens.theme import Theme

log = logging.getLogger(__name__)
KV_DIR = Path(__file__).parent
#: loaded before the window opens: the shared widgets and the attract screen
KV_EAGER = ("common.kv", "attract.kv")
#: built on first use or in idle frames after the attract screen is up: (name, class, kv file)
SCREENS = (("home", HomeScreen, "home.kv"), ("identify", IdentifyScreen, "identify.kv"),
           ("rating", RatingScreen, "rating.kv"),
           ("thanks", ThanksScreen, "simple.kv"),
           ("out_of_service", OutOfServiceScreen, "simple.kv"),
           ("maintenance", MaintenanceScreen, "simple.kv"))


class MaintenanceCorner(Widget):
    """Invisible top-left corner (over the brand, which is never a button): a long press asks
    for the maintenance PIN."""

    controller = ObjectProperty(None, allownone=True)
    hold_s = 3.0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pending = None

    def on_touch_down(self, touch: Any) -> bool:
        if self.collide_point(*touch.pos):
            self._cancel()
            self._pending = Clock.schedule_once(self._fire, self.hold_s)
            return True  # the corner sits over the brand: nothing below needs the touch
        return False

    def on_touch_up(self, touch: Any) -> bool:
        self._cancel()
        return False

    def _cancel(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def _fire(self, _dt: float) -> None:
        self._pending = None
        if self.controller is not None:
            self.controller.request_maintenance()


#: exit status asking the supervisor (systemd Restart=on-failure…) to start the kiosk again
EXIT_RESTART = 75


class RemoteUi:
    """What remote commands may do to the UI (called on the UI thread by kiosk.remote)."""

    def __init__(self, app: KioskApp) -> None:
        self.app = app

    def enter_maintenance(self) -> None:
        self.app.kiosk.machine.enter_maintenance()

    def exit_maintenance(self) -> None:
        self.app.kiosk.machine.exit_maintenance()

    def print_test_page(self) -> None:
        self.app.controller.print_test_page()

    def screenshot(self) -> str:
        """Only when no session is on screen (kiosk.remote checks, on this thread); saved
        under data_dir and deleted after ``fleet.screenshot_retention_days``."""
        store = self.app.kiosk.screenshots
        target = store.new_path()
        written = Path(Window.screenshot(str(target)))  # Kivy inserts a counter in the name
        written.replace(target)
        store.prune()
        return str(target)

    def restart(self) -> None:
        self.app.exit_status = EXIT_RESTART
        self.app.stop()


class KioskApp(App):
    theme = ObjectProperty(None)
    lang = StringProperty("zh_CN")
    brand_title = StringProperty("爱山东")
    controller = ObjectProperty(None, allownone=True)
    kiosk = ObjectProperty(None)

    def __init__(self, kiosk: Kiosk, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kiosk = kiosk
        self.title = f"{kiosk.config.branding.title} · {kiosk.config.terminal.site}"
        self.theme = Theme(elder=kiosk.config.ui.elder_mode)
        self.lang = kiosk.config.ui.language
        self.brand_title = kiosk.config.branding.title
        self.screens: dict[str, Any] = {}
        self._kv_loaded: set[str] = set(KV_EAGER)
        self._screen_kv: dict[str, str] = {}  # screen name → its .kv file
        self.simulator_panel: Any = None
        self.exit_status = 0
        self._tick_event = None
        self.notifier: Any = None
        self._watchdog_event: Any = None
        self._is_ready = False

    def tr(self, msgid: str, lang: str | None = None) -> str:
        """Translate; ``.kv`` passes ``app.lang`` so that texts rebind on a language switch."""
        return translate(msgid, lang or self.lang)

    @staticmethod
    def icon_char(name: str) -> str:
        """The character of an icon for ``[font=KioskIcons]…[/font]`` markup in ``.kv``."""
        from screens.icons import glyph

        return glyph(name)

    def load_kv(self, filename: str | None = None) -> bool:  # no automatic kiosk.kv
        return True

    def build(self) -> Widget:
        """Only what the attract screen needs: the other screens, the dialogs and the simulator
        panel are registered and built later (:meth:`_build_rest`, or on first use)."""
        from screens import kivy_fixes, lazylayout

        lazylayout.install()  # before any widget exists: hidden screens skip their layouts
        kivy_fixes.install()  # bindings Kivy adds per dialog and per scroll and never removes
        register_default_font(self.kiosk.config.ui.font)
        register_icon_font()
        for name in KV_EAGER:
            Builder.load_file(str(KV_DIR / name))
        manager = LazyScreenManager(transition=NoTransition())
        self.controller = UiController(self.kiosk, manager, self)
        config = self.kiosk.config
        attract = self._make_screen("attract", AttractScreen)
        attract.tips = list(config.ui.tips)
        attract.site = config.terminal.site
        manager.add_widget(attract)
        for name, cls, kv in SCREENS:
            self._screen_kv[name] = kv
            manager.register(name, lambda n=name, c=cls, k=kv: self._make_screen(n, c, k))
        offered = {flow.id for flow in self.kiosk.flows}
        for spec in discover():
            if spec.flow_id not in offered:
                continue
            kv = spec.kv_file
            manager.register(spec.screen_name, lambda s=spec, k=kv: self._make_screen(
                s.screen_name, s.screen_class, k))
            self._screen_kv[spec.screen_name] = kv
            for name, cls in spec.extra_screens:
                manager.register(name, lambda n=name, c=cls, k=kv: self._make_screen(n, c, k))
                self._screen_kv[name] = kv
            self.controller.flow_screens[spec.flow_id] = spec.screen_name
        root = FloatLayout()
        root.add_widget(manager)
        corner = MaintenanceCorner(controller=self.controller, size_hint=(None, None),
                                   size=(90, 90), pos_hint={"x": 0, "top": 1})
        corner.hold_s = config.maintenance.long_press_s
        root.add_widget(corner)
        if self.kiosk.simulation is not None and config.ui.simulator:
            root.add_widget(self._simulator_tab())
        self.kiosk.handoff.attach(lambda fn: Clock.schedule_once(lambda _dt: fn()))
        Window.bind(on_touch_down=self._on_any_touch)
        Window.clearcolor = self.theme.background
        self._tick_event = Clock.schedule_interval(lambda _dt: self.kiosk.tick(), 0.2)
        if self.kiosk.remote is not None:
            self.kiosk.remote.attach_ui(RemoteUi(self))
        self.kiosk.start(defer=True)  # the rest once the attract screen is up (_ready)
        manager.current = "attract"
        from kiosk.watchdog import Notifier

        notifier = Notifier.from_environ()
        if notifier is not None:
            self.start_watchdog(notifier)
        return root

    def _make_screen(self, name: str, cls: type[Any], kv_file: str | None = None) -> Any:
        """Build one screen (its ``.kv`` rules first, once); the home screen gets the flows."""
        if kv_file is not None:
            self.load_kv_once(kv_file)
        screen = cls(name=name, controller=self.controller)
        if name == "home":
            screen.flows = list(self.kiosk.flows)
        self.screens[name] = screen
        return screen

    def start_watchdog(self, notifier: Any) -> None:
        """Tell the supervisor we are up, then send its keep-alive from the UI loop itself:
        when the loop hangs the keep-alives stop and systemd restarts the kiosk."""
        self.stop_watchdog()
        self.notifier = notifier
        if self._is_ready:  # READY=1 is sent once the attract screen accepts touches (_ready)
            notifier.ready(f"serving as {self.kiosk.config.terminal.id}")
        if notifier.interval_s > 0:
            notifier.keepalive()
            self._watchdog_event = Clock.schedule_interval(lambda _dt: notifier.keepalive(),
                                                           notifier.interval_s)

    def stop_watchdog(self) -> None:
        if self._watchdog_event is not None:
            self._watchdog_event.cancel()
            self._watchdog_event = None
        if self.notifier is not None:
            self.notifier.stopping()
            self.notifier.close()
            self.notifier = None

    def load_kv_once(self, kv_file: str) -> None:
        """Load a ``.kv`` file of ``screens/`` unless it is loaded already."""
        if kv_file not in self._kv_loaded:
            Builder.load_file(str(KV_DIR / kv_file))
            self._kv_loaded.add(kv_file)

    def _simulator_tab(self) -> Widget:
        from screens.simulator import SimulatorTab

        self.load_kv_once("simulator.kv")
        tab = SimulatorTab(pos_hint={"x": 0, "y": 0})
        tab.bind(on_release=lambda *_: self.build_simulator_panel().open(animation=False))
        return tab

    def build_simulator_panel(self) -> Any:
        """The demo's device simulator panel (built in an idle frame, or on the first tap)."""
        if self.simulator_panel is None:
            from screens.simulator import SimulatorPanel

            self.load_kv_once("dialogs.kv")
            self.simulator_panel = SimulatorPanel(simulation=self.kiosk.simulation)
        return self.simulator_panel

    def on_start(self) -> None:
        Window.fbind("on_flip", self._first_flip)

    def _first_flip(self, *_: Any) -> None:
        """The attract screen has been drawn and its buttons take touches."""
        Window.funbind("on_flip", self._first_flip)
        self._ready()

    def _ready(self) -> None:
        """On the attract screen: tell the supervisor (systemd Type=notify), build the rest in
        idle frames, then start the deferred part of the core (the catalogue, on a worker)."""
        from kiosk.cli.ready import notify_ready

        self._is_ready = True
        notify_ready(self.notifier)
        self._build_rest()

    def _build_rest(self) -> None:
        """Build what the attract screen did not need, one piece per frame (a screen, the
        dialogs, the simulator panel), so that no frame carries more than one; then freeze the
        heap. ``controller.warmed`` says when it is done. Anything needed earlier is built on
        the spot by its lookup (``manager.get_screen``, ``controller.build_dialogs``)."""
        manager = self.controller.manager
        steps: list[Any] = []
        for name in manager.pending:  # its rules in one frame, its widgets in the next
            steps.append(lambda kv=self._screen_kv[name]: self.load_kv_once(kv))
            steps.append(lambda name=name: manager.get_screen(name))
        steps.append(lambda: self.load_kv_once("dialogs.kv"))
        steps.append(lambda: self.controller.build_dialogs()
                     if self.controller.print_dialog is None else None)
        if self.kiosk.simulation is not None and self.kiosk.config.ui.simulator:
            steps.append(self.build_simulator_panel)

        def run(index: int) -> None:
            if index < len(steps):
                steps[index]()
                Clock.schedule_once(lambda _dt: run(index + 1), 0)
                return
            self._freeze_heap()
            gc.enable()
            self.controller.warmed = True
            # after the freeze: the catalogue is swapped in the field, and what is frozen is
            # never collected (its index holds reference cycles)
            self.kiosk.start_deferred()
            log.info("start-up: every screen built (%s)", ", ".join(
                f"{name} {seconds * 1000:.0f} ms" for name, seconds in manager.build_times.items()))

        self.controller.warmed = False
        # no collection while building: a full one, landing in whichever step allocates,
        # stalled that frame by 100 ms and more (``kiosk run`` starts with the collector off)
        gc.disable()
        gc.freeze()
        Clock.schedule_once(lambda _dt: run(0), 0)

    @staticmethod
    def _freeze_heap() -> None:
        """Move the start-up object graph (every screen's widgets) out of the garbage
        collector's view: a full collection then scans only what sessions create, instead of
        stalling a frame for ~80 ms on the long-lived widget tree. No collection first: with
        the collector off since start-up, even a young-generation one took 170 ms of a frame
        the resident may be touching; what start-up left as garbage stays, once, bounded."""
        gc.freeze()

    def _on_any_touch(self, *_: Any) -> bool:
        self.kiosk.machine.activity()
        return False

    def on_stop(self) -> None:
        if self._tick_event is not None:
            self._tick_event.cancel()
        self.stop_watchdog()
        self.kiosk.stop()

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
from kivy.uix.screenmanager import NoTransition, ScreenManager
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
from screens.rating import RatingScreen
from screens.simple import MaintenanceScreen, OutOfServiceScreen, ThanksScreen
from screens.theme import Theme

log = logging.getLogger(__name__)
KV_DIR = Path(__file__).parent
KV_FILES = ("common.kv", "dialogs.kv", "attract.kv", "home.kv", "identify.kv",
            "rating.kv", "simple.kv", "simulator.kv")
SCREENS = (("attract", AttractScreen), ("home", HomeScreen), ("identify", IdentifyScreen),
           ("rating", RatingScreen),
           ("thanks", ThanksScreen),
           ("out_of_service", OutOfServiceScreen), ("maintenance", MaintenanceScreen))


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
        from screens import kivy_fixes, lazylayout

        lazylayout.install()  # before any widget exists: hidden screens skip their layouts
        kivy_fixes.install()  # bindings Kivy adds per dialog and per scroll and never removes
        register_default_font(self.kiosk.config.ui.font)
        register_icon_font()
        for name in KV_FILES:
            Builder.load_file(str(KV_DIR / name))
        manager = ScreenManager(transition=NoTransition())
        self.controller = UiController(self.kiosk, manager, self)
        screens = list(SCREENS)
        offered = {flow.id for flow in self.kiosk.flows}
        for spec in discover():
            if spec.flow_id not in offered:
                continue
            Builder.load_file(str(KV_DIR / spec.kv_file))
            screens.append((spec.screen_name, spec.screen_class))
            screens.extend(spec.extra_screens)
            self.controller.flow_screens[spec.flow_id] = spec.screen_name
        for name, cls in screens:
            screen = cls(name=name, controller=self.controller)
            self.screens[name] = screen
            manager.add_widget(screen)
        config = self.kiosk.config
        self.screens["attract"].tips = list(config.ui.tips)
        self.screens["attract"].site = config.terminal.site
        self.screens["home"].flows = list(self.kiosk.flows)
        self.controller.build_dialogs()
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

    def _simulator_tab(self) -> Widget:
        from screens.simulator import SimulatorPanel, SimulatorTab

        panel = SimulatorPanel(simulation=self.kiosk.simulation)
        self.simulator_panel = panel
        tab = SimulatorTab(pos_hint={"x": 0, "y": 0})
        tab.bind(on_release=lambda *_: panel.open(animation=False))
        return tab

    def on_start(self) -> None:
        self.controller.warm_up(on_done=self._ready)

    def _ready(self) -> None:
        """Warmed up and on the attract screen: tell the supervisor (systemd Type=notify)."""
        from kiosk.cli.ready import notify_ready

        self._freeze_heap()
        self._is_ready = True
        notify_ready(self.notifier)
        self.kiosk.start_deferred()

    @staticmethod
    def _freeze_heap() -> None:
        """Move the start-up object graph (every screen's widgets) out of the garbage
        collector's view: a full collection then scans only what sessions create, instead of
        stalling a frame for ~80 ms on the long-lived widget tree."""
        gc.collect()
        gc.freeze()

    def _on_any_touch(self, *_: Any) -> bool:
        self.kiosk.machine.activity()
        return False

    def on_stop(self) -> None:
        if self._tick_event is not None:
            self._tick_event.cancel()
        self.stop_watchdog()
        self.kiosk.stop()

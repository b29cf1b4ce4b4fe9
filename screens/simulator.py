"""The device simulator panel of demo terminals: what the hardware would do, on a tap.

Shown only when the kiosk has a :class:`kiosk.devices.simulation.Simulation` and ``ui.simulator`` is
on. Each action runs the way real hardware events arrive (from another thread), through the
fakes or the wire-protocol emulators, so the app cannot tell the difference.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label

from kiosk.devices.simulation import ACTIONS
from screens.dialogs import _Dialog


class SimulatorPanel(_Dialog):
    simulation = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(auto_dismiss=True, **kwargs)

    def on_kv_post(self, base_widget: Any) -> None:
        from screens.widgets import KButton

        grid = self.ids.actions
        for test_id, label, method, args in ACTIONS:
            button = KButton(kind="secondary", test_id=test_id, wrap=True)
            button.size_hint_x = 1  # after the class rule, which makes buttons hug their text
            button.msgid = label
            button.bind(on_release=lambda _b, m=method, a=args: self.act(m, *a))
            grid.add_widget(button)
        self._relabel()

    def on_open(self) -> None:
        self._relabel()

    def _relabel(self) -> None:
        from kivy.app import App

        app = App.get_running_app()
        for button in self.ids.actions.children:
            button.text = app.tr(button.msgid, app.lang)

    def act(self, method: str, *args: Any) -> None:
        self.dismiss(animation=False)
        if self.simulation is not None:
            getattr(self.simulation, method)(*args)


class SimulatorTab(ButtonBehavior, Label):
    """The small "模拟" tab in the bottom-left corner that opens the panel (demo only)."""

    test_id = StringProperty("simulator")

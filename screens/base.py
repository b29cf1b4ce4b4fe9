"""Base class of every screen: a link to the controller and the personal-data hook."""

from __future__ import annotations

from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen


class KioskScreen(Screen):
    controller = ObjectProperty(None, allownone=True)

    def clear_personal(self) -> None:
        """Drop every personal value this screen shows or holds (session end, idle)."""

    def on_pre_enter(self, *_: object) -> None:
        from screens.widgets import refresh_lazy_text

        refresh_lazy_text(self)

    def prepare(self) -> None:
        """Called by the controller just before the screen is shown."""

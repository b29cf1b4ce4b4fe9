"""Attract screen: hall name, time, a carousel of tips, "touch to start"."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, StringProperty

from screens.base import KioskScreen


class AttractScreen(KioskScreen):
    tips = ListProperty()
    site = StringProperty("")
    hours = StringProperty("")
    closed = BooleanProperty(False)  # outside the opening hours: no session starts
    nearest = StringProperty("")  # where the nearest 24-hour self-service zone is

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._carousel_event = None
        self._hours_event = None

    def on_tips(self, *_: Any) -> None:
        from screens.widgets import KLabel

        carousel = self.ids.tips
        for slide in list(carousel.slides):
            carousel.remove_widget(slide)
        for tip in self.tips:
            carousel.add_widget(KLabel(text=tip, halign="center", valign="middle"))

    def on_enter(self, *_: Any) -> None:
        if self._carousel_event is None:
            self._carousel_event = Clock.schedule_interval(self._next_tip, 6.0)
        self.refresh_hours()
        if self._hours_event is None:
            self._hours_event = Clock.schedule_interval(lambda _dt: self.refresh_hours(), 30.0)

    def on_leave(self, *_: Any) -> None:
        if self._carousel_event is not None:
            self._carousel_event.cancel()
            self._carousel_event = None
        if self._hours_event is not None:
            self._hours_event.cancel()
            self._hours_event = None

    def refresh_hours(self, lang: str | None = None) -> None:
        """Open or closed, and the texts of the closed notice."""
        if self.controller is None:
            return
        from kiosk.hours import closed_notice

        self.closed = not self.controller.serving()
        notice = closed_notice(self.controller.kiosk.config.terminal,
                               lang or self.controller.app.lang)
        self.hours, self.nearest = notice["hours"], notice["nearest"]

    def _next_tip(self, _dt: float) -> None:
        carousel = self.ids.get("tips")
        if carousel is not None and len(carousel.slides) > 1:
            carousel.load_next()

    def on_touch_down(self, touch: Any) -> bool:
        if super().on_touch_down(touch):  # the header's buttons come first
            return True
        if self.collide_point(*touch.pos) and self.controller is not None:
            if self.closed:
                self.refresh_hours()  # hours may have begun since the last check
            self.controller.start_session()
            return True
        return False

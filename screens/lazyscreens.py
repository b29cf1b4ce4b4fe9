"""A screen manager whose screens are built when first needed (cold start, issue 17).

Building every screen and its ``.kv`` rules before the attract screen appeared took most of the
cold start. :class:`LazyScreenManager` takes a factory per screen name instead; a screen is
built the first time anything asks for it by name (``get_screen``, ``current = name``), and the
app builds the rest one per idle frame once the attract screen accepts touches
(:meth:`build_next`). Code and tests that look screens up by name therefore find every screen,
built or not; ``screens`` lists only those built so far (the session wipe has nothing to wipe in
a screen that never existed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kivy.properties import AliasProperty
from kivy.uix.screenmanager import Screen, ScreenManager

log = logging.getLogger(__name__)


class LazyScreenManager(ScreenManager):
    def __init__(self, **kwargs: Any) -> None:
        self._factories: dict[str, Callable[[], Screen]] = {}
        #: name → the UI thread's CPU seconds its build took (logged once all are built)
        self.build_times: dict[str, float] = {}
        super().__init__(**kwargs)

    def register(self, name: str, factory: Callable[[], Screen]) -> None:
        """``factory()`` builds the screen called ``name`` when it is first needed."""
        if super().has_screen(name) or name in self._factories:
            raise ValueError(f"a screen named {name!r} is already registered")
        self._factories[name] = factory
        self.property("screen_names").dispatch(self)

    @property
    def pending(self) -> list[str]:
        """Names registered but not built yet, in registration order."""
        return list(self._factories)

    def build(self, name: str) -> Screen:
        factory = self._factories.pop(name)
        started = time.thread_time()
        screen = factory()
        if screen.name != name:
            raise ValueError(f"the factory of {name!r} built a screen named {screen.name!r}")
        self.add_widget(screen)
        self.build_times[name] = time.thread_time() - started
        log.debug("screen %s built in %.0f ms", name, self.build_times[name] * 1000)
        return screen

    def build_next(self) -> str | None:
        """Build the next pending screen; returns its name, or None when all are built."""
        if not self._factories:
            return None
        name = next(iter(self._factories))
        self.build(name)
        return name

    def build_all(self) -> None:
        while self.build_next() is not None:
            pass

    # -- lookups by name find screens not built yet ----------------------------------------
    def get_screen(self, name: str) -> Screen:
        if name in self._factories:
            self.build(name)
        return super().get_screen(name)

    def has_screen(self, name: str) -> bool:
        return name in self._factories or super().has_screen(name)

    def _get_names(self) -> list[str]:
        return [screen.name for screen in self.screens] + list(self._factories)

    screen_names = AliasProperty(_get_names, bind=("screens",))

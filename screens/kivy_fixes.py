"""Two bindings Kivy 2.3 adds and never removes, found by the soak (issue 17).

A kiosk reuses its widgets for months, so a binding added per use piles up: each one is a
``BoundCallback`` plus a bound ``method`` in the property's observer list, and every later
dispatch of that property walks the whole list.

- ``ModalView.open`` binds ``center`` and ``size`` to ``_align_center`` and nothing unbinds
  them: a dialog opened a thousand times carries two thousand observers. They are unbound
  when the view leaves the window (``_real_remove_widget``).
- ``ScrollView.update_from_scroll`` binds ``bar_color`` on every scroll update, and the
  half-second trigger that swaps it for ``bar_inactive_color`` unbinds it once: a list that
  scrolls several times within half a second keeps the extra observers. The binding is made
  idempotent (unbound before it is bound again).

:func:`install` is called once by :class:`screens.app.KioskApp` before any widget exists.
"""

from __future__ import annotations

from typing import Any

from kivy.uix.modalview import ModalView
from kivy.uix.scrollview import ScrollView

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    remove = ModalView._real_remove_widget
    update = ScrollView.update_from_scroll

    def _real_remove_widget(self: Any) -> None:
        was_open = self._is_open
        remove(self)
        if was_open and not self._is_open:
            self.funbind("center", self._align_center)
            self.funbind("size", self._align_center)

    def update_from_scroll(self: Any, *largs: Any) -> None:
        self.funbind("bar_color", self._change_bar_color)
        update(self, *largs)

    ModalView._real_remove_widget = _real_remove_widget
    ScrollView.update_from_scroll = update_from_scroll
    _installed = True

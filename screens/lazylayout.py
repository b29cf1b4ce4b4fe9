"""Layouts that are not on the window do not lay out (the layout half of ``LazyText``).

Every screen is built once and kept; its ``.kv`` rules bind sizes, paddings and spacings to
``app.theme``. Switching elder mode (a resident's tap, and the reset at the end of such a
session) therefore changed the geometry of every layout of every screen at once, and Kivy laid
out all of them — about 440 box layouts — in that one frame, although only the current screen
is visible. With :func:`install` a layout whose widget tree is not on the window only notes
that it is stale; :func:`relayout_stale` (called by
:func:`screens.widgets.refresh_lazy_text` when a screen, dialog or page is about to appear)
lays them out again in the frame that shows them.

Kivy's recycle layouts (``RecycleBoxLayout``…) keep their own bookkeeping of layout triggers
and are left alone; but they size a recycled row while it is detached (so that its size does
not trigger a layout) and attach it afterwards, so the rows they attach are refreshed then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.recyclelayout import RecycleLayout
from kivy.uix.stacklayout import StackLayout
from kivy.uix.widget import Widget

#: the layout classes whose ``do_layout`` is made lazy (subclasses inherit it)
LAZY_CLASSES = (BoxLayout, GridLayout, AnchorLayout, StackLayout, FloatLayout)
_STALE = "_kiosk_layout_stale"
_installed = False


def _lazy(original: Callable[..., Any]) -> Callable[..., Any]:
    def do_layout(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.get_root_window() is None and not isinstance(self, RecycleLayout):
            setattr(self, _STALE, True)
            return None
        if getattr(self, _STALE, False):
            setattr(self, _STALE, False)
        return original(self, *args, **kwargs)

    do_layout.__wrapped__ = original  # type: ignore[attr-defined]
    do_layout.__doc__ = original.__doc__
    return do_layout


def install() -> None:
    """Make the layout classes lazy; call before any widget is built (a layout binds its
    ``do_layout`` trigger when it is created). Idempotent."""
    global _installed
    if _installed:
        return
    for cls in LAZY_CLASSES:
        cls.do_layout = _lazy(cls.__dict__["do_layout"])
    set_visible_views = RecycleLayout.set_visible_views

    def _set_visible_views(self: Any, indices: Any, data: Any, viewport: Any) -> None:
        set_visible_views(self, indices, data, viewport)
        if self.get_root_window() is not None:
            from screens.widgets import refresh_lazy_text

            for view in self.children:
                refresh_lazy_text(view)

    RecycleLayout.set_visible_views = _set_visible_views
    _installed = True


def is_stale(widget: Widget) -> bool:
    return bool(getattr(widget, _STALE, False))


def relayout_stale(root: Widget) -> int:
    """Lay out, in this frame, every layout under ``root`` that skipped a layout while
    hidden; returns how many were stale."""
    stale = 0
    for widget in root.walk(restrict=True):
        if getattr(widget, _STALE, False):
            stale += 1
            widget._trigger_layout()
    return stale

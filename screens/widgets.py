"""Shared widgets (styled in ``common.kv``): labels, buttons, tiles, the header bar."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.widget import Widget


class LazyText:
    """Label mix-in: a label that is not on the window does not render its text.

    Switching elder mode or language changes the text of every label of every screen at once;
    rendering the hidden screens' text too would stall that frame. Hidden labels only note
    that they are stale, and :func:`refresh_lazy_text` renders them when their screen or
    dialog is about to appear.
    """

    _text_stale = False

    def on_parent(self, _widget: object, parent: object) -> None:
        if parent is not None and self._text_stale:
            self._trigger_texture()  # type: ignore[attr-defined]

    def texture_update(self, *largs: object) -> None:
        if self.get_root_window() is None:  # type: ignore[attr-defined]
            self._text_stale = True
            return
        self._text_stale = False
        super().texture_update(*largs)  # type: ignore[misc]


def refresh_lazy_text(root: Widget) -> None:
    """Render the text of every stale label under ``root`` (it is about to be shown), and
    lay out the layouts that skipped a layout while hidden (:mod:`screens.lazylayout`)."""
    from screens.lazylayout import relayout_stale

    for widget in root.walk(restrict=True):
        if isinstance(widget, LazyText) and widget._text_stale:
            widget._text_stale = False
            Label.texture_update(widget)  # type: ignore[arg-type]
    relayout_stale(root)


class KLabel(LazyText, Label):
    """Body text in the theme's colour and size; wraps to its width, grows in height.

    Size and colour come from ``role`` and ``tone`` (never set ``font_size``/``color`` on an
    instance: two kv rules would fight over them when the theme changes).
    """

    role = StringProperty("body")  # small | body | title | huge
    tone = StringProperty("text")  # text | muted | primary | primary_text | danger | header_text
    test_id = StringProperty("")


class KInline(LazyText, Label):
    """A single-line label as wide as its text (header items)."""

    role = StringProperty("body")
    tone = StringProperty("header_text")


class KButton(LazyText, ButtonBehavior, Label):
    """A big, high-contrast button: never smaller than the theme's touch target."""

    kind = StringProperty("primary")  # primary | secondary | danger
    role = StringProperty("body")
    wrap = BooleanProperty(False)  # wrap long text inside the button's width
    selected = BooleanProperty(False)
    test_id = StringProperty("")


class Tile(ButtonBehavior, BoxLayout):
    """A home-screen service tile."""

    flow_id = StringProperty("")
    icon = StringProperty("")
    title = StringProperty("")
    subtitle = StringProperty("")
    #: too short for the full tile (portrait, elder mode): smaller icon and title, no subtitle
    compact = BooleanProperty(False)


class Header(BoxLayout):
    """Top bar on every screen: brand, elder mode, language, home/exit, time."""

    show_session_buttons = BooleanProperty(True)
    compact = BooleanProperty(False)  # narrow (portrait) window: smaller brand, no clock
    now_text = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._update_time()
        self._clock = Clock.schedule_interval(lambda _dt: self._update_time(), 1.0)

    def _update_time(self) -> None:
        import time

        self.now_text = time.strftime("%H:%M")


class FlowTitle(BoxLayout):
    """A flow screen's heading: its icon and title (``.kv``: ``FlowTitle: icon: 'progress'``)."""

    icon = StringProperty("")
    title = StringProperty("")
    big = BooleanProperty(False)


class CardAnimation(Widget):
    """A pulsing "place your card here" animation drawn in the canvas (no image files)."""

    phase = NumericProperty(0.0)
    controller = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._event = None

    def start(self) -> None:
        if self._event is None:
            self._event = Clock.schedule_interval(self._step, 1 / 20)

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None

    def _step(self, dt: float) -> None:
        self.phase = (self.phase + dt * 0.8) % 1.0


class Switcher(BoxLayout):
    """Shows exactly one of its kv children (``index``); the others are detached, not hidden.

    Hidden-but-attached widgets are a trap in Kivy: a disabled widget still swallows touches
    that land on it, and an invisible one still takes layout space.
    """

    index = NumericProperty(0)

    def __init__(self, **kwargs: object) -> None:
        self._pages: list[Widget] = []
        super().__init__(**kwargs)

    def add_widget(self, widget: Widget, *args: object, **kwargs: object) -> None:
        if widget not in self._pages:
            self._pages.append(widget)
        if self._pages.index(widget) == int(self.index):
            super().add_widget(widget, *args, **kwargs)

    def on_index(self, *_: object) -> None:
        super().clear_widgets()
        if 0 <= int(self.index) < len(self._pages):
            page = self._pages[int(self.index)]
            super().add_widget(page)
            refresh_lazy_text(page)

    @property
    def pages(self) -> list[Widget]:
        return list(self._pages)


class ProofChoice(ButtonBehavior, BoxLayout):
    """One printable proof on the 证明打印 screen."""

    proof_id = StringProperty("")
    title = StringProperty("")
    description = StringProperty("")
    screen = ObjectProperty(None, allownone=True)

    @property
    def test_id(self) -> str:
        return f"proof_{self.proof_id}"


class QrImage(Image):
    """A QR code drawn from ``data``: segno makes the PNG on a worker thread (it costs tens of
    milliseconds), the texture is made on the UI thread; nothing is written to disk."""

    data = StringProperty("")

    def on_data(self, *_: object) -> None:
        data = self.data
        self.texture = None
        if not data:
            return
        from kivy.app import App

        app = App.get_running_app()
        handoff = getattr(getattr(app, "kiosk", None), "handoff", None)
        if handoff is None:  # no app (tools): draw here
            self._show(data, qr_png(data))
            return
        handoff.run_in_worker(qr_png, data, on_done=lambda png: self._show(data, png))

    def _show(self, data: str, png: bytes) -> None:
        if data != self.data:  # a newer code was asked for meanwhile
            return
        import io

        from kivy.core.image import Image as CoreImage

        self.texture = CoreImage(io.BytesIO(png), ext="png").texture
        self.texture.mag_filter = "nearest"


def qr_png(data: str) -> bytes:
    """A QR code as PNG bytes, the one way every screen makes one (on a worker: encoding
    takes tens of milliseconds)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()

"""好差评: five levels, no default and no hint; a bad level needs a reason."""

from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty

from kiosk.ratings.levels import BAD_REASONS, LABELS, Level
from screens.base import KioskScreen
from screens.widgets import KButton


class ReasonChip(KButton):
    """A toggle for one 差评 reason (styled in rating.kv)."""

    reason = StringProperty("")
    screen = ObjectProperty(None, allownone=True)


class RatingScreen(KioskScreen):
    levels = ListProperty([(level.value, LABELS[level]) for level in Level])
    reasons_all = ListProperty(BAD_REASONS)
    selected = StringProperty("")
    reasons = ListProperty()
    needs_reason = BooleanProperty(False)
    can_submit = BooleanProperty(False)

    error = StringProperty("")
    supplementary = BooleanProperty(False)

    def on_kv_post(self, base_widget: object) -> None:
        if self.controller is not None:  # the reasons this terminal's config offers
            self.reasons_all = self.controller.kiosk.ratings.reasons
        box = self.ids.reasons
        for reason in self.reasons_all:
            box.add_widget(ReasonChip(reason=reason, screen=self))

    def prepare(self) -> None:
        self.selected = ""
        self.reasons = []
        self.error = ""
        session = self.controller.machine.session if self.controller else None
        self.supplementary = bool(session and session.first_rated_at)

    def select(self, level: str) -> None:
        self.selected = level
        if self.controller is not None:
            self.controller.machine.activity()

    def toggle_reason(self, reason: str) -> None:
        self.reasons = ([r for r in self.reasons if r != reason] if reason in self.reasons
                        else [*self.reasons, reason])

    def on_selected(self, *_: object) -> None:
        self._update()

    def on_reasons(self, *_: object) -> None:
        self._update()

    def _update(self) -> None:
        self.needs_reason = bool(self.selected) and Level(self.selected).is_bad
        self.can_submit = bool(self.selected) and (not self.needs_reason or bool(self.reasons))

    def submit(self) -> None:
        if self.can_submit and self.controller is not None:
            self.error = self.controller.submit_rating(self.selected, list(self.reasons))

    def clear_personal(self) -> None:
        self.selected = ""
        self.reasons = []

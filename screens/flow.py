"""A service flow. Until its issue lands, each flow is a placeholder page with "完成"."""

from __future__ import annotations

from kivy.properties import ObjectProperty, StringProperty

from screens.base import KioskScreen


class FlowScreen(KioskScreen):
    flow = ObjectProperty(None, allownone=True)
    description = StringProperty("")
    masked_name = StringProperty("")

    def on_flow(self, *_: object) -> None:
        self.description = self.flow.description if self.flow else ""

    def prepare(self) -> None:
        self.refresh_identity()

    def refresh_identity(self) -> None:
        identity = self.controller.machine.identity if self.controller else None
        self.masked_name = identity.masked_name if identity else ""

    def clear_personal(self) -> None:
        self.masked_name = ""

"""The identify step: "请将身份证放在感应区", then the masked identity and "继续"."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from screens.base import KioskScreen


class IdentifyScreen(KioskScreen):
    identified = BooleanProperty(False)
    flow_title = StringProperty("")
    masked_name = StringProperty("")
    masked_id = StringProperty("")
    expired = BooleanProperty(False)

    def prepare(self) -> None:
        self.refresh_identity()

    def on_enter(self, *_: Any) -> None:
        self.ids.spinner.start()

    def on_leave(self, *_: Any) -> None:
        self.ids.spinner.stop()

    def refresh_identity(self) -> None:
        identity = self.controller.machine.identity if self.controller else None
        self.identified = identity is not None
        self.masked_name = identity.masked_name if identity else ""
        self.masked_id = identity.masked_id if identity else ""
        self.expired = bool(identity and identity.expired)

    def clear_personal(self) -> None:
        self.identified = False
        self.masked_name = self.masked_id = ""
        self.expired = False

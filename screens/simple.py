"""Screens with little behaviour: thank-you, out of service, maintenance."""

from __future__ import annotations

from kivy.properties import ListProperty, StringProperty

from screens.base import KioskScreen


class ThanksScreen(KioskScreen):
    pass


class OutOfServiceScreen(KioskScreen):
    kinds = ListProperty()  # the required devices that are down, e.g. ["printer"]

    def prepare(self) -> None:
        if self.controller is not None:
            _, reason = self.controller.kiosk.out_of_service
            self.kinds = [kind for kind in reason.split(",") if kind]

    def reason_text(self, kinds: list[str], lang: str) -> str:
        from kivy.app import App

        from kiosk.devices.health import KIND_LABELS

        app = App.get_running_app()
        names = [app.tr(KIND_LABELS.get(kind, kind), lang) for kind in kinds]
        separator = "、" if lang == "zh_CN" else ", "
        if not names:
            return ""
        return app.tr("{devices}暂时无法使用", lang).format(devices=separator.join(names))


class MaintenanceScreen(KioskScreen):
    devices = ListProperty()
    info = StringProperty("")

    def prepare(self) -> None:
        if self.controller is None:
            return
        self.devices = self.controller.device_health()
        config = self.controller.kiosk.config
        self.info = (f"{config.terminal.id} · {config.terminal.site} · profile {config.profile}"
                     f" · config {config.config_hash()}")

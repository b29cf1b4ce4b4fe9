"""Screens with little behaviour: thank-you, out of service, maintenance."""

from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, StringProperty

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
    status = StringProperty("")  # fleet connection, outbox, catalogue
    log_text = StringProperty("")  # recent log lines, masked
    selftest_text = StringProperty("")
    exit_armed = BooleanProperty(False)  # "exit to the desktop" pressed once

    def prepare(self) -> None:
        if self.controller is None:
            return
        from kiosk.maintenance import recent_log_lines, status_lines

        self.devices = self.controller.device_health()
        kiosk = self.controller.kiosk
        config = kiosk.config
        self.info = (f"{config.terminal.id} · {config.terminal.site} · profile {config.profile}"
                     f" · config {config.config_hash()}")
        self.status = "\n".join(status_lines(kiosk))
        self.log_text = "\n".join(recent_log_lines(config))
        self.exit_armed = False

    def run_selftest(self) -> None:
        """The self-test off the UI thread; the table comes back through the handoff."""
        if self.controller is None:
            return
        from kiosk.maintenance import live_selftest

        self.selftest_text = "自检中…"
        marks = {"pass": "通过", "fail": "失败", "skip": "跳过"}

        def show(checks: list) -> None:
            failed = sum(1 for c in checks if c.outcome == "fail")
            lines = [f"[{marks[c.outcome]}] {c.name}: {c.detail}" for c in checks]
            lines.append("自检全部通过" if not failed else f"自检失败 {failed} 项")
            self.selftest_text = "\n".join(lines)

        self.controller.kiosk.handoff.run_in_worker(
            live_selftest, self.controller.kiosk, on_done=show,
            on_error=lambda exc: setattr(self, "selftest_text", f"自检未能完成：{exc}"))

    def paper_changed(self) -> None:
        """After a new roll: the printer is asked now (off the UI thread), then the rows."""
        if self.controller is None:
            return
        from kiosk.maintenance import paper_changed

        def done(text: str) -> None:
            self.selftest_text = text
            self.prepare()

        self.controller.kiosk.handoff.run_in_worker(
            paper_changed, self.controller.kiosk, on_done=done,
            on_error=lambda exc: setattr(self, "selftest_text", f"无法查询打印机：{exc}"))

    def restart_app(self) -> None:
        from screens.app import EXIT_RESTART

        app = self.controller.app
        app.exit_status = EXIT_RESTART
        app.stop()

    def exit_to_desktop(self) -> None:
        """Twice: the first press only arms the second (the terminal leaves service)."""
        if not self.exit_armed:
            self.exit_armed = True
            return
        from kiosk.maintenance import EXIT_TO_DESKTOP

        app = self.controller.app
        app.exit_status = EXIT_TO_DESKTOP
        app.stop()

"""Screens with little behaviour: thank-you, out of service, maintenance."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.modalview import ModalView
from kivy.uix.textinput import TextInput

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


_saved_keyboard_mode: list[str] = []


def _docked_keyboard(on: bool) -> None:
    """Kivy's on-screen keyboard docked at the bottom besides a hardware one; ``False`` puts
    the app's own keyboard mode back."""
    from kivy.config import Config
    from kivy.core.window import Window

    if on and not _saved_keyboard_mode:
        _saved_keyboard_mode.append(Config.get("kivy", "keyboard_mode"))
        Config.set("kivy", "keyboard_mode", "systemanddock")
    elif not on and _saved_keyboard_mode:
        Config.set("kivy", "keyboard_mode", _saved_keyboard_mode.pop())
    else:
        return
    Window.configure_keyboards()


class KTextInput(TextInput):
    """A one-line text field the UI tests find by ``test_id``."""

    test_id = StringProperty("")


class ReenrolDialog(ModalView):
    """Re-enrolment with the fleet: URL (prefilled), one-time token, the outcome."""

    screen = ObjectProperty(None, allownone=True)
    terminal = StringProperty("")
    message = StringProperty("")
    busy = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(auto_dismiss=False, **kwargs)

    def on_pre_open(self) -> None:
        from screens.widgets import refresh_lazy_text

        refresh_lazy_text(self)  # the language may have changed while it was closed


class MaintenanceScreen(KioskScreen):
    devices = ListProperty()
    info = StringProperty("")
    status = StringProperty("")  # fleet connection, outbox, catalogue
    log_text = StringProperty("")  # recent log lines, masked
    selftest_text = StringProperty("")
    exit_armed = BooleanProperty(False)  # "exit to the desktop" pressed once
    reenrol_dialog: ReenrolDialog | None = None
    _checks: list | None = None  # the last self-test, shown again in a new language
    _bound_lang = False

    def tr(self, msgid: str) -> str:
        app = self.controller.app
        return str(app.tr(msgid, app.lang))

    def audit(self, action: str, outcome: str, **extra: object) -> None:
        """Maintenance actions go to the audit log beside the PIN entries."""
        self.controller.pin_guard.audit("maintenance_action", outcome, action=action, **extra)

    def prepare(self) -> None:
        if self.controller is None:
            return
        from kiosk.maintenance import recent_log_lines, status_lines

        if not self._bound_lang:  # the header's language button works here too
            self._bound_lang = True
            self.controller.app.bind(lang=self._language_changed)
        self.devices = self.controller.device_health()
        kiosk = self.controller.kiosk
        config = kiosk.config
        self.info = self.tr("{terminal} · {site} · 配置方案 {profile} · 配置 {hash}").format(
            terminal=config.terminal.id, site=config.terminal.site, profile=config.profile,
            hash=config.config_hash())
        self.status = "\n".join(status_lines(kiosk, self.tr))
        self.log_text = "\n".join(recent_log_lines(config, tr=self.tr))
        self.exit_armed = False

    def _language_changed(self, *_: object) -> None:
        if self.manager is not None and self.manager.current == self.name:
            armed = self.exit_armed
            self.prepare()  # status lines and device rows are built in the language
            self.exit_armed = armed
            if self._checks is not None:
                self._show_checks(self._checks)

    def _show_checks(self, checks: list) -> None:
        marks = {"pass": self.tr("通过"), "fail": self.tr("失败"), "skip": self.tr("跳过")}
        failed = sum(1 for c in checks if c.outcome == "fail")
        lines = [f"[{marks[c.outcome]}] {c.name}: {c.detail}" for c in checks]
        lines.append(self.tr("自检全部通过") if not failed else
                     self.tr("自检失败 {count} 项").format(count=failed))
        self.selftest_text = "\n".join(lines)

    def run_selftest(self) -> None:
        """The self-test off the UI thread; the table comes back through the handoff."""
        if self.controller is None:
            return
        from kiosk.maintenance import live_selftest

        self._checks = None
        self.selftest_text = self.tr("自检中…")
        self.audit("selftest", "started")

        def show(checks: list) -> None:
            self._checks = checks
            self._show_checks(checks)
            failed = sum(1 for c in checks if c.outcome == "fail")
            self.audit("selftest", "failed" if failed else "passed", failed=failed)

        def error(exc: BaseException) -> None:
            self.selftest_text = self.tr("自检未能完成：{error}").format(error=exc)
            self.audit("selftest", "error", error=str(exc)[:200])

        self.controller.kiosk.handoff.run_in_worker(
            live_selftest, self.controller.kiosk, on_done=show, on_error=error)

    def print_test_page(self) -> None:
        self.audit("test_page", "sent")
        self.controller.print_test_page()

    def paper_changed(self) -> None:
        """After a new roll: the printer is asked now (off the UI thread), then the rows."""
        if self.controller is None:
            return
        from kiosk.maintenance import paper_changed

        def done(text: str) -> None:
            self._checks = None
            self.selftest_text = text
            self.prepare()

        from kiosk.i18n import translate

        lang = self.controller.app.lang  # read here: the worker must not touch UI state
        self.audit("paper_reset", "sent")
        self.controller.kiosk.handoff.run_in_worker(
            paper_changed, self.controller.kiosk, lambda msgid: translate(msgid, lang),
            on_done=done,
            on_error=lambda exc: setattr(self, "selftest_text", self.tr(
                "无法查询打印机：{error}").format(error=exc)))

    # -- re-enrolment ------------------------------------------------------------------------
    def open_reenrol(self) -> None:
        """The form, prefilled with the fleet URL of the last enrolment. While it is open a
        touched field also brings up Kivy's docked on-screen keyboard (a terminal has no
        keyboard of its own; a plugged-in one works too)."""
        from kiosk.maintenance import enrol_defaults

        _docked_keyboard(True)
        if self.reenrol_dialog is None:
            self.reenrol_dialog = ReenrolDialog(screen=self)
        dialog = self.reenrol_dialog
        defaults = enrol_defaults(self.controller.kiosk.config)
        dialog.terminal = defaults["terminal"]
        dialog.ids.fleet_url.text = defaults["fleet_url"]
        dialog.ids.token.text = ""
        dialog.message, dialog.busy = "", False
        dialog.open(animation=False)

    def reenrol(self, fleet_url: str, token: str) -> None:
        """Checked here, enrolled on a worker, the outcome shown and audited (no token)."""
        from kiosk.maintenance import ReenrolError, check_enrol_form, reenrol

        dialog = self.reenrol_dialog
        assert dialog is not None
        try:
            fleet_url, token = check_enrol_form(fleet_url, token)
        except ReenrolError as exc:
            dialog.message = self.tr(str(exc))
            return
        dialog.busy = True
        dialog.message = self.tr("正在注册…")
        self.audit("reenrol", "started", fleet=fleet_url)

        def done(result: dict) -> None:
            dialog.busy = False
            dialog.ids.token.text = ""
            dialog.message = self.tr("已重新注册 {terminal}（{region}），车队 {broker}；重启后生效"
                                     ).format(
                terminal=result["terminal"], region=result["region_code"],
                broker=result.get("mqtt_url") or "-")
            self.audit("reenrol", "ok", fleet=fleet_url, terminal=result["terminal"])

        def failed(exc: BaseException) -> None:
            dialog.busy = False
            dialog.message = self.tr("重新注册失败：{error}").format(error=self.tr(str(exc)))
            self.audit("reenrol", "failed", fleet=fleet_url, error=str(exc)[:200])

        self.controller.kiosk.handoff.run_in_worker(
            reenrol, self.controller.kiosk.config, fleet_url, token, on_done=done,
            on_error=failed)

    def close_reenrol(self, force: bool = False) -> None:
        dialog = self.reenrol_dialog
        if dialog is not None and dialog.parent is not None and (force or not dialog.busy):
            for field in (dialog.ids.fleet_url, dialog.ids.token):
                field.focus = False
            dialog.dismiss(animation=False)
            _docked_keyboard(False)

    def on_leave(self, *_: object) -> None:
        """Maintenance ended (also by a remote command): the form does not stay on top."""
        self.close_reenrol(force=True)

    def restart_app(self) -> None:
        from screens.app import EXIT_RESTART

        self.audit("restart", "requested")
        app = self.controller.app
        app.exit_status = EXIT_RESTART
        app.stop()

    def exit_to_desktop(self) -> None:
        """Twice: the first press only arms the second (the terminal leaves service)."""
        if not self.exit_armed:
            self.exit_armed = True
            return
        from kiosk.maintenance import EXIT_TO_DESKTOP

        self.audit("exit_to_desktop", "confirmed")
        app = self.controller.app
        app.exit_status = EXIT_TO_DESKTOP
        app.stop()

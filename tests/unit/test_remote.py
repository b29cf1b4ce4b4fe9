"""Remote commands on the terminal side (verification itself is tested with the reporter)."""

from __future__ import annotations

import logging
import threading

from kiosk.mainthread import MainThreadHandoff
from kiosk.session.machine import Phase, SessionMachine
from kiosk.telemetry.commands import Command
from kiosk.telemetry.remote import RemoteCommands


def command(name: str, **args) -> Command:
    return Command(id="c1", terminal="T", name=name, args=args, issued=0, expires=1, nonce="n")


class Ui:
    def __init__(self, machine: SessionMachine) -> None:
        self.machine = machine
        self.calls: list[str] = []

    def enter_maintenance(self) -> None:
        self.calls.append(threading.current_thread().name)
        self.machine.enter_maintenance()

    def exit_maintenance(self) -> None:
        self.machine.exit_maintenance()

    def print_test_page(self) -> None:
        raise RuntimeError("printer on fire")

    def screenshot(self) -> str:
        return "/data/screenshots/screen.png"

    def restart(self) -> None:
        self.calls.append("restart")


def run_on_telemetry_thread(remote: RemoteCommands, handoff: MainThreadHandoff, cmd: Command):
    result: list = []
    worker = threading.Thread(target=lambda: result.append(remote.handle(cmd)), name="telemetry")
    worker.start()
    while worker.is_alive():
        handoff.drain()  # this test thread plays the UI thread
        worker.join(0.01)
    handoff.drain()
    return result[0]


def setup() -> tuple[SessionMachine, MainThreadHandoff, RemoteCommands, Ui]:
    machine = SessionMachine()
    handoff = MainThreadHandoff()
    remote = RemoteCommands(machine, handoff, ui_timeout_s=2)
    ui = Ui(machine)
    remote.attach_ui(ui)
    return machine, handoff, remote, ui


def test_maintenance_runs_on_the_ui_thread() -> None:
    machine, handoff, remote, ui = setup()
    result = run_on_telemetry_thread(remote, handoff, command("maintenance", on=True))
    assert result.status == "ok" and machine.phase is Phase.MAINTENANCE
    assert ui.calls == [threading.current_thread().name]


def test_maintenance_does_not_throw_out_a_resident() -> None:
    machine, handoff, remote, _ = setup()
    machine.start()
    result = run_on_telemetry_thread(remote, handoff, command("maintenance", on=True))
    assert result.status == "failed" and "resident" in result.detail
    assert machine.phase is Phase.HOME


def test_screenshot_is_refused_during_a_session() -> None:
    machine, handoff, remote, _ = setup()
    machine.start()
    assert run_on_telemetry_thread(remote, handoff, command("screenshot")).status == "failed"
    machine.end_session()
    result = run_on_telemetry_thread(remote, handoff, command("screenshot"))
    assert result.status == "ok" and result.data["path"].endswith(".png")


def test_a_failing_action_is_reported_not_raised() -> None:
    _, handoff, remote, _ = setup()
    result = run_on_telemetry_thread(remote, handoff, command("print_test_page"))
    assert result.status == "failed" and "printer on fire" in result.detail


def test_log_level_and_unsupported() -> None:
    _, handoff, remote, ui = setup()
    before = logging.getLogger().level
    try:
        assert remote.handle(command("set_log_level", level="debug")).status == "ok"
        assert logging.getLogger().level == logging.DEBUG
        assert remote.handle(command("set_log_level", level="loud")).status == "failed"
    finally:
        logging.getLogger().setLevel(before)
    assert remote.handle(command("format_disk")) is None
    assert run_on_telemetry_thread(remote, handoff, command("restart")).status == "ok"
    assert ui.calls == ["restart"]


def test_a_ui_that_does_not_answer_times_out() -> None:
    machine = SessionMachine()
    remote = RemoteCommands(machine, MainThreadHandoff(), ui_timeout_s=0.2)
    remote.attach_ui(Ui(machine))
    result = remote.handle(command("maintenance", on=True))  # nobody drains the UI queue
    assert result.status == "failed" and "did not answer" in result.detail


def test_a_session_that_starts_before_the_ui_thread_runs_the_screenshot_refuses_it() -> None:
    """The check happens on the UI thread, right before the picture: a resident who touched
    the screen after the command arrived is never photographed."""
    machine, handoff, remote, ui = setup()
    taken: list[str] = []
    ui.screenshot = lambda: taken.append("shot") or "/data/screenshots/screen.png"
    result: list = []
    worker = threading.Thread(target=lambda: result.append(remote.handle(command("screenshot"))),
                              name="telemetry")
    worker.start()
    while handoff._pending.empty():  # the command is now waiting for the UI thread
        assert worker.is_alive()
        worker.join(0.005)
    machine.start()  # a resident touches the screen in between
    while worker.is_alive():
        handoff.drain()
        worker.join(0.01)
    assert result[0].status == "failed" and "session" in result[0].detail
    assert taken == []


def test_maintenance_on_is_checked_on_the_ui_thread_too() -> None:
    machine, handoff, remote, ui = setup()
    result: list = []
    worker = threading.Thread(target=lambda: result.append(remote.handle(
        command("maintenance", on=True))), name="telemetry")
    worker.start()
    while handoff._pending.empty():
        assert worker.is_alive()
        worker.join(0.005)
    machine.start()
    while worker.is_alive():
        handoff.drain()
        worker.join(0.01)
    assert result[0].status == "failed" and machine.phase is Phase.HOME and ui.calls == []


def test_screenshots_are_deleted_after_the_retention_period(tmp_path) -> None:
    import os

    from kiosk.telemetry.screenshots import ScreenshotStore

    now = [1_800_000_000.0]
    store = ScreenshotStore(tmp_path / "screenshots", retention_days=7, clock=lambda: now[0])
    old, recent = store.new_path(), None
    old.write_bytes(b"png")
    os.utime(old, (now[0] - 8 * 86400, now[0] - 8 * 86400))
    now[0] += 1
    recent = store.new_path()
    recent.write_bytes(b"png")
    os.utime(recent, (now[0] - 6 * 86400, now[0] - 6 * 86400))
    other = store.folder / "notes.txt"  # not a screenshot: never touched
    other.write_text("x")
    os.utime(other, (0, 0))
    assert store.prune() == [old]
    assert not old.exists() and recent.exists() and other.exists()

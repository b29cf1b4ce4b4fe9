"""One real kiosk app under a virtual display for all UI tests of a run.

Kivy allows one window per process, so the app is session-scoped; every test starts from the
attract screen with default mode and language (the ``fresh`` fixture puts it back there).
Long waits (idle, grace periods) are fast-forwarded through the kiosk's clock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from kiosk.cli.demo import FastForwardClock


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.ui)


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    from kiosk.cli.xvfb import virtual_display

    with virtual_display(1920, 1920) as name:
        yield name


@pytest.fixture(scope="session")
def clock() -> FastForwardClock:
    return FastForwardClock()


@pytest.fixture(scope="session")
def pilot(display: str, clock: FastForwardClock, tmp_path_factory: pytest.TempPathFactory):
    from screens.bootstrap import prepare_kivy

    prepare_kivy(1920, 1080, maxfps=0)
    from config.loader import load_config
    from kiosk.cli.demo import with_data_dir
    from kiosk.core import build_kiosk
    from screens.pilot import Pilot

    # its own data folder: outbox, PIN guard and audit log start empty in every run
    config = with_data_dir(load_config("demo", env={}), tmp_path_factory.mktemp("kiosk-data"))
    kiosk = build_kiosk(config, clock=clock)
    pilot = Pilot(kiosk).start()
    yield pilot
    pilot.stop()


@pytest.fixture
def ui(pilot, clock: FastForwardClock):
    """The shared pilot, back on the attract screen with defaults, for one test."""
    from kiosk.session.machine import Phase
    from screens.pilot import PilotError

    machine = pilot.kiosk.machine
    controller = pilot.app.controller
    for dialog in (controller.idle_prompt, controller.pin_pad, controller.print_dialog):
        if dialog is not None and dialog.parent is not None:
            dialog.dismiss(animation=False)
    if machine.phase is Phase.MAINTENANCE:
        machine.exit_maintenance()
    machine.end_session("test reset")
    pilot.resize(1920, 1080)
    pilot.app.theme.elder = False
    pilot.app.lang = "zh_CN"
    for kind in ("idcard", "smartcard"):
        device = pilot.kiosk.devices.get(kind)
        if device is not None and getattr(device, "card_present", False):
            (device.lift if kind == "idcard" else device.remove)()
    try:
        pilot.wait_screen("attract", timeout_s=10)
    except PilotError:
        pytest.fail(f"could not reset the UI, phase {machine.phase}")
    pilot.frame_times.clear()
    pilot.render_times.clear()
    return pilot


@pytest.fixture
def captured_logs() -> Iterator[list[str]]:
    """Every log line of every logger, fully formatted, as a handler in the field would see it
    before the privacy filter (so the test proves nothing personal was logged at all)."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lines
    root.removeHandler(handler)
    root.setLevel(old_level)

"""Composition root, device manager, health, identify step, handoff, privacy, logging."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from config.loader import load_config
from drivers.base import DeviceState
from drivers.idcard.samples import RESIDENT
from drivers.printer.interface import PaperLevel, PrinterStatus
from drivers.privacy import mask_id_number, mask_name, mask_phone, scrub
from drivers.registry import BackendError, load_backend
from kiosk.cli.logging_setup import PersonalDataFilter
from kiosk.core import build_kiosk
from kiosk.devices.health import HealthMonitor
from kiosk.mainthread import MainThreadHandoff
from kiosk.ratings.levels import Level
from kiosk.session.machine import Phase


def drain_until(handoff: MainThreadHandoff, predicate, timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        handoff.drain()
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached")


@pytest.fixture
def kiosk():
    kiosk = build_kiosk(load_config("demo", env={}))
    kiosk.start()
    yield kiosk
    kiosk.stop()


def test_demo_profile_builds_every_device_as_a_fake(kiosk) -> None:
    health = kiosk.devices.health()
    assert set(health) == {"idcard", "smartcard", "printer", "scanner", "camera", "ratingpad"}
    assert all(item.type == "fake" and item.state is DeviceState.READY for item in health.values())
    assert [flow.id for flow in kiosk.flows] == ["queue", "guide", "code", "proof", "progress",
                                                 "rating", "help"]


def test_disabled_devices_are_reported_not_built() -> None:
    config = load_config("village", env={})
    kiosk = build_kiosk(config)
    disabled = [k for k, h in kiosk.devices.health().items() if h.state is DeviceState.DISABLED]
    assert "camera" in disabled
    assert kiosk.devices.get("camera") is None


def test_card_read_on_a_driver_thread_identifies_only_while_armed(kiosk) -> None:
    reader = kiosk.devices.get("idcard")
    kiosk.machine.start()
    kiosk.machine.open_flow("code")
    threading.Thread(target=reader.present, args=(RESIDENT,)).start()
    time.sleep(0.1)
    kiosk.handoff.drain()
    assert kiosk.machine.identity is None  # nobody asked for an identity yet
    reader.lift()
    kiosk.identify.arm()
    threading.Thread(target=reader.present, args=(RESIDENT,)).start()
    drain_until(kiosk.handoff, lambda: kiosk.machine.identity is not None)
    assert kiosk.machine.identity.masked_id == mask_id_number(RESIDENT.id_number)
    # a SAM reader reports "removed" right after a read: the identity must survive it
    threading.Thread(target=reader.lift).start()
    time.sleep(0.1)
    kiosk.handoff.drain()
    assert kiosk.machine.identity is not None
    kiosk.machine.end_session("user")
    assert kiosk.machine.identity is None


def test_health_puts_the_terminal_out_of_service_after_the_grace_period() -> None:
    now = [0.0]
    kiosk = build_kiosk(load_config("demo", env={}), clock=lambda: now[0])
    kiosk.start()
    try:
        printer = kiosk.devices.get("printer")
        printer.set_status(PrinterStatus(online=True, paper=PaperLevel.OUT, cover_open=False,
                                         cutter_error=False, error=False))
        kiosk.tick()
        assert kiosk.machine.phase is Phase.ATTRACT
        now[0] += kiosk.config.health.grace_s + 0.1
        kiosk.tick()
        assert kiosk.machine.phase is Phase.OUT_OF_SERVICE
        assert kiosk.out_of_service == (True, "printer")
        printer.set_status(PrinterStatus(online=True, paper=PaperLevel.OK, cover_open=False,
                                         cutter_error=False, error=False))
        kiosk.tick()
        assert kiosk.machine.phase is Phase.ATTRACT
    finally:
        kiosk.stop()


def test_health_monitor_forgets_a_blip() -> None:
    from drivers.base import DeviceHealth

    now = [0.0]
    monitor = HealthMonitor(["printer"], grace_s=10, clock=lambda: now[0])
    down = {"printer": DeviceHealth("printer", "fake", DeviceState.UNAVAILABLE)}
    up = {"printer": DeviceHealth("printer", "fake", DeviceState.READY)}
    assert monitor.evaluate(down) == (False, "")
    now[0] = 9
    assert monitor.evaluate(up) == (False, "")
    now[0] = 15
    assert monitor.evaluate(down) == (False, "")  # the clock restarted at 15
    now[0] = 25
    assert monitor.evaluate(down) == (True, "printer")


def test_handoff_runs_posted_calls_on_the_draining_thread() -> None:
    handoff = MainThreadHandoff()
    seen: list[str] = []
    worker = threading.Thread(target=lambda: handoff.post(
        lambda: seen.append(threading.current_thread().name)))
    worker.start()
    worker.join()
    assert seen == []  # nothing runs on the worker
    assert handoff.drain() == 1
    assert seen == [threading.current_thread().name]
    handoff.close()


def test_run_in_worker_returns_results_and_errors_to_the_ui_thread() -> None:
    handoff = MainThreadHandoff()
    results: list = []
    handoff.run_in_worker(lambda: threading.current_thread().name,
                          on_done=lambda name: results.append(("done", name,
                                                               threading.current_thread().name)))
    handoff.run_in_worker(lambda: 1 / 0, on_error=lambda exc: results.append(("error", type(exc))))
    drain_until(handoff, lambda: len(results) == 2)
    done = next(r for r in results if r[0] == "done")
    assert done[1].startswith("kiosk-worker") and done[2] == threading.current_thread().name
    assert ("error", ZeroDivisionError) in results
    handoff.close()


def test_attached_scheduler_is_used_for_posts() -> None:
    handoff = MainThreadHandoff()
    scheduled: list = []
    handoff.attach(scheduled.append)
    handoff.post(lambda: None)
    assert len(scheduled) == 1
    scheduled[0]()
    assert handoff.drain() == 0
    handoff.close()


@pytest.mark.parametrize(("value", "masked"), [
    ("370102199003070032", "3701**********0032"),
    ("37010219900307003X", "3701**********003X"),
    ("123", "***"),
])
def test_mask_id_number(value: str, masked: str) -> None:
    assert mask_id_number(value) == masked


def test_mask_name_and_phone() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("") == ""
    assert mask_phone("13812345678") == "138****5678"


def test_scrub_masks_ids_and_phones_in_free_text() -> None:
    text = "reader sent 370102199003070032 and 13812345678 at 20260101"
    cleaned = scrub(text)
    assert "370102199003070032" not in cleaned and "13812345678" not in cleaned
    assert "3701**********0032" in cleaned and "138****5678" in cleaned
    assert "20260101" in cleaned  # a date is not an ID


def test_log_filter_masks_arguments_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.privacy")
    handler = logging.Handler()
    records: list[logging.LogRecord] = []
    handler.emit = records.append  # type: ignore[method-assign]
    handler.addFilter(PersonalDataFilter())
    logger.addHandler(handler)
    try:
        logger.warning("card %s read", "370102199003070032")
        try:
            raise ValueError("bad id 370102199003070032")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    rendered = [logging.Formatter().format(r) for r in records]
    assert all("370102199003070032" not in line for line in rendered)
    assert "3701**********0032" in rendered[0]
    assert "3701**********0032" in rendered[1]


def test_unknown_backend_names_the_choices() -> None:
    with pytest.raises(BackendError, match=r"choose one of: .*fake"):
        load_backend("printer", "laser")


def test_rating_levels_map_to_both_external_code_tables() -> None:
    assert Level.VERY_SATISFIED.gbt39046_code == 1 and Level.VERY_DISSATISFIED.gbt39046_code == 5
    assert Level.VERY_SATISFIED.provincial_code == 5
    assert Level.VERY_DISSATISFIED.provincial_code == 1
    assert [level.is_bad for level in Level] == [False, False, False, True, True]


def test_identify_prompt_offers_only_the_ways_that_work() -> None:
    from screens.identify import identify_prompt

    assert identify_prompt(True, True, True) == ("请将身份证放在感应区",
                                                 "也可以插入社保卡，或出示居民码")
    assert identify_prompt(False, True, False) == ("请插入社保卡", "身份证阅读器暂时无法使用")
    assert identify_prompt(False, False, True)[0] == "请出示居民码"
    assert identify_prompt(False, False, False)[0] == "暂时无法核验身份"


def test_a_social_security_card_taken_out_before_continue_ends_its_identity(kiosk) -> None:
    from drivers.smartcard.samples import SAMPLE_CARD

    reader = kiosk.devices.get("smartcard")
    kiosk.machine.start()
    kiosk.machine.open_flow("progress")
    kiosk.identify.arm()
    threading.Thread(target=reader.insert, args=(SAMPLE_CARD,)).start()
    drain_until(kiosk.handoff, lambda: kiosk.machine.identity is not None)
    assert kiosk.machine.identity.source == "sscard"
    threading.Thread(target=reader.remove).start()
    drain_until(kiosk.handoff, lambda: kiosk.machine.identity is None)
    # after "继续" (disarmed) the identity belongs to the flow until the session ends
    kiosk.identify.arm()
    threading.Thread(target=reader.insert, args=(SAMPLE_CARD,)).start()
    drain_until(kiosk.handoff, lambda: kiosk.machine.identity is not None)
    kiosk.identify.disarm()
    threading.Thread(target=reader.remove).start()
    time.sleep(0.1)
    kiosk.handoff.drain()
    assert kiosk.machine.identity is not None


def test_supplementary_window_follows_working_days(tmp_path) -> None:
    from datetime import datetime, timedelta

    from kiosk.ratings.service import FirstRatings

    kiosk = build_kiosk(load_config("demo", env={}))
    kiosk.ratings.first_ratings = FirstRatings(tmp_path / "first.db")
    tz = kiosk.reporter.builder.tz
    friday = datetime(2026, 11, 20, 10, 0, tzinfo=tz)
    assert kiosk.ratings.lookup("A001", friday).allowed  # never rated: a first evaluation
    kiosk.ratings.first_ratings.remember("A001", friday)
    lookup = kiosk.ratings.lookup("A001", friday + timedelta(days=7))  # next Friday: 5th day
    assert lookup.supplementary and lookup.allowed
    assert lookup.deadline.isoformat() == "2026-11-27"
    assert not kiosk.ratings.lookup("A001", friday + timedelta(days=10)).allowed
    assert kiosk.ratings.lookup("a001", friday).first_at == friday  # case-insensitive
    assert "A001" not in (tmp_path / "first.db").read_bytes().decode("latin-1")  # hashed
    kiosk.stop()

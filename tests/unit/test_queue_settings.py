"""QueueSettings, opening hours, the estimate, the models and the factory (no network)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import Field, ValidationError

from config.queue import load_settings_file
from config.schema import KioskConfig
from config.schema import OpeningHours as HoursLine
from kiosk.queue import (
    CapacityReached,
    EmbeddedQueueService,
    HttpQueueService,
    InvalidRequest,
    OfflineStore,
    Priority,
    QueueClosed,
    QueueService,
    QueueSettings,
    Ticket,
    TicketState,
    TooEarly,
    build_queue_service,
)
from kiosk.queue.appointments import parse_text
from kiosk.queue.errors import error_from_dict
from kiosk.queue.estimate import service_seconds, wait_minutes
from kiosk.queue.hours import OpeningHours, describe

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


# -- settings ------------------------------------------------------------------------------------
def test_defaults_are_valid_and_consistent() -> None:
    settings = QueueSettings()
    assert [c.code for c in settings.categories] == ["A", "B", "C", "D"]
    assert settings.synchronous == "full"
    for window in settings.windows:
        assert set(window.categories) <= set(settings.category_map)


@pytest.mark.parametrize(("data", "words"), [
    ({"categories": [{"code": "A"}, {"code": "A", "name": "x"}]}, "used twice"),
    ({"categories": [{"code": "AA"}]}, "categories.0.code"),
    ({"windows": [{"id": "1", "categories": ["Q"]}]}, "unknown category 'Q'"),
    ({"tide": [{"window": "9", "categories": ["A"]}]}, "names window '9'"),
    ({"tide": [{"window": "1", "start": "14:00", "end": "13:00"}]}, "not after it starts"),
    ({"offline_ranges": [{"terminal": "K-01", "first": 900, "last": 950},
                         {"terminal": "K-02", "first": 950, "last": 960}]}, "overlaps"),
    ({"offline_ranges": [{"terminal": "K-01", "first": 950, "last": 900}]}, "before first"),
    ({"categories": []}, "at least one"),
])
def test_bad_settings_say_what_is_wrong(data: dict, words: str) -> None:
    with pytest.raises(ValidationError) as err:
        QueueSettings.model_validate(data)
    assert words in str(err.value)


def test_settings_file_errors_name_the_file_and_key(tmp_path: Path) -> None:
    good = tmp_path / "queue.toml"
    good.write_text('[queue]\ncategories = [{code = "A", name = "综合", daily_capacity = 500}]\n'
                    'windows = [{id = "1", categories = ["A"]}]\n', encoding="utf-8")
    assert load_settings_file(good).category_map["A"].daily_capacity == 500
    bad = tmp_path / "bad.toml"
    bad.write_text('retries = 99\nsurprise = 1\ncategories = [{code = "AA"}]\n',
                   encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_settings_file(bad)
    text = str(err.value)
    assert str(bad) in text and "queue.retries" in text and "queue.surprise" in text
    assert "queue.categories.0.code" in text and "allowed: one capital letter A-Z" in text
    with pytest.raises(ValueError, match="cannot read"):
        load_settings_file(tmp_path / "missing.toml")


class Mounted(KioskConfig):
    """What the lead's mount into config/schema.py will look like."""

    queue: QueueSettings = Field(default_factory=QueueSettings, description="queue")


def test_mounted_settings_reach_the_factory(tmp_path: Path) -> None:
    config = Mounted.model_validate({
        "storage": {"data_dir": str(tmp_path)},
        "queue": {"categories": [{"code": "X", "name": "测试"}],
                  "windows": [{"id": "1", "categories": ["X"]}]}})
    service = build_queue_service(config)
    try:
        assert isinstance(service, EmbeddedQueueService)
        assert isinstance(service, QueueService)
        ticket = service.issue_ticket("X")
        assert ticket.number == "X001" and ticket.terminal == config.terminal.id
        assert (tmp_path / "queue.sqlite").exists()
    finally:
        service.close()


def test_factory_builds_the_http_client_and_checks_the_offline_range(tmp_path: Path) -> None:
    config = Mounted.model_validate({
        "terminal": {"id": "K-0001"}, "storage": {"data_dir": str(tmp_path)},
        "backends": {"queue": {"type": "http", "url": "http://127.0.0.1:9/api/v1",
                               "timeout_s": 1.5}}})
    service = build_queue_service(config)
    assert isinstance(service, HttpQueueService) and isinstance(service, QueueService)
    assert service.timeout_s == 1.5 and service.offline is None
    service.close()
    offline = config.model_copy(update={"queue": QueueSettings(offline_enabled=True)})
    with pytest.raises(ValueError, match=r"'K-0001' has no range in queue\.offline_ranges"):
        build_queue_service(offline)
    ranged = config.model_copy(update={"queue": QueueSettings(
        offline_enabled=True, offline_ranges=[{"terminal": "K-0001", "first": 901,
                                               "last": 920}])})
    service = build_queue_service(ranged)
    assert isinstance(service.offline, OfflineStore)
    service.close()
    assert (tmp_path / "queue-offline.sqlite").exists()


# -- hours ---------------------------------------------------------------------------------------
LINES = [HoursLine(days="mon-fri", open="09:00", close="12:00"),
         HoursLine(days="mon-fri", open="13:00", close="17:00"),
         HoursLine(days="sat", open="09:00", close="12:00")]


@pytest.mark.parametrize(("now", "is_open", "nxt"), [
    ("2024-05-06T08:59:00", False, "2024-05-06T09:00:00"),
    ("2024-05-06T09:00:00", True, "2024-05-06T13:00:00"),
    ("2024-05-06T12:00:00", False, "2024-05-06T13:00:00"),
    ("2024-05-10T17:00:00", False, "2024-05-11T09:00:00"),  # Friday evening → Saturday
    ("2024-05-11T12:30:00", False, "2024-05-13T09:00:00"),  # Saturday noon → Monday
])
def test_opening_hours(now: str, is_open: bool, nxt: str) -> None:
    hours = OpeningHours(LINES, SH)
    assert hours.is_open(at(now)) is is_open
    assert hours.next_open(at(now)) == at(nxt)


def test_hours_use_the_site_zone_and_around_the_clock() -> None:
    hours = OpeningHours(LINES, SH)
    utc = datetime(2024, 5, 6, 1, 30, tzinfo=ZoneInfo("UTC"))  # 09:30 in Jinan
    assert hours.is_open(utc)
    always = OpeningHours([], SH)
    assert always.is_open(at("2024-05-06T03:00:00")) and always.next_open(at(
        "2024-05-06T03:00:00")) is None
    assert always.next_open(at("2024-05-06T03:00:00"), after_today=True) == at(
        "2024-05-07T00:00:00")
    assert hours.next_open(at("2024-05-06T10:00:00"), after_today=True) == at(
        "2024-05-07T09:00:00")


def test_describe() -> None:
    now = at("2024-05-06T10:00:00")
    assert describe(at("2024-05-06T13:00:00"), now) == "今天 13:00"
    assert describe(at("2024-05-07T09:00:00"), now) == "明天 09:00"
    assert describe(at("2024-05-13T09:05:00"), now) == "5月13日 09:05"
    assert describe(None, now) == ""


# -- estimate ------------------------------------------------------------------------------------
def test_service_seconds_and_wait() -> None:
    assert service_seconds([], 600) == 600
    assert service_seconds([5, 20000], 600) == 600  # mis-clicks and forgotten tickets ignored
    assert service_seconds([120] * 5, 600) == 120
    assert service_seconds([120, 120, 900, 120, 120, 900, 900], 600) == 120
    assert service_seconds([300], 600) == pytest.approx(0.2 * 300 + 0.8 * 600)
    assert wait_minutes(0, 600, 1) == 0
    assert wait_minutes(3, 600, 1.5) == 20
    assert wait_minutes(1, 61, 1) == 2
    assert wait_minutes(4, 600, 0) is None


# -- models and errors ---------------------------------------------------------------------------
def test_ticket_json_round_trip_keeps_names_masked() -> None:
    ticket = Ticket(id="t1", number="A005", category="A", category_name="综合业务",
                    priority=Priority.GREEN, state=TicketState.WAITING, day="2024-05-06",
                    issued_at=at("2024-05-06T10:00:00"), people_ahead=3, estimated_wait_min=30,
                    windows=("1号窗口",), area="A区", holder="张三")
    data = json.loads(json.dumps(ticket.to_dict()))
    assert data["holder"] == "张*" and data["priority"] == "green"
    back = Ticket.from_dict(data)
    assert back.number == "A005" and back.issued_at == ticket.issued_at
    assert back.priority is Priority.GREEN and back.windows == ("1号窗口",)


def test_errors_survive_a_round_trip() -> None:
    closed = QueueClosed("现在不在取号时间", next_open=at("2024-05-07T09:00:00").isoformat())
    back = error_from_dict(json.loads(json.dumps(closed.to_dict())))
    assert isinstance(back, QueueClosed) and back.next_open == at("2024-05-07T09:00:00")
    early = error_from_dict(TooEarly("早", checkin_from=at("2024-05-06T10:10:00").isoformat(),
                                     category="B", offer_ticket=True).to_dict())
    assert isinstance(early, TooEarly) and early.category == "B" and early.offer_ticket
    assert type(error_from_dict({"code": "what", "message": "?"})).__name__ == "QueueError"
    assert isinstance(error_from_dict(CapacityReached("满").to_dict()), CapacityReached)


def test_appointment_files(tmp_path: Path) -> None:
    csv_text = ("ref,category,start,id_number,name,code\n"
                "R1,A,2024-05-06T10:00:00+08:00,370102199001011234,张三,QR1\n"
                "R2,B,2024-05-06 11:00,,,\n")
    items = parse_text(csv_text, "bookings.csv")
    assert [i.ref for i in items] == ["R1", "R2"] and items[1].start.tzinfo is None
    assert "3701**********1234" in repr(items[0]) and "张三" not in repr(items[0])
    as_json = parse_text(json.dumps({"appointments": [{"ref": "R3", "category": "A",
                                                       "start": "2024-05-06T10:00:00"}]}))
    assert as_json[0].ref == "R3"
    with pytest.raises(ValueError, match="header lacks start"):
        parse_text("ref,category\nR1,A\n", "x.csv")
    with pytest.raises(ValueError, match="appointment 1: bad start time"):
        parse_text("ref,category,start\nR1,A,tomorrow\n", "x.csv")
    with pytest.raises(ValueError, match="needs 'category'"):
        parse_text('[{"ref": "R1", "start": "2024-05-06T10:00"}]')


def test_no_id_numbers_over_plain_http_to_another_host() -> None:
    client = HttpQueueService("http://192.0.2.10:8480", timeout_s=0.2, retries=0)
    with pytest.raises(InvalidRequest, match="https"):
        client.check_in(id_number="370102199001011234")
    client.close()
    with pytest.raises(ValueError, match="http://host:port"):
        HttpQueueService("ftp://x")


def test_config_imports_nothing_from_kiosk() -> None:
    """config owns every section schema; kiosk imports config, never the other way round."""
    import subprocess
    import sys

    code = ("import sys, pkgutil, importlib, config; "
            "[importlib.import_module('config.' + m.name) for m in "
            "pkgutil.iter_modules(config.__path__) if m.name != '__main__']; "
            "assert not [m for m in sys.modules if m == 'kiosk' or m.startswith('kiosk.')], "
            "sorted(m for m in sys.modules if m.startswith('kiosk'))")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_queue_settings_share_the_config_building_blocks() -> None:
    from config import checks, schema
    from config import queue as qs

    assert qs.parse_days is checks.parse_days and qs.parse_hhmm is checks.parse_hhmm
    assert qs.config_problem is schema.config_problem and qs.Section is schema.Section


def test_mounted_section_renders_in_the_config_docs() -> None:
    from config.docs import _section

    text = "\n".join(_section("queue", Mounted.model_fields["queue"]))
    for words in ("## [queue]", "### [[queue.categories]]", "### [[queue.tide]]",
                  "### [[queue.offline_ranges]]", "A 综合业务, B 社保医保"):
        assert words in text
    assert "code='A'" not in text  # defaults are described, not dumped as reprs


def test_ticket_slip_prints_what_the_screen_shows(tmp_path: Path) -> None:
    from kiosk.printing import queue_ticket
    from kiosk.queue import QueueEngine, ticket_slip

    with QueueEngine(tmp_path / "q.sqlite", QueueSettings(synchronous="normal")) as engine:
        engine.issue_ticket("A")
        ticket = engine.issue_ticket("A", holder_name="张三")
    slip = ticket_slip(ticket, "济南市历下区政务服务中心", "https://q.example/t/1")
    assert (slip.number, slip.service, slip.people_ahead) == ("A002", "综合业务（A区）", 1)
    assert slip.estimated_wait_min == ticket.estimated_wait_min and slip.holder_name == "张*"
    text = " ".join(getattr(block, "text", "") for block in queue_ticket(slip).blocks)
    assert "A002" in text and "前方等待：1 人" in text and "张*" in text and "张三" not in text

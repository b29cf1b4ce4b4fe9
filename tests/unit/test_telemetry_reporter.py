"""The reporter without a broker: outbox writes, alarm, full outbox, the recorder adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config.schema import KioskConfig
from kiosk.outbox import OutboxFull
from kiosk.ratings.levels import Level
from kiosk.ratings.levels import RatingRecord as BasicRecord
from kiosk.ratings.records import RatingError
from kiosk.telemetry.reporter import Reporter, ReporterRatingRecorder
from kiosk.telemetry.settings import FleetSettings

CONFIG = KioskConfig.model_validate({"terminal": {"id": "JN-U1", "region_code": "370102"}})


@pytest.fixture
def reporter(tmp_path: Path):
    rep = Reporter(CONFIG, dict, tmp_path / "outbox.db",
                   fleet=FleetSettings(outbox_max_records=100, outbox_alarm_fraction=0.5))
    rep.start()  # mqtt.enabled is false: nothing connects, records wait
    yield rep
    rep.stop()


def test_records_wait_in_the_outbox_with_their_topics(reporter: Reporter) -> None:
    rec = reporter.rate(item_code="X", level="basic", handling_number="H1")
    assert reporter.record_call_staff(screen="home")
    assert reporter.record_session("queue", "completed", 12.0)
    stored = reporter.outbox.peek(10)
    assert [r.topic for r in stored] == ["kiosk/v1/370102/JN-U1/rating",
                                         "kiosk/v1/370102/JN-U1/event",
                                         "kiosk/v1/370102/JN-U1/event"]
    assert stored[0].id == rec.id and json.loads(stored[0].payload)["id"] == rec.id
    assert reporter.status()["outbox"]["depth"] == 3 and not reporter.connected


def test_repeated_errors_are_reported_once_a_minute(reporter: Reporter) -> None:
    assert reporter.record_error("printer", "jam")
    assert not reporter.record_error("printer", "jam")
    assert reporter.record_error("printer", "cover open")
    assert reporter.collector.last_error["message"] == "cover open"


def test_alarm_before_full_then_ratings_push_out_events_then_refused(reporter: Reporter
                                                                     ) -> None:
    for i in range(49):
        reporter.record_event("session", {"flow": "q", "outcome": "completed", "duration_s": i})
    assert not reporter.outbox.alarm
    reporter.record_event("session", {"flow": "q", "outcome": "completed", "duration_s": 1})
    assert reporter.outbox.alarm  # 50 of 100: the alarm, plus an alarm event queued
    alarms = [json.loads(r.payload) for r in reporter.outbox.peek(200)
              if b'"alarm"' in r.payload]
    assert alarms and alarms[0]["values"]["data"]["alarm"] == "outbox_filling"
    while reporter.outbox.depth < 100:
        reporter.record_event("call_staff", {})
    assert not reporter.record_event("call_staff", {})  # events give way, no exception
    for i in range(100):
        reporter.rate(item_code=f"X{i}", level="satisfied")
    assert reporter.outbox.stats().ratings == 100
    with pytest.raises(OutboxFull):
        reporter.rate(item_code="X", level="satisfied")


def test_recorder_adapter_for_the_session(reporter: Reporter) -> None:
    recorder = ReporterRatingRecorder(reporter)
    full = recorder.record(BasicRecord(item="proof", level=Level.VERY_DISSATISFIED,
                                       reasons=("操作复杂",)), handling_number="H7")
    assert reporter.outbox.peek(1)[0].id == full.id and full.handling_number == "H7"
    with pytest.raises(RatingError, match="reason"):
        recorder.record(BasicRecord(item="proof", level=Level.DISSATISFIED))
    timed_out = recorder.record(BasicRecord(item="proof", level=None))
    assert timed_out.values()["level"] == "not_rated"


@pytest.mark.parametrize(("reason", "outcome"), [
    ("completed", "completed"), ("idle", "timeout"), ("user", "abandoned"),
    ("maintenance", "abandoned"), ("out_of_service", "abandoned"), ("shutdown", "abandoned")])
def test_a_session_end_reason_is_reported_as_an_outcome_the_schema_allows(
        reporter: Reporter, reason: str, outcome: str) -> None:
    from kiosk.telemetry.payloads import SESSION_OUTCOMES, session_outcome

    assert session_outcome(reason) == outcome and outcome in SESSION_OUTCOMES
    assert reporter.record_session("code", session_outcome(reason), 3.0, reason=reason)
    data = json.loads(reporter.outbox.peek(1)[0].payload)["values"]["data"]
    assert data == {"flow": "code", "outcome": outcome, "duration_s": 3.0, "reason": reason}


def test_an_outcome_outside_the_schema_is_refused(reporter: Reporter) -> None:
    with pytest.raises(ValueError, match="session_outcome"):
        reporter.record_session("code", "idle", 3.0)
    assert reporter.outbox.peek(1) == []

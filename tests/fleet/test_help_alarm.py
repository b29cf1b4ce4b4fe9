"""帮办 calls through the fleet (#15): a help event nobody answers raises ``help_unanswered``
after the call's own time limit, an answer clears it; through the real ingest core and the
alarm timer, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from fleet.models import Alarm
from fleet.services import alarms
from fleet.testing import birth, topic
from kiosk.telemetry import payloads

T, R = "JN-LX-0001", "370102"
S = 1000


def help_event(state: str, ts: int, help_id: str = "5b1e0c", limit_s: int = 120) -> dict:
    event = payloads.event(T, "help", {"help_id": help_id, "state": state,
                                       "place": "A区入口 2号机", "reason": "",
                                       "unanswered_alarm_s": limit_s},
                           ts=ts, record_id=f"help-{help_id}-{state}")
    return event


def _alarms(db) -> list[tuple[str, str, str]]:
    with db.session() as s:
        return [(a.type, a.key, a.state) for a in s.scalars(
            select(Alarm).where(Alarm.type == "help_unanswered").order_by(Alarm.id))]


def _tick(db, settings, now) -> list[str]:
    with db.session() as s:
        return [c.what for c in alarms.evaluate_all(s, now, settings.alarms)
                if c.alarm["type"] == "help_unanswered"]


def test_an_unanswered_call_raises_an_alarm_and_an_answer_clears_it(feed, fleet_db, settings):
    t0 = feed.now
    feed(topic(R, T, "birth"), birth(T, R, t0), received=t0)
    feed(topic(R, T, "event"), help_event("requested", t0), received=t0)
    assert _tick(fleet_db, settings, t0 + 119 * S) == []  # within the call's 120 s
    assert _alarms(fleet_db) == []
    assert _tick(fleet_db, settings, t0 + 121 * S) == ["raised"]
    assert _alarms(fleet_db) == [("help_unanswered", "5b1e0c", "active")]
    assert _tick(fleet_db, settings, t0 + 200 * S) == []  # one alarm, not one per tick
    feed(topic(R, T, "event"), help_event("acknowledged", t0 + 210 * S), received=t0 + 210 * S)
    assert _tick(fleet_db, settings, t0 + 211 * S) == ["cleared"]
    assert _alarms(fleet_db) == [("help_unanswered", "5b1e0c", "cleared")]


def test_an_answered_call_never_alarms_and_the_limit_is_the_calls_own(feed, fleet_db,
                                                                      settings):
    t0 = feed.now
    feed(topic(R, T, "birth"), birth(T, R, t0), received=t0)
    feed(topic(R, T, "event"), help_event("requested", t0, "a1"), received=t0)
    feed(topic(R, T, "event"), help_event("done", t0 + 30 * S, "a1"), received=t0 + 30 * S)
    feed(topic(R, T, "event"), help_event("requested", t0, "b2", limit_s=30), received=t0)
    assert _tick(fleet_db, settings, t0 + 31 * S) == ["raised"]  # b2 after its 30 s
    assert _alarms(fleet_db) == [("help_unanswered", "b2", "active")]

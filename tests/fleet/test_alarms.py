"""Alarm rules and lifecycle through the real ingest core and the timer rules, with the
clock passed in (no waiting): SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from fleet.auth import Principal
from fleet.models import Alarm, Terminal
from fleet.services import alarms
from fleet.testing import birth, health, presence, topic

T, R = "JN-LX-0001", "370102"
S = 1000  # ms per second
OPERATOR = Principal("op", "operator")


def _open(db, type_):
    with db.session() as s:
        return [(a.type, a.state, a.count) for a in s.scalars(
            select(Alarm).where(Alarm.type == type_).order_by(Alarm.id))]


def _tick(db, settings, now):
    with db.session() as s:
        return alarms.evaluate_all(s, now, settings.alarms)


def _online(feed, t):
    feed(topic(R, T, "state"), presence(T, True, t), received=t)
    feed(topic(R, T, "health"), health(T, t), received=t)


def test_offline_after_the_grace_and_cleared_when_back(feed, fleet_db, settings):
    t0 = feed.now
    feed(topic(R, T, "birth"), birth(T, R, t0), received=t0)
    _online(feed, t0)
    feed(topic(R, T, "state"), presence(T, False, t0 + 10 * S), received=t0 + 10 * S)
    _tick(fleet_db, settings, t0 + 100 * S)  # 90 s < 120 s grace
    assert _open(fleet_db, "offline") == []
    changes = _tick(fleet_db, settings, t0 + 131 * S)
    assert _open(fleet_db, "offline") == [("offline", "active", 1)]
    assert [c.what for c in changes] == ["raised"]
    _online(feed, t0 + 200 * S)
    assert _open(fleet_db, "offline") == [("offline", "cleared", 1)]


def test_a_30_second_reconnect_pages_nobody(feed, fleet_db, settings):
    t0 = feed.now
    _online(feed, t0)
    feed(topic(R, T, "state"), presence(T, False, t0 + 5 * S), received=t0 + 5 * S)
    _tick(fleet_db, settings, t0 + 20 * S)
    _online(feed, t0 + 35 * S)
    for t in (40, 130, 300, 1000):
        feed(topic(R, T, "health"), health(T, t0 + t * S), received=t0 + t * S)
        _tick(fleet_db, settings, t0 + t * S)
    assert _open(fleet_db, "offline") == [] and _open(fleet_db, "flapping") == []


def test_flapping_is_collapsed_into_one_alarm(feed, fleet_db, settings):
    t0 = feed.now
    _online(feed, t0)
    for i in range(8):  # a drop every minute, back after 20 s
        down = t0 + (60 * i + 10) * S
        feed(topic(R, T, "state"), presence(T, False, down), received=down)
        _tick(fleet_db, settings, down + 10 * S)
        _online(feed, down + 20 * S)
    assert _open(fleet_db, "flapping") == [("flapping", "active", 4)]
    assert _open(fleet_db, "offline") == []
    # a longer drop while flapping does not add an offline alarm on top
    down = t0 + 600 * S
    feed(topic(R, T, "state"), presence(T, False, down), received=down)
    _tick(fleet_db, settings, down + 300 * S)
    assert _open(fleet_db, "offline") == []
    assert len(_open(fleet_db, "flapping")) == 1


def test_stale_health_counts_as_offline_without_a_will(feed, fleet_db, settings):
    t0 = feed.now
    _online(feed, t0)
    _tick(fleet_db, settings, t0 + 170 * S)  # < 3 intervals of 60 s
    assert _open(fleet_db, "offline") == []
    _tick(fleet_db, settings, t0 + 181 * S)  # stale and past the grace
    assert _open(fleet_db, "offline")[0][:2] == ("offline", "active")
    with fleet_db.session() as s:
        assert s.scalars(select(Alarm)).one().message.startswith("stale")
        assert s.get(Terminal, T).online is True  # the broker never said otherwise


def test_paper_out_raised_and_cleared_and_ack_stays_until_clear(feed, fleet_db):
    t0 = feed.now
    _online(feed, t0)
    feed(topic(R, T, "health"), health(T, t0 + 60 * S, paper="out"))
    [(type_, state, _)] = _open(fleet_db, "paper_out")
    assert (type_, state) == ("paper_out", "active")
    with fleet_db.session() as s:
        alarm_id = s.scalars(select(Alarm.id).where(Alarm.type == "paper_out")).one()
        alarms.acknowledge(s, OPERATOR, alarm_id, t0 + 61 * S)
    # the condition persists: new health does not reset the acknowledgement
    feed(topic(R, T, "health"), health(T, t0 + 120 * S, paper="out"))
    assert _open(fleet_db, "paper_out") == [("paper_out", "acknowledged", 1)]
    feed(topic(R, T, "health"), health(T, t0 + 180 * S, paper="ok"))
    assert _open(fleet_db, "paper_out") == [("paper_out", "cleared", 1)]
    with fleet_db.session() as s:
        a = s.get(Alarm, alarm_id)
        assert (a.acked_by, a.cleared_by) == ("op", "system")
    # it comes back: a new alarm
    feed(topic(R, T, "health"), health(T, t0 + 240 * S, paper="out"))
    assert [x[1] for x in _open(fleet_db, "paper_out")] == ["cleared", "active"]


def test_health_rules_device_outbox_disk_and_paper_low(feed, fleet_db):
    t0 = feed.now
    _online(feed, t0)
    feed(topic(R, T, "health"), health(T, t0 + 1, idcard="unavailable", paper="near_end",
                                       depth=5000, free_gb=0.2, used_percent=99.0))
    for type_ in ("device_unavailable", "paper_low", "outbox_backlog", "disk_low"):
        assert _open(fleet_db, type_) == [(type_, "active", 1)], type_
    feed(topic(R, T, "health"), health(T, t0 + 2))
    for type_ in ("device_unavailable", "paper_low", "outbox_backlog", "disk_low"):
        assert _open(fleet_db, type_) == [(type_, "cleared", 1)], type_


def test_clock_skew_from_live_health(feed, fleet_db):
    t0 = feed.now
    feed(topic(R, T, "health"), health(T, t0 - 600 * S), received=t0)
    assert _open(fleet_db, "clock_skew") == [("clock_skew", "active", 1)]


def test_repeated_bad_ratings_at_one_terminal(feed, fleet_db):
    from fleet.testing import rating

    t0 = feed.now
    for i in range(3):
        feed(topic(R, T, "rating"), rating(T, R, "dissatisfied", t0 + i * S))
    assert _open(fleet_db, "bad_ratings") == [("bad_ratings", "active", 1)]


def test_acknowledging_needs_an_operator(feed, fleet_db):
    import pytest

    from fleet.auth import Forbidden

    t0 = feed.now
    feed(topic(R, T, "health"), health(T, t0, paper="out"))
    with fleet_db.session() as s:
        alarm_id = s.scalars(select(Alarm.id)).first()
        with pytest.raises(Forbidden):
            alarms.acknowledge(s, Principal("v", "viewer"), alarm_id, t0)

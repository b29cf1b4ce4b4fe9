"""The ingest core against real SQLite and real PostgreSQL: dedupe, quarantine, registry."""

from __future__ import annotations

from sqlalchemy import func, select

from fleet import ingest
from fleet.models import Alarm, Case, Event, Quarantine, Rating, Terminal
from fleet.testing import birth, health, presence, rating, session_event, topic

T, R = "JN-LX-0001", "370102"


def test_ratings_and_events_are_stored_once_however_often_they_arrive(feed, fleet_db):
    r = rating(T, R, "satisfied")
    e = session_event(T)
    first = feed.many([(topic(R, T, "rating"), r), (topic(R, T, "event"), e),
                       (topic(R, T, "rating"), r)])
    again = feed.many([(topic(R, T, "rating"), r), (topic(R, T, "event"), e)])
    assert (first.stored, first.duplicates) == (2, 1)
    assert (again.stored, again.duplicates) == (0, 2)
    with fleet_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Rating)) == 1
        assert s.scalar(select(func.count()).select_from(Event)) == 1
        stats = ingest.stats(s)
    assert stats["received"] == 5 and stats["stored"] == 2 and stats["duplicates"] == 3


def test_every_kind_of_invalid_payload_is_quarantined_counted_and_alarmed(feed, fleet_db,
                                                                           settings):
    good = rating(T, R)
    oversized = b'{"x": "' + b"a" * (settings.max_payload_bytes + 10) + b'"}'
    wrong_schema = rating(T, R)
    wrong_schema["values"]["level"] = "great"
    other = rating("JN-LX-0002", R)
    nul = rating(T, R)
    nul["values"]["text"] = "办\u0000好了"  # valid JSON, but no database text holds NUL
    cases = [
        (topic(R, T, "rating"), b"{not json", "bad_json"),
        (topic(R, T, "health"), oversized, "oversized"),
        (topic(R, T, "rating"), wrong_schema, "schema"),
        (topic(R, T, "rating"), other, "wrong_terminal"),
        (topic(R, T, "event"), good, "wrong_kind"),
        ("kiosk/v1/" + R + "/" + T + "/nonsense", good, "bad_topic"),
        (topic(R, T, "rating"), b"[1, 2]", "bad_json"),
        (topic(R, T, "rating"), nul, "bad_json"),
    ]
    for t, payload, _reason in cases:
        result = feed(t, payload)
        assert result.invalid == 1 and result.stored == 0
    ok = feed(topic(R, T, "rating"), good)  # and it goes on
    assert ok.stored == 1
    with fleet_db.session() as s:
        reasons = [q.reason for q in s.scalars(select(Quarantine).order_by(Quarantine.id))]
        stats = ingest.stats(s)
        alarms = list(s.scalars(select(Alarm).where(Alarm.type == "invalid_data")))
    assert reasons == [c[2] for c in cases]
    assert stats["invalid"] == len(cases)
    assert stats["quarantine_by_reason"]["bad_json"] == 3
    assert len(alarms) == 1 and alarms[0].terminal == T and alarms[0].state == "active"
    assert alarms[0].count == len(cases) - 1  # the bad topic names no terminal


def test_quarantined_text_is_masked(feed, fleet_db):
    feed(topic(R, T, "event"), b'{"broken": "370102199001011234 13812345678"')
    with fleet_db.session() as s:
        row = s.scalars(select(Quarantine)).one()
    assert "370102199001011234" not in row.payload and "13812345678" not in row.payload


def test_quarantined_names_addresses_and_photos_are_masked(feed, fleet_db):
    """A rating whose schema is broken (a name where a number belongs, personal fields the
    contract does not have) and a payload that is not JSON at all: neither the kept text
    nor the validator's message holds the name, the address or the photo."""
    bad = rating(T, R)
    bad["values"]["assess_number"] = "张三丰"  # the validator's message quotes this value
    bad["values"]["applicant"] = {"姓名": "李四光", "address": "济南市历下区泉城路1号",
                                  "photo": "QUJDREVGR0g=", "mobile": "13812345678"}
    feed(topic(R, T, "rating"), bad)
    feed(topic(R, T, "event"), '{"name": "王五福", "住址": "青岛市市南区香港中路",'
         .encode())
    with fleet_db.session() as s:
        rows = s.scalars(select(Quarantine).order_by(Quarantine.id)).all()
    assert [r.reason for r in rows] == ["schema", "bad_json"]
    kept = " ".join(f"{r.payload} {r.detail}" for r in rows)
    for secret in ("张三丰", "三丰", "李四光", "四光", "泉城路", "QUJDREVGR0g=", "13812345678",
                   "王五福", "五福", "香港中路"):
        assert secret not in kept, secret
    assert "张**" in rows[0].payload and "assess_number" in rows[0].detail
    assert "李**" in rows[0].payload and "王**" in rows[1].payload


def test_registry_keeps_the_newest_state_by_payload_time(feed, fleet_db):
    t0 = feed.now
    feed(topic(R, T, "birth"), birth(T, R, t0, site="历下区政务服务中心"))
    feed(topic(R, T, "state"), presence(T, True, t0 + 10))
    feed(topic(R, T, "health"), health(T, t0 + 2000, paper="near_end"))
    # an older presence and health that arrive late change nothing (a Last Will, whose
    # time is its connection's set-up, is the exception: tests/console/test_presence_will.py)
    feed(topic(R, T, "state"), presence(T, False, t0 + 5, reason="shutdown"))
    feed(topic(R, T, "health"), health(T, t0 + 1000, paper="out"))
    with fleet_db.session() as s:
        term = s.get(Terminal, T)
        assert term.online is True and term.site == "历下区政务服务中心"
        assert term.health["devices"]["printer"]["paper"] == "near_end"
        assert term.last_seen == t0 + 2000


def test_a_bad_rating_opens_one_case(feed, fleet_db):
    r = rating(T, R, "very_dissatisfied")
    feed(topic(R, T, "rating"), r)
    feed(topic(R, T, "rating"), r)
    feed(topic(R, T, "rating"), rating(T, R, "satisfied"))
    with fleet_db.session() as s:
        cases = list(s.scalars(select(Case)))
    assert [(c.rating_id, c.state) for c in cases] == [(r["id"], "pending")]

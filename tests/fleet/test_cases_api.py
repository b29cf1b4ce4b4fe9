"""Cases, the sealed real-name part and region-limited tokens through the REST API
(in-process ASGI client on real SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from nacl.public import PrivateKey
from sqlalchemy import select

from fleet.app import Services, create_app
from fleet.models import CaseAudit
from fleet.services import users
from fleet.services.cases import deadline_for
from fleet.settings import CaseRules
from fleet.testing import birth, rating, topic
from kiosk.ratings.records import RealNamePart, key_id, seal_real_name

T, R = "JN-LX-0001", "370102"
T2, R2 = "QD-SN-0001", "370202"


def test_deadline_skips_weekends_holidays_and_counts_adjusted_workdays():
    rules = CaseRules(deadline_working_days=5, holidays=[date(2026, 10, 1), date(2026, 10, 2)])
    # Thursday 2026-09-24 + 5 working days: Fri 25, Mon 28, Tue 29, Wed 30, (Thu 1 and Fri 2
    # are holidays), Mon 5 October
    assert deadline_for(date(2026, 9, 24), rules) == date(2026, 10, 5)
    # a working Saturday (调休) counts
    rules = CaseRules(deadline_working_days=2, extra_workdays=[date(2026, 9, 26)])
    assert deadline_for(date(2026, 9, 25), rules) == date(2026, 9, 28)
    assert deadline_for(date(2026, 9, 25), CaseRules(deadline_working_days=2)) == \
        date(2026, 9, 29)


@pytest.fixture
def world(fleet_db, settings, feed):
    key = PrivateKey.generate()
    services = Services(settings=settings, db=fleet_db, evaluation_key=key,
                        clock=lambda: feed.now)
    client = TestClient(create_app(services=services))
    tokens = {}
    with fleet_db.session() as s:
        for role in ("viewer", "operator", "evaluator", "admin"):
            tokens[role] = users.create_token(s, role, role)[1]
        tokens["qingdao"] = users.create_token(s, "qingdao", "evaluator", "3702")[1]
    feed(topic(R, T, "birth"), birth(T, R))
    feed(topic(R2, T2, "birth"), birth(T2, R2, site="市南区政务服务中心", lat=36.07, lon=120.38))
    part = RealNamePart(name="张三", id_number="370102199001011234", phone="13812345678")
    sealed = seal_real_name(part, key.public_key)
    r = rating(T, R, "very_dissatisfied", sealed=sealed, key_id=key_id(key.public_key))
    feed(topic(R, T, "rating"), r)
    feed(topic(R2, T2, "rating"), rating(T2, R2, "dissatisfied"))

    tokens["bogus"] = "kft_not-a-token"

    def call(method, url, who, **kw):
        headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
        return client.request(method, url, headers=headers, **kw)

    call.client = client  # type: ignore[attr-defined]
    call.tokens = tokens  # type: ignore[attr-defined]
    return call, fleet_db


def _case_of(call, terminal):
    items = call("GET", "/api/v1/cases", "admin").json()["items"]
    return next(c for c in items if c["terminal"] == terminal)


def test_viewer_and_operator_get_403_for_the_real_name_and_the_evaluator_gets_it_audited(
        world):
    call, db = world
    case = _case_of(call, T)
    assert case["identified"] is True and "real_name_sealed" not in case
    for role in ("viewer", "operator"):
        resp = call("POST", f"/api/v1/cases/{case['id']}/real-name", role)
        assert resp.status_code == 403, resp.text
    resp = call("POST", f"/api/v1/cases/{case['id']}/real-name", "evaluator",
                json={"purpose": "回访"})
    assert resp.status_code == 200
    assert resp.json()["name"] == "张三" and resp.json()["phone"] == "13812345678"
    assert resp.headers["cache-control"] == "no-store"
    with db.session() as s:
        audit = [(a.user, a.action, a.note) for a in s.scalars(
            select(CaseAudit).where(CaseAudit.case_id == case["id"]))]
    assert ("evaluator", "open_real_name", "回访") in audit
    assert not any(a[1] == "open_real_name" and a[0] in ("viewer", "operator") for a in audit)
    # lists and the case view never carry the sealed text or the name
    detail = call("GET", f"/api/v1/cases/{case['id']}", "viewer").text
    assert "张三" not in detail and "370102199001011234" not in detail


def test_case_workflow_with_reasons_and_audit(world):
    call, _db = world
    case = _case_of(call, T)
    assert case["state"] == "pending" and case["state_label"] == "待核实"
    assert call("PATCH", f"/api/v1/cases/{case['id']}", "operator",
                json={"state": "rectifying"}).status_code == 403
    bad = call("PATCH", f"/api/v1/cases/{case['id']}", "evaluator", json={"state": "appealed"})
    assert bad.status_code == 422 and "reason" in bad.json()["detail"]
    skip = call("PATCH", f"/api/v1/cases/{case['id']}", "evaluator",
                json={"state": "revisited"})
    assert skip.status_code == 422 and "allowed" in skip.json()["detail"]
    for state in ("rectifying", "rectified", "revisited"):
        resp = call("PATCH", f"/api/v1/cases/{case['id']}", "evaluator",
                    json={"state": state, "note": f"to {state}"})
        assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["state"] == "revisited" and body["closed_at"]
    assert [(a["from"], a["to"]) for a in body["audit"] if a["action"] == "transition"] == [
        ("pending", "rectifying"), ("rectifying", "rectified"), ("rectified", "revisited")]
    assert all(a["user"] == "evaluator" for a in body["audit"] if a["action"] == "transition")
    # a note that comes with a transition is in that one audit row, not in a second one
    assert [(a["action"], a["to"], a["note"]) for a in body["audit"]][1:] == [
        ("transition", "rectifying", "to rectifying"),
        ("transition", "rectified", "to rectified"),
        ("transition", "revisited", "to revisited")]
    # a note alone is its own row; a reason and a note together are kept both
    other = _case_of(call, T2)
    call("PATCH", f"/api/v1/cases/{other['id']}", "evaluator", json={"note": "called back"})
    resp = call("PATCH", f"/api/v1/cases/{other['id']}", "evaluator",
                json={"state": "appealed", "reason": "not our service", "note": "see file"})
    assert [(a["action"], a["note"]) for a in resp.json()["audit"]][1:] == [
        ("note", "called back"), ("transition", "not our service; see file")]
    assert body["audit"][0]["action"] == "opened"  # by the ingest, when the rating came


def test_overdue_cases_are_flagged_and_alarmed(world, fleet_db):
    from fleet.models import Alarm
    from fleet.services import cases

    call, db = world
    case = _case_of(call, T)
    deadline = date.fromisoformat(case["deadline"])
    with db.session() as s:
        assert cases.mark_overdue(s, deadline, 0) == 0
        assert cases.mark_overdue(s, date.fromordinal(deadline.toordinal() + 1), 0) == 2
        types = {(a.terminal, a.type) for a in s.scalars(select(Alarm))}
    assert (T, "case_overdue") in types
    assert call("GET", "/api/v1/cases?overdue=true", "viewer").json()["total"] == 2


def test_a_region_limited_token_never_sees_another_region(world):
    call, _db = world
    terms = call("GET", "/api/v1/terminals", "qingdao").json()
    assert [t["id"] for t in terms["items"]] == [T2] and terms["total"] == 1
    assert call("GET", f"/api/v1/terminals/{T}", "qingdao").status_code == 404
    assert call("GET", f"/api/v1/terminals/{T2}", "qingdao").status_code == 200
    cases = call("GET", "/api/v1/cases", "qingdao").json()["items"]
    assert {c["terminal"] for c in cases} == {T2}
    other = _case_of(call, T)
    assert call("POST", f"/api/v1/cases/{other['id']}/real-name", "qingdao").status_code == 404
    geo = call("GET", "/api/v1/service-map.geojson", "qingdao").json()
    assert [f["id"] for f in geo["features"]] == [T2]
    summary = call("GET", "/api/v1/ratings/summary?group_by=terminal", "qingdao").json()
    assert [g["key"] for g in summary["groups"]] == [T2]
    everyone = call("GET", "/api/v1/terminals", "viewer").json()
    assert {t["id"] for t in everyone["items"]} == {T, T2}


def test_requests_without_a_valid_token_are_refused(world):
    call, _db = world
    for url in ("/api/v1/terminals", "/api/v1/alarms?state=active", "/api/v1/cases",
                "/api/v1/ratings/summary", "/api/v1/ingest/stats"):
        assert call("GET", url, None).status_code == 401, url
        assert call("GET", url, "bogus").status_code == 401, url
        assert call("GET", url, "viewer").status_code == 200, url
    assert call("GET", "/api/v1/tokens", "evaluator").status_code == 403
    assert call("POST", "/api/v1/tokens", "admin", json={"name": "x", "role": "viewer"}
                ).json()["token"].startswith("kft_")


def test_service_map_geojson_and_csv(world):
    call, _db = world
    geo = call("GET", "/api/v1/service-map.geojson", "viewer")
    assert geo.headers["content-type"].startswith("application/geo+json")
    feature = next(f for f in geo.json()["features"] if f["id"] == T2)
    assert feature["geometry"] == {"type": "Point", "coordinates": [120.38, 36.07]}
    assert feature["properties"]["site"] == "市南区政务服务中心"
    assert feature["properties"]["services"] == ["queue", "guide", "code", "rating"]
    csv_text = call("GET", "/api/v1/service-map.csv", "viewer").text
    assert "市南区政务服务中心" in csv_text and "Mon-Fri 08:30-17:30" in csv_text


def test_ratings_summary_counts_rates_and_active_evaluation(world, feed):
    from fleet.testing import session_event

    call, _db = world
    for level in ("very_satisfied", "satisfied", "satisfied", "basic"):
        feed(topic(R, T, "rating"), rating(T, R, level))
    for _ in range(8):
        feed(topic(R, T, "event"), session_event(T, "completed"))
    feed(topic(R, T, "event"), session_event(T, "abandoned"))
    body = call("GET", f"/api/v1/ratings/summary?terminal={T}", "viewer").json()
    assert body["counts"] == {"very_satisfied": 1, "satisfied": 2, "basic": 1,
                              "dissatisfied": 0, "very_dissatisfied": 1}
    assert body["rated"] == 5 and body["satisfaction_rate"] == 0.8 and body["bad_rate"] == 0.2
    assert body["completed_sessions"] == 8 and body["active_evaluation_rate"] == 0.625
    by_region = call("GET", "/api/v1/ratings/summary?group_by=region", "viewer").json()
    assert {g["key"]: g["rated"] for g in by_region["groups"]} == {R: 5, R2: 1}
    assert call("GET", "/api/v1/ratings/summary?from=2030-01-02&to=2030-01-01",
                "viewer").status_code == 422


def test_ratings_summary_by_region_prefix_and_period_grouped_by_terminal(world, feed):
    """The region filter on per-terminal figures (a prefix turned into the codes it matches)
    against counts made here, over two months and three regions."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from fleet.testing import session_event

    call, _db = world
    T3, R3 = "JN-SZ-0001", "370103"

    def ms(day: str) -> int:
        return int(datetime.fromisoformat(f"{day}T10:00").replace(
            tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)

    plan = [(T, R, "2026-10-05", "satisfied"), (T, R, "2026-10-20", "very_satisfied"),
            (T, R, "2026-11-03", "basic"), (T3, R3, "2026-10-07", "satisfied"),
            (T3, R3, "2026-10-08", "very_satisfied"), (T2, R2, "2026-10-09", "satisfied")]
    for term, region, day, level in plan:
        feed(topic(region, term, "rating"), rating(term, region, level, ms(day)))
        feed(topic(region, term, "event"), session_event(term, "completed", ms(day)))
    month = "from=2026-10-01&to=2026-10-31"
    body = call("GET", f"/api/v1/ratings/summary?region=3701&{month}&group_by=terminal",
                "viewer").json()
    assert {g["key"]: g["rated"] for g in body["groups"]} == {T: 2, T3: 2}
    assert {g["key"]: g["completed_sessions"] for g in body["groups"]} == {T: 2, T3: 2}
    assert body["rated"] == 4 and body["counts"]["very_satisfied"] == 2
    one = call("GET", f"/api/v1/ratings/summary?region=370103&{month}&group_by=terminal",
               "viewer").json()
    assert [(g["key"], g["rated"]) for g in one["groups"]] == [(T3, 2)]
    nov = call("GET", "/api/v1/ratings/summary?region=370102&from=2026-11-01&to=2026-11-30"
               "&group_by=terminal", "viewer").json()
    assert [(g["key"], g["counts"]["basic"]) for g in nov["groups"]] == [(T, 1)]
    nothing = call("GET", f"/api/v1/ratings/summary?region=3705&{month}&group_by=terminal",
                   "viewer").json()
    assert nothing["rated"] == 0 and nothing["groups"] == []


def test_a_real_name_is_only_answered_once_its_audit_record_is_committed(world, monkeypatch):
    """The request's session commits before the response goes out: when the commit fails,
    the evaluator gets an error, not the name of a person whose opening was never audited
    (FastAPI runs a yield dependency's exit after sending unless it is function-scoped)."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    call, db = world
    case = _case_of(call, T)
    with db.session() as s:
        before = len(s.scalars(select(CaseAudit)).all())
    client = TestClient(call.client.app, raise_server_exceptions=False)

    from fleet.services import cases as case_service

    audited: list[Session] = []
    audit, commit = case_service._audit, Session.commit

    def audit_and_note(session, *args, **kwargs):
        audited.append(session)
        return audit(session, *args, **kwargs)

    def commit_failing_after_the_audit(self):
        if self in audited:  # the disk fills just as the opening's audit row is committed
            raise OperationalError("COMMIT", {}, Exception("database or disk is full"))
        return commit(self)

    monkeypatch.setattr(case_service, "_audit", audit_and_note)
    monkeypatch.setattr(Session, "commit", commit_failing_after_the_audit)
    resp = client.post(f"/api/v1/cases/{case['id']}/real-name", json={"purpose": "回访"},
                       headers={"Authorization": f"Bearer {call.tokens['evaluator']}"})
    monkeypatch.undo()
    assert audited, "the route ran up to its audit record"
    assert resp.status_code >= 500, resp.text
    assert "张三" not in resp.text and "370102199001011234" not in resp.text
    with db.session() as s:
        assert len(s.scalars(select(CaseAudit)).all()) == before

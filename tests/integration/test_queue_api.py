"""The hall server's API on loopback (uvicorn): who may do what, uniform JSON errors, help
requests (帮办), check-in rate limit, recall before no-show, retention purge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from kiosk.queue import QueueEngine, QueueHttpServer, QueueSettings
from kiosk.queue.hall import HallStore
from kiosk.queue.models import AppointmentIn

pytestmark = pytest.mark.timeout(90)
SH = ZoneInfo("Asia/Shanghai")
API = "/api/v1"


class Hall:
    """A live server with one kiosk key, staff for window 1, staff for window 3, an admin."""

    def __init__(self, server: QueueHttpServer) -> None:
        self.server = server
        self.key = server.hall.add_terminal("K-0001")
        self.other_key = server.hall.add_terminal("K-0002")
        server.hall.add_staff("li", "password-1", ["1"])
        server.hall.add_staff("wang", "password-3", ["3"])
        server.hall.add_staff("boss", "password-a", [], role="admin")
        self.anon = httpx.Client(base_url=server.url, timeout=10)
        self.kiosk = httpx.Client(base_url=server.url, timeout=10,
                                  headers={"X-Api-Key": self.key})
        self.other = httpx.Client(base_url=server.url, timeout=10,
                                  headers={"Authorization": f"Bearer {self.other_key}"})
        self.li, self.li_csrf = self.staff("li", "password-1")
        self.wang, self.wang_csrf = self.staff("wang", "password-3")
        self.boss, self.boss_csrf = self.staff("boss", "password-a")

    def staff(self, name: str, password: str) -> tuple[httpx.Client, str]:
        client = httpx.Client(base_url=self.server.url, timeout=10)
        answer = client.post(f"{API}/session", json={"name": name, "password": password})
        assert answer.status_code == 200, answer.text
        assert "kq_session" in client.cookies
        csrf = answer.json()["csrf"]
        client.headers["X-CSRF-Token"] = csrf
        return client, csrf

    def close(self) -> None:
        for client in (self.anon, self.kiosk, self.other, self.li, self.wang, self.boss):
            client.close()


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Hall]:
    settings = QueueSettings(synchronous="normal", checkin_per_min=3, no_show_after_recalls=1)
    engine = QueueEngine(tmp_path / "db" / "hall.sqlite", settings,
                         key_path=tmp_path / "secret" / "id.key")
    with QueueHttpServer(engine, speech_dir=tmp_path / "speech") as server:
        h = Hall(server)
        yield h
        h.close()
    engine.close()


def error(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()["error"]
    assert set(body) == {"code", "message", "details"}
    return body  # type: ignore[no-any-return]


def operations(spec: dict[str, Any]) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item]


def test_every_endpoint_but_health_and_login_refuses_the_unauthenticated(hall: Hall) -> None:
    spec = hall.anon.get("/openapi.json").json()
    ops = operations(spec)
    assert len(ops) >= 24
    open_ops = {("GET", f"{API}/health"), ("POST", f"{API}/session")}
    for method, path in ops:
        url = path.replace("{", "").replace("}", "")  # /tickets/ticket_id ...
        answer = hall.anon.request(method, url, json={})
        if (method, path) in open_ops:
            assert answer.status_code in (200, 422), (method, path)
            continue
        assert error(answer, 401)["code"] == "unauthorized", (method, path)
        assert answer.headers.get("www-authenticate")
    # a wrong or revoked key is no key
    assert error(hall.anon.get(f"{API}/categories", headers={"X-Api-Key": "kq_nope"}),
                 401)["code"] == "unauthorized"
    hall.server.hall.revoke_terminal("K-0002")
    error(hall.other.post(f"{API}/tickets", json={"category": "A"}), 401)


def test_a_kiosk_key_cannot_do_staff_or_admin_work(hall: Hall) -> None:
    ticket = hall.kiosk.post(f"{API}/tickets", json={"category": "A"})
    assert ticket.status_code == 201 and ticket.json()["terminal"] == "K-0001"
    for method, path, body in (
            ("POST", f"{API}/windows/1/call-next", {}), ("GET", f"{API}/windows", None),
            ("POST", f"{API}/tickets/{ticket.json()['id']}/served", None),
            ("PUT", f"{API}/windows/1/categories", {"categories": ["A"]}),
            ("POST", f"{API}/appointments", {"appointments": []}),
            ("GET", f"{API}/stats", None), ("GET", f"{API}/help", None)):
        answer = hall.kiosk.request(method, path, json=body)
        assert answer.status_code in (401, 403), (method, path, answer.status_code)
    # staff sessions cannot issue tickets or check in
    error(hall.li.post(f"{API}/tickets", json={"category": "A"}), 401)
    error(hall.li.post(f"{API}/checkin", json={"code": "X"}), 401)


def test_staff_serve_only_their_windows_and_only_admins_import(hall: Hall) -> None:
    hall.kiosk.post(f"{API}/tickets", json={"category": "A"})
    hall.kiosk.post(f"{API}/tickets", json={"category": "B"})
    refused = error(hall.li.post(f"{API}/windows/3/call-next", json={}), 403)
    assert refused["details"]["window"] == "3" and refused["details"]["allowed"] == ["1"]
    called = hall.li.post(f"{API}/windows/1/call-next", json={}).json()["ticket"]
    assert called["number"] == "A001"
    # wang (window 3) may not finish a ticket called at window 1
    error(hall.wang.post(f"{API}/tickets/{called['id']}/served"), 403)
    error(hall.wang.put(f"{API}/windows/1/paused", json={"paused": True}), 403)
    assert hall.wang.post(f"{API}/windows/3/call-next", json={}).json()["ticket"]["number"] == \
        "B001"
    error(hall.wang.post(f"{API}/tickets/{called['id']}/transfer", json={"category": "C"}), 403)
    moved = hall.li.post(f"{API}/tickets/{called['id']}/transfer", json={"category": "C"})
    assert moved.json()["state"] == "waiting" and moved.json()["number"] == "A001"
    error(hall.li.post(f"{API}/tickets/{called['id']}/transfer",
                       json={"category": "C", "window": "3"}), 422)
    error(hall.li.post(f"{API}/appointments", json={"appointments": []}), 403)
    error(hall.li.get(f"{API}/stats"), 403)
    imported = hall.boss.post(f"{API}/appointments", json={"appointments": [
        {"ref": "R1", "category": "A", "start": datetime.now(SH).isoformat(),
         "id_number": "370102199001011234", "name": "张三"}]})
    assert imported.status_code == 200 and imported.json()["added"] == 1


def test_changes_without_the_csrf_token_are_refused(hall: Hall) -> None:
    hall.kiosk.post(f"{API}/tickets", json={"category": "A"})
    bare = httpx.Client(base_url=hall.server.url, cookies=hall.li.cookies)
    try:
        assert bare.get(f"{API}/windows").status_code == 200  # reading needs no token
        refused = error(bare.post(f"{API}/windows/1/call-next", json={}), 403)
        assert refused["details"]["field"] == "X-CSRF-Token"
        error(bare.post(f"{API}/windows/1/call-next", json={},
                        headers={"X-CSRF-Token": hall.wang_csrf}), 403)  # another session's
    finally:
        bare.close()
    assert hall.li.get(f"{API}/windows").json()[0]["current"] is None  # nothing was called
    # the login form: without the cookie's token no session is made
    form = hall.anon.post("/login", data={"name": "li", "password": "password-1",
                                          "csrf": "forged"})
    assert form.status_code == 303 and form.headers["location"] == "/login?error=csrf"
    assert "kq_session" not in form.cookies
    page = hall.anon.get("/login")
    token = page.cookies["kq_login_csrf"]
    good = hall.anon.post("/login", data={"name": "li", "password": "password-1",
                                          "csrf": token})
    assert good.status_code == 303 and good.headers["location"] == "/staff"
    assert good.cookies["kq_session"]
    wrong = hall.anon.post(f"{API}/session", json={"name": "li", "password": "nope-nope"})
    assert error(wrong, 401)["message"] == "用户名或密码不正确"


def test_check_in_is_rate_limited_per_kiosk_and_says_no_more_than_the_kiosk_shows(
        hall: Hall) -> None:
    engine = hall.server.engine
    engine.import_appointments([AppointmentIn(
        ref="BOOK-7", category="B", start=datetime.now(SH) + timedelta(hours=3),
        id_number="370102199001011234", name="张三")])
    early = error(hall.kiosk.post(f"{API}/checkin", json={"id_number": "370102199001011234"}),
                  409)
    assert early["code"] == "too_early" and "ref" not in early["details"]
    assert "370102" not in str(early)
    for _ in range(2):
        assert error(hall.kiosk.post(f"{API}/checkin", json={"id_number": "110101199003074477"}),
                     409)["code"] == "no_appointment"
    limited = hall.kiosk.post(f"{API}/checkin", json={"id_number": "110101199003074477"})
    body = error(limited, 429)
    assert body["code"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
    # another kiosk has its own allowance
    assert error(hall.other.post(f"{API}/checkin", json={"code": "nothing"}),
                 409)["code"] == "no_appointment"


def test_help_requests_from_a_kiosk_to_the_staff_and_back(hall: Hall) -> None:
    body = {"terminal": "K-0001", "place": "A区入口 2号机", "reason": "不会操作",
            "request_id": "help-1"}
    made = hall.kiosk.post(f"{API}/help", json=body)
    assert made.status_code == 201
    request = made.json()
    assert request["state"] == "pending" and request["by"] is None and request["created_at"]
    again = hall.kiosk.post(f"{API}/help", json=body).json()
    assert again["id"] == request["id"]  # idempotent on request_id
    error(hall.kiosk.post(f"{API}/help", json={**body, "terminal": "K-0002",
                                               "request_id": "help-2"}), 403)
    error(hall.other.get(f"{API}/help/{request['id']}"), 403)  # not its request
    error(hall.kiosk.get(f"{API}/help/nope"), 404)
    missing = error(hall.kiosk.post(f"{API}/help", json={"terminal": "K-0001"}), 422)
    assert missing["details"]["field"] in ("place", "request_id")
    listed = hall.li.get(f"{API}/help").json()
    assert [(h["terminal"], h["place"], h["state"]) for h in listed] == [
        ("K-0001", "A区入口 2号机", "pending")]
    error(hall.li.post(f"{API}/help/{request['id']}/acknowledge",
                       headers={"X-CSRF-Token": ""}), 403)
    acked = hall.li.post(f"{API}/help/{request['id']}/acknowledge").json()
    assert acked["state"] == "acknowledged" and acked["by"] == "li" and acked["at"]
    seen = hall.kiosk.get(f"{API}/help/{request['id']}").json()
    assert seen["state"] == "acknowledged" and seen["by"] == "li"
    done = hall.wang.post(f"{API}/help/{request['id']}/done").json()
    assert done["state"] == "done"
    assert hall.kiosk.get(f"{API}/help/{request['id']}").json()["state"] == "done"
    assert hall.li.get(f"{API}/help").json() == []  # done requests leave the list


def test_recall_counts_and_no_show_waits_for_it(hall: Hall) -> None:
    hall.kiosk.post(f"{API}/tickets", json={"category": "A"})
    called = hall.li.post(f"{API}/windows/1/call-next", json={}).json()["ticket"]
    early = error(hall.li.post(f"{API}/tickets/{called['id']}/no-show"), 409)
    assert early["details"]["needed"] == 1 and early["details"]["recalls"] == 0
    assert hall.li.post(f"{API}/windows/1/recall").json()["number"] == "A001"
    calls = hall.li.get(f"{API}/calls").json()
    assert [(c["number"], c["kind"]) for c in calls] == [("A001", "recall"), ("A001", "call")]
    assert calls[0]["phrase"] == "请 A 零 零 一 号 到 一 号窗口 办理"
    gone = hall.li.post(f"{API}/tickets/{called['id']}/no-show").json()
    assert gone["state"] == "no_show"
    error(hall.li.post(f"{API}/windows/1/recall"), 409)  # nobody is called there now


def test_a_paused_window_calls_nobody(hall: Hall) -> None:
    hall.kiosk.post(f"{API}/tickets", json={"category": "A"})
    assert hall.li.put(f"{API}/windows/1/paused", json={"paused": True}).json() == {
        "paused": True}
    assert error(hall.li.post(f"{API}/windows/1/call-next", json={}), 409)["code"] == "paused"
    assert hall.li.get(f"{API}/windows").json()[0]["paused"] is True
    hall.li.put(f"{API}/windows/1/paused", json={"paused": False})
    assert hall.li.post(f"{API}/windows/1/call-next", json={}).json()["ticket"]["number"] == \
        "A001"


def test_unknown_paths_and_methods_get_json(hall: Hall) -> None:
    assert error(hall.anon.get("/api/v1/nothing"), 404)["code"] == "no_route"
    assert error(hall.anon.request("PATCH", f"{API}/health"), 405)["code"] == \
        "method_not_allowed"
    assert error(hall.anon.request("DELETE", f"{API}/tickets"), 405)
    bad = error(hall.kiosk.post(f"{API}/tickets", content=b"{not json",
                                headers={"Content-Type": "application/json"}), 422)
    assert bad["code"] == "invalid"
    limit = error(hall.li.get(f"{API}/calls?limit=1000"), 422)
    assert limit["details"]["field"] == "limit"
    schema = hall.anon.get("/openapi.json").json()
    limit_param = next(p for p in schema["paths"][f"{API}/calls"]["get"]["parameters"]
                       if p["name"] == "limit")
    assert limit_param["schema"]["maximum"] == 100 and limit_param["schema"]["minimum"] == 1


def test_retention_purges_tickets_and_keeps_the_day_in_aggregate(tmp_path: Path) -> None:
    now = [datetime(2026, 3, 2, 10, 0, tzinfo=SH).timestamp()]
    settings = QueueSettings(synchronous="normal", retention_days=30)
    engine = QueueEngine(tmp_path / "hall.sqlite", settings, clock=lambda: now[0],
                         key_path=tmp_path / "k" / "id.key")
    hall = HallStore(engine.db_path, SH, synchronous="normal", clock=lambda: now[0])
    try:
        first = engine.issue_ticket("A")
        engine.issue_ticket("A")
        engine.import_appointments([AppointmentIn(
            ref="OLD", category="A", start=datetime(2026, 3, 2, 11, tzinfo=SH),
            id_number="370102199001011234", name="张三")])
        now[0] += 300
        engine.call_next("1")
        now[0] += 600
        engine.mark_served(first.id)
        hall.request_help("K-0001", "入口", "", "h-old")
        assert hall.purge(30) == {"tickets": 0, "appointments": 0, "help": 0, "calls": 0}
        now[0] += 31 * 86400  # a month later
        fresh = engine.issue_ticket("B")
        counts = hall.purge(30)
        assert counts == {"tickets": 2, "appointments": 1, "help": 1, "calls": 0}
        left = engine._conn.execute("SELECT id FROM tickets").fetchall()
        assert [r[0] for r in left] == [fresh.id]
        assert engine._conn.execute("SELECT COUNT(*) FROM appointments").fetchone()[0] == 0
        stats = {(r["day"], r["category"], r["window"]): r
                 for r in hall.stats("2026-03-01", "2026-04-30")}
        old = stats[("2026-03-02", "A", "1")]
        assert (old["tickets"], old["served"], old["wait_mean_s"], old["service_mean_s"]) == (
            1, 1, 300.0, 600.0)
        assert stats[("2026-03-02", "A", "")]["tickets"] == 1  # never called
        assert stats[("2026-04-02", "B", "")]["tickets"] == 1  # today's, live
    finally:
        hall.close()
        engine.close()


def test_stats_and_csv_for_admins(hall: Hall) -> None:
    for _ in range(3):
        hall.kiosk.post(f"{API}/tickets", json={"category": "A"})
    first = hall.li.post(f"{API}/windows/1/call-next", json={}).json()["ticket"]
    hall.li.post(f"{API}/tickets/{first['id']}/served")
    rows = hall.boss.get(f"{API}/stats").json()
    by = {(r["category"], r["window"]): r for r in rows}
    assert by[("A", "1")]["served"] == 1 and by[("A", "")]["tickets"] == 2
    csv_text = hall.boss.get(f"{API}/stats.csv").text
    assert csv_text.splitlines()[0].startswith("day,category,window,tickets,served,no_show")
    assert "370102" not in csv_text and "张" not in csv_text

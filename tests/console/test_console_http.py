"""The console over HTTP, in process (fast): log-in, lock-out, cookies, CSRF, roles, texts.

The same app as ``kiosk-fleet serve`` (``fleet.app.create_app``) on a SQLite database fed
through the real ingest core. The browser tests (test_console_browser.py) cover the pages
against a real server, broker and simulator.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fleet import testing as ft
from fleet.app import build_services, create_app
from fleet.console.i18n.extract import missing
from fleet.console.security import LockoutPolicy, LoginGuard, SessionStore, csrf_ok
from fleet.console.web import safe_next
from fleet.ingest import Ingestor, Message
from fleet.services import users
from fleet.settings import Settings

PASSWORD = "test-password-1"
REGION = "370102"


class Published(list):
    """Commands the server published (the broker is the browser tests' part)."""

    def __call__(self, region: str, terminal: str, payload: bytes) -> None:
        self.append((region, terminal, json.loads(payload)))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """One database with users and a little traffic, copied for every test."""
    from fleet.keys import new_evaluation_key
    from kiosk.ratings.records import RealNamePart, key_id, seal_real_name

    path = tmp_path_factory.mktemp("console-http") / "fleet.db"
    evaluation_key = new_evaluation_key()
    services = build_services(Settings(db=f"sqlite:///{path}"))
    sealed = seal_real_name(RealNamePart(name="张三", id_number="370102199001011234",
                                         phone="13812345678"), evaluation_key.public_key)
    with services.db.session() as s:
        for role in ("viewer", "operator", "evaluator", "admin"):
            users.create_user(s, role, PASSWORD, role)
    feed = Ingestor(services.db, services.settings, worker="test")
    now = int(time.time() * 1000)
    msgs = []
    for terminal in ("JN-T1", "JN-T2"):
        msgs += [(ft.topic(REGION, terminal, "birth"), ft.birth(terminal, REGION, now)),
                 (ft.topic(REGION, terminal, "state"), ft.presence(terminal, True, now)),
                 (ft.topic(REGION, terminal, "health"), ft.health(terminal, now, paper="out"))]
    msgs += [(ft.topic(REGION, "JN-T1", "rating"),
              ft.rating("JN-T1", REGION, "very_dissatisfied", now)),
             (ft.topic(REGION, "JN-T2", "rating"),
              ft.rating("JN-T2", REGION, "dissatisfied", now, sealed=sealed,
                        key_id=key_id(evaluation_key.public_key)))]
    feed.process([Message(t, json.dumps(p, ensure_ascii=False).encode(), now, False, 1)
                  for t, p in msgs])
    services.db.dispose()
    return path, evaluation_key


@pytest.fixture
def app(template: tuple[Any, Any], tmp_path: Any) -> Iterator[Any]:
    import shutil

    from fleet.commands import new_key

    source, evaluation_key = template
    shutil.copy(source, tmp_path / "fleet.db")
    services = build_services(Settings(db=f"sqlite:///{tmp_path / 'fleet.db'}"))
    services.evaluation_key = evaluation_key
    services.command_key = new_key()
    services.publish = Published()
    application = create_app(services=services)
    yield application
    services.db.dispose()


def login_token(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": login_token(client), "next": "/"},
                       follow_redirects=False)


def csrf_of(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


def test_pages_need_a_log_in(app: Any) -> None:
    client = TestClient(app)
    for path in ("/", "/alarms", "/ratings", "/cases", "/map", "/admin/users",
                 "/terminals/JN-T1"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login?next=")
    assert client.get("/overview.json").status_code == 401


def test_log_in_sets_a_strict_httponly_session_cookie(app: Any) -> None:
    client = TestClient(app)
    r = log_in(client, "operator")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie"
                  and v.startswith("kfc_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = client.get("/")
    assert page.status_code == 200 and "JN-T1" in page.text and "缺纸" in page.text


def test_a_log_in_form_without_its_token_is_refused(app: Any) -> None:
    client = TestClient(app)
    client.get("/login")
    r = client.post("/login", data={"username": "admin", "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 403
    assert "kfc_session" not in r.headers.get("set-cookie", "")


def test_repeated_failures_lock_the_name_out_even_with_the_right_password(app: Any) -> None:
    client = TestClient(app)
    for _ in range(5):
        assert log_in(client, "viewer", "wrong-password").status_code == 401
    r = log_in(client, "viewer")
    assert r.status_code == 429
    assert "登录失败次数过多" in r.text
    other = TestClient(app)  # another name from another "address" is not locked
    app.state.console_ui.guard.succeeded("addr:testclient")
    assert log_in(other, "admin").status_code == 303


def test_a_form_without_the_csrf_token_is_refused(app: Any) -> None:
    client = TestClient(app)
    log_in(client, "operator")
    r = client.post("/alarms/1/ack", data={"note": "纸已补"}, follow_redirects=False)
    assert r.status_code == 403 and "csrf" in r.text
    r = client.post("/alarms/1/ack", data={"note": "纸已补", "csrf_token": "forged"},
                    follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200  # still logged in


def test_a_cross_origin_form_is_refused_even_with_the_token(app: Any) -> None:
    client = TestClient(app)
    log_in(client, "operator")
    token = csrf_of(client)
    r = client.post("/alarms/1/ack", data={"note": "x", "csrf_token": token},
                    headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert r.status_code == 403


def test_acknowledge_with_a_note_and_the_token(app: Any) -> None:
    client = TestClient(app)
    log_in(client, "operator")
    page = client.get("/alarms")
    alarm = re.search(r'data-alarm="(\d+)" data-terminal="JN-T1" data-type="paper_out"',
                      page.text)
    assert alarm, "paper out raised an alarm"
    r = client.post(f"/alarms/{alarm.group(1)}/ack",
                    data={"note": "已通知网点补纸", "csrf_token": csrf_of(client)},
                    follow_redirects=False)
    assert r.status_code == 303 and "error" not in r.headers["location"]
    page = client.get("/alarms?state=all")
    assert "已通知网点补纸" in page.text and 'data-state="acknowledged"' in page.text


def test_a_viewer_gets_no_command_buttons_and_403_when_trying(app: Any) -> None:
    viewer = TestClient(app)
    log_in(viewer, "viewer")
    page = viewer.get("/terminals/JN-T1")
    assert page.status_code == 200 and 'id="commands"' not in page.text
    r = viewer.post("/terminals/JN-T1/commands",
                    data={"command": "restart", "csrf_token": csrf_of(viewer)},
                    follow_redirects=False)
    assert r.status_code == 403
    api = viewer.post("/api/v1/commands", json={"name": "restart", "target":
                                                {"terminal": "JN-T1"}},
                      headers={"X-CSRF-Token": csrf_of(viewer)})
    assert api.status_code == 403
    operator = TestClient(app)
    log_in(operator, "operator")
    assert 'id="commands"' in operator.get("/terminals/JN-T1").text


def test_the_api_takes_the_console_session_only_with_the_csrf_header_for_changes(app: Any
                                                                                 ) -> None:
    client = TestClient(app)
    log_in(client, "operator")
    assert client.get("/api/v1/terminals").status_code == 200
    r = client.post("/api/v1/alarms/1/ack")
    assert r.status_code == 401


def test_evaluator_moves_a_case_and_the_audit_names_them(app: Any) -> None:
    client = TestClient(app)
    log_in(client, "evaluator")
    listing = client.get("/cases")
    case_id = re.search(r'data-case="(\d+)" data-state="pending"', listing.text).group(1)
    token = csrf_of(client)
    r = client.post(f"/cases/{case_id}", data={"state": "appealed", "csrf_token": token},
                    follow_redirects=False)
    assert "error" in r.headers["location"]  # an appeal needs a reason: nothing changed
    for state in ("rectifying", "rectified", "revisited"):
        r = client.post(f"/cases/{case_id}", data={"state": state, "note": f"到{state}",
                                                   "csrf_token": token},
                        follow_redirects=False)
        assert "ok=" in r.headers["location"], r.headers["location"]
    page = client.get(f"/cases/{case_id}")
    assert "已回访" in page.text
    assert page.text.count('data-action="transition" data-user="evaluator"') == 3


def test_the_operator_cannot_move_a_case(app: Any) -> None:
    client = TestClient(app)
    log_in(client, "operator")
    listing = client.get("/cases")
    case_id = re.search(r'data-case="(\d+)"', listing.text).group(1)
    assert 'id="case-form"' not in client.get(f"/cases/{case_id}").text
    r = client.post(f"/cases/{case_id}", data={"state": "rectifying",
                                               "csrf_token": csrf_of(client)},
                    follow_redirects=False)
    assert r.status_code == 403


def test_admin_pages_are_for_admins_only(app: Any) -> None:
    client = TestClient(app)
    log_in(client, "evaluator")
    assert client.get("/admin/users").status_code == 403
    admin = TestClient(app)
    log_in(admin, "admin")
    token = csrf_of(admin)
    r = admin.post("/admin/tokens", data={"name": "wall", "role": "viewer", "csrf_token": token})
    secret = re.search(r'id="new-token">(kft_[^<]+)<', r.text).group(1)
    assert TestClient(app).get("/api/v1/terminals", headers={
        "Authorization": f"Bearer {secret}"}).status_code == 200


def test_exports_carry_figures_not_people(app: Any) -> None:
    client = TestClient(app)
    log_in(client, "viewer")
    csv_text = client.get("/ratings/export.csv").content.decode("utf-8-sig")
    assert "非常不满意" in csv_text and "等待时间长" in csv_text
    xlsx = client.get("/ratings/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_english_switch_and_every_text_translated(app: Any) -> None:
    assert missing() == []
    client = TestClient(app)
    log_in(client, "viewer")
    client.get("/lang/en?next=/")
    page = client.get("/")
    assert "Overview" in page.text and "Paper out" in page.text
    assert client.get("/lang/xx").status_code == 404


def test_only_local_paths_are_followed_after_log_in() -> None:
    assert safe_next("/alarms?state=all") == "/alarms?state=all"
    for bad in ("https://evil.example/", "//evil.example/", "javascript:alert(1)", ""):
        assert safe_next(bad) == "/"


def test_lockout_and_session_expiry_follow_their_clocks() -> None:
    now = [1000.0]
    guard = LoginGuard(LockoutPolicy(max_failures=3, window_s=60, lockout_s=300),
                       clock=lambda: now[0])
    for _ in range(2):
        guard.failed("user:a")
    now[0] += 61  # the first failures left the window
    guard.failed("user:a")
    assert guard.locked_for("user:a") == 0
    guard.failed("user:a")
    guard.failed("user:a")
    assert guard.locked_for("user:a") == pytest.approx(300)
    now[0] += 301
    assert guard.locked_for("user:a") == 0
    store = SessionStore(idle_s=10, absolute_s=100, clock=lambda: now[0])
    s = store.create("a", "viewer")
    assert store.get(s.id) is s and csrf_ok(s, s.csrf) and not csrf_ok(s, "x")
    now[0] += 11
    assert store.get(s.id) is None


def test_the_real_name_part_opens_only_for_an_evaluator_and_is_audited(app: Any) -> None:
    evaluator = TestClient(app)
    log_in(evaluator, "evaluator")
    listing = evaluator.get("/cases?terminal=JN-T2")
    case_id = re.search(r'data-case="(\d+)"', listing.text).group(1)
    page = evaluator.get(f"/cases/{case_id}")
    assert "张三" not in page.text and 'id="open-real-name"' in page.text
    opened = evaluator.post(f"/cases/{case_id}/real-name",
                            data={"purpose": "回访", "csrf_token": csrf_of(evaluator)})
    assert opened.status_code == 200 and "张三" in opened.text and "13812345678" in opened.text
    assert opened.headers["cache-control"] == "no-store"
    again = evaluator.get(f"/cases/{case_id}")
    assert "张三" not in again.text  # shown once, on that response only
    assert 'data-action="open_real_name" data-user="evaluator"' in again.text
    operator = TestClient(app)
    log_in(operator, "operator")
    assert 'id="open-real-name"' not in operator.get(f"/cases/{case_id}").text
    refused = operator.post(f"/cases/{case_id}/real-name",
                            data={"purpose": "回访", "csrf_token": csrf_of(operator)})
    assert refused.status_code == 403 and "张三" not in refused.text


def test_a_group_command_goes_to_every_filtered_terminal(app: Any) -> None:
    client = TestClient(app)
    log_in(client, "operator")
    page = client.get("/?q=JN-T")
    assert 'id="group-command"' in page.text
    r = client.post("/commands/group", data={"command": "print_test_page", "f_q": "JN-T",
                                             "csrf_token": csrf_of(client)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/commands/")
    sent = app.state.services.publish
    assert sorted(p[1] for p in sent) == ["JN-T1", "JN-T2"]
    assert {p[2]["name"] for p in sent} == {"print_test_page"}
    detail = client.get(r.headers["location"])
    assert detail.text.count('data-status="pending"') == 2
    viewer = TestClient(app)
    log_in(viewer, "viewer")
    assert 'id="group-command"' not in viewer.get("/").text


def test_acknowledge_a_group_of_alarms_with_one_note(app: Any) -> None:
    client = TestClient(app)
    log_in(client, "operator")
    page = client.get("/alarms?type=paper_out")
    ids = re.findall(r'data-alarm="(\d+)" data-terminal="JN-T\d" data-type="paper_out"',
                     page.text)
    assert len(ids) == 2
    r = client.post("/alarms/ack", data={"ids": ids, "note": "网点统一补纸",
                                         "csrf_token": csrf_of(client),
                                         "back": "/alarms?state=all"},
                    follow_redirects=False)
    assert "ok=" in r.headers["location"]
    after = client.get("/alarms?state=acknowledged&type=paper_out").text
    assert after.count("网点统一补纸") == 2


def test_the_terminal_charts_read_the_health_history(app: Any) -> None:
    client = TestClient(app)
    log_in(client, "viewer")
    day = client.get("/terminals/JN-T1/health.json?hours=24").json()
    assert [p[1] for p in day["series"]["cpu"]] == [12.5]
    assert [p[1] for p in day["series"]["memory"]] == [50.0]
    week = client.get("/terminals/JN-T1/health.json?hours=168").json()
    assert len(week["series"]["disk"]) == 1 and week["from"] < day["from"]
    assert client.get("/terminals/NOPE/health.json").status_code == 404


def test_a_disabled_user_is_logged_out_and_a_region_user_sees_only_their_region(app: Any
                                                                               ) -> None:
    admin = TestClient(app)
    log_in(admin, "admin")
    token = csrf_of(admin)
    r = admin.post("/admin/users", data={"username": "qingdao", "password": PASSWORD,
                                         "role": "viewer", "region": "3702",
                                         "csrf_token": token}, follow_redirects=False)
    assert "ok=" in r.headers["location"]
    qingdao = TestClient(app)
    log_in(qingdao, "qingdao")
    page = qingdao.get("/")
    assert page.status_code == 200 and "JN-T1" not in page.text
    assert qingdao.get("/terminals/JN-T1").status_code == 404
    viewer = TestClient(app)
    log_in(viewer, "viewer")
    assert viewer.get("/", follow_redirects=False).status_code == 200
    admin.post("/admin/users/viewer", data={"action": "disable", "csrf_token": token})
    assert viewer.get("/", follow_redirects=False).status_code == 303
    assert log_in(TestClient(app), "viewer").status_code == 401


def test_every_asset_comes_from_the_server_itself(app: Any) -> None:
    client = TestClient(app)
    log_in(client, "admin")
    seen: set[str] = set()
    for path in ("/", "/terminals/JN-T1", "/alarms", "/ratings", "/cases", "/map",
                 "/admin/users"):
        html = client.get(path).text
        assert not re.search(r'(?:src|href)="(?:https?:)?//', html), path
        seen.update(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
    assert "/static/vendor/echarts/echarts.min.js" in seen
    for asset in seen:
        assert client.get(asset).status_code == 200, asset
    font = client.get("/static/fonts/cjk")
    assert font.status_code == 200 and len(font.content) > 1_000_000
    for licence in ("echarts/LICENSE", "leaflet/LICENSE", "axe-core/LICENSE"):
        assert client.get(f"/static/vendor/{licence}").status_code == 200


def test_the_map_uses_leaflet_with_a_tile_server_and_a_plot_without(app: Any) -> None:
    client = TestClient(app)
    log_in(client, "viewer")
    plain = client.get("/map").text
    assert 'id="coordmap"' in plain and "leaflet.js" not in plain
    features = client.get("/map/terminals.json").json()
    assert {f["id"] for f in features} == {"JN-T1", "JN-T2"}
    assert client.get("/map/terminals.json?service=proof").json() == []
    app.state.console_ui.tile_url = "http://tiles.hall.local/{z}/{x}/{y}.png"
    tiled = client.get("/map").text
    assert 'data-tiles="http://tiles.hall.local/{z}/{x}/{y}.png"' in tiled
    assert "/static/vendor/leaflet/leaflet.js" in tiled

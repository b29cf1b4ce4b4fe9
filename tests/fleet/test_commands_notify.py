"""Remote commands (targets, results, expiry without re-sending), the webhook notifier
against a real local HTTP server, the CLI's token and user creation, and the migrations."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import select

from fleet.auth import Forbidden, Invalid, NotFound, Principal
from fleet.commands import new_key
from fleet.models import CommandTarget
from fleet.notify import Notifier
from fleet.services import alarms, commands, users
from fleet.settings import Notifiers
from fleet.testing import birth, command_result, presence, topic

REPO = Path(__file__).resolve().parents[2]
OPERATOR = Principal("op", "operator")


def _fleet(feed):
    for i, (tid, region, site) in enumerate([("JN-A", "370102", "历下区政务服务中心"),
                                             ("JN-B", "370102", "历下区政务服务中心"),
                                             ("JN-C", "370103", "市中区政务服务中心"),
                                             ("QD-D", "370202", "市南区政务服务中心")]):
        feed(topic(region, tid, "birth"), birth(tid, region, site=site))
        feed(topic(region, tid, "state"), presence(tid, i != 1))


def test_commands_to_a_site_a_region_and_a_filter_with_results_and_expiry(feed, fleet_db):
    _fleet(feed)
    sent: list[tuple[str, str, dict]] = []
    key = new_key()

    def publish(region: str, terminal: str, payload: bytes) -> None:
        sent.append((region, terminal, json.loads(payload)))

    now = feed.now
    with fleet_db.session() as s:
        by_site = commands.send(s, OPERATOR, key, publish, "maintenance", {"on": True},
                                {"site": "历下区政务服务中心"}, now, ttl_s=60)
        by_region = commands.send(s, OPERATOR, key, publish, "restart", {}, {"region": "3701"},
                                  now)
        online = commands.send(s, OPERATOR, key, publish, "flush_outbox", {},
                               {"filter": {"region": "3701", "online": True}}, now)
        with pytest.raises(Forbidden):
            commands.send(s, Principal("v", "viewer"), key, publish, "restart", {},
                          {"terminal": "JN-A"}, now)
        with pytest.raises(NotFound):  # a region-limited operator cannot reach Qingdao
            commands.send(s, Principal("jn", "operator", "3701"), key, publish, "restart", {},
                          {"terminal": "QD-D"}, now)
        # the self-test echo is the ingest's answer only: an operator cannot fake one
        with pytest.raises(Invalid, match="selftest_echo"):
            commands.send(s, OPERATOR, key, publish, "selftest_echo", {"nonce": "n"},
                          {"terminal": "JN-A"}, now)
        ids = (by_site.id, by_region.id, online.id)
    assert [t for _r, t, _p in sent[:2]] == ["JN-A", "JN-B"]
    assert sorted(t for _r, t, _p in sent[2:5]) == ["JN-A", "JN-B", "JN-C"]
    assert sorted(t for _r, t, _p in sent[5:]) == ["JN-A", "JN-C"]
    first = sent[0][2]
    assert first["name"] == "maintenance" and first["expires"] == first["issued"] + 60_000
    assert first["sig"] and first["terminal"] == "JN-A"
    # JN-A answers ok, JN-B refuses; nothing else answers
    feed(topic("370102", "JN-A", "cmd/result"), command_result("JN-A", first["id"], "ok"))
    feed(topic("370102", "JN-B", "cmd/result"), command_result(
        "JN-B", sent[1][2]["id"], "refused", "expired"))
    count = len(sent)
    with fleet_db.session() as s:
        assert commands.expire(s, now + 61_000) == 0  # the 60 s command was answered
        view = commands.get_command(s, OPERATOR, ids[0])
        assert {t["terminal"]: t["status"] for t in view["targets"]} == {
            "JN-A": "done", "JN-B": "refused"}
        assert view["targets"][1]["reason"] == "expired"
    with fleet_db.session() as s:
        assert commands.expire(s, now + 301_000) == 5  # nobody answered the others
        others = {t.status for t in s.scalars(select(CommandTarget).where(
            CommandTarget.command_id.in_(ids[1:])))}
    assert others == {"expired"}
    # a result that arrives after the expiry still says what happened; nothing is re-sent
    late = sent[2]
    feed(topic("370102", late[1], "cmd/result"), command_result(late[1], late[2]["id"]))
    with fleet_db.session() as s:
        assert s.get(CommandTarget, late[2]["id"]).status == "done"
        commands.expire(s, now + 10 * 60_000)
    assert len(sent) == count  # nothing is ever re-sent


class _Hook(BaseHTTPRequestHandler):
    fail_first = 2
    bodies: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if _Hook.fail_first > 0:
            _Hook.fail_first -= 1
            self.send_response(503)
        else:
            _Hook.bodies.append(body)
            self.send_response(204)
        self.end_headers()

    def log_message(self, *_a: object) -> None:
        return


def test_webhook_notifier_retries_with_back_off_until_delivered():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    delays: list[float] = []
    try:
        notifier = Notifier(Notifiers(webhook_url=f"http://127.0.0.1:{server.server_port}/h",
                                      webhook_retries=4, webhook_backoff_s=0.5),
                            sleep=delays.append)
        alarm = {"id": 1, "terminal": "JN-A", "type": "paper_out", "message": "paper out"}
        notifier.submit([alarms.Change("raised", alarm), alarms.Change("acknowledged", alarm)])
        assert notifier.flush(20)
        notifier.stop()
    finally:
        server.shutdown()
    assert _Hook.bodies == [{"event": "raised", "alarm": alarm}]  # ack is not paged
    assert delays == [0.5, 1.0] and notifier.sent == 1


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fleet.cli", *args], input=stdin, text=True,
                          capture_output=True, cwd=REPO, timeout=120)


def test_cli_creates_tokens_and_users_with_hashed_secrets(db_url, fleet_db):
    made = _cli("token", "create", "--db", db_url, "--role", "operator", "--name", "desk",
                "--region", "3701")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("kft_") and "shown once" in made.stderr
    with fleet_db.session() as s:
        who = users.resolve_token(s, secret)
        rows = users.list_tokens(s)
    assert who == Principal("desk", "operator", "3701")
    assert secret not in {r.token_hash for r in rows}
    user = _cli("user", "create", "--db", db_url, "--username", "wang", "--role", "evaluator",
                stdin="correct horse battery\n")
    assert user.returncode == 0, user.stderr
    with fleet_db.session() as s:
        assert users.authenticate(s, "wang", "correct horse battery") == Principal(
            "wang", "evaluator", "", kind="user")
        assert users.authenticate(s, "wang", "wrong password!") is None
        assert users.get_user(s, "wang").password_hash.startswith("$argon2id$")
    short = _cli("user", "create", "--db", db_url, "--username", "li", "--role", "viewer",
                 stdin="short\n")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    bad_role = _cli("token", "create", "--db", db_url, "--role", "root", "--name", "x")
    assert bad_role.returncode == 2 and "viewer" in bad_role.stderr


def test_migrations_match_the_models(fleet_db):
    from alembic import command
    from alembic.util.exc import AutogenerateDiffsDetected

    from fleet.db import alembic_config

    config = alembic_config(fleet_db.url)
    with fleet_db.engine.begin() as conn:
        config.attributes["connection"] = conn
        try:
            command.check(config)
        except AutogenerateDiffsDetected as exc:  # pragma: no cover - the failure message
            pytest.fail(f"models changed without a migration: {exc}")

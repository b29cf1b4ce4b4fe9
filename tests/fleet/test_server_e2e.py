"""End to end: a real terminal reporter (the kiosk's own code) → mosquitto over TLS with the
ACL → ``kiosk-fleet serve`` (uvicorn on a free port, its ingest worker and timer) → the REST
API over HTTP. Remote command round trip, a real-name bad review followed up, offline alarm
after the (shortened) grace."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from nacl.public import PrivateKey

from fleet.commands import save_key
from fleet.keys import save as save_evaluation_key
from fleet.lab import FleetLab
from fleet.testing import ServerProcess
from kiosk.ratings.records import RatingSettings, RealNamePart
from kiosk.telemetry.commands import Command, CommandResult
from kiosk.telemetry.reporter import Reporter

pytestmark = pytest.mark.slow
T1, REGION = "JN-T1", "370102"


def wait(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _publish_raw(lab: FleetLab, terminal: str, messages: list[tuple[str, bytes]]) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    tls = lab.tls(terminal)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{terminal}-raw",
                         protocol=mqtt.MQTTv311)
    client.tls_set(ca_certs=tls["ca_file"], certfile=tls["cert_file"],
                   keyfile=tls["key_file"])
    client.connect("127.0.0.1", lab.port)
    client.loop_start()
    try:
        for topic, payload in messages:
            client.publish(topic, payload, qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def _token(db_url: str, role: str, name: str, region: str = "") -> str:
    from fleet.db import Database
    from fleet.services import users

    db = Database(db_url)
    db.upgrade()
    with db.session() as s:
        secret = users.create_token(s, name, role, region)[1]
    db.dispose()
    return secret


def test_terminal_to_api_over_real_broker_and_server(tmp_path: Path, db_url: str) -> None:
    evaluation = PrivateKey.generate()
    with FleetLab(tmp_path / "lab", terminals=[(T1, REGION)]) as lab:
        save_key(lab.command_key, tmp_path / "cmd.key")
        save_evaluation_key(evaluation, tmp_path / "eval.x25519")
        (tmp_path / "fleet.toml").write_text(
            "timer_s = 0.5\n[alarms]\noffline_grace_s = 2.0\n")
        tokens = {role: _token(db_url, role, role) for role in ("viewer", "operator",
                                                                 "evaluator")}
        pki = lab.identities["fleet"]
        server = ServerProcess([
            "--config", str(tmp_path / "fleet.toml"), "--db", db_url, "--mqtt", lab.url,
            "--ca", str(lab.ca.ca.cert), "--cert", str(pki.cert), "--key", str(pki.key),
            "--command-key", str(tmp_path / "cmd.key"),
            "--evaluation-key", str(tmp_path / "eval.x25519")],
            log_path=tmp_path / "serve.log")
        handled: list[Command] = []

        def handler(command: Command) -> CommandResult | None:
            handled.append(command)
            return CommandResult("ok", "maintenance on")

        reporter = Reporter(lab.kiosk_config(T1, health_interval_s=60), dict,
                            tmp_path / "outbox.db", fleet=lab.fleet_settings(),
                            command_handler=handler, reconnect_delay=(0.1, 0.5),
                            ratings=RatingSettings(evaluation_public_key=base64.b64encode(
                                bytes(evaluation.public_key)).decode()))
        with server:
            http = httpx.Client(base_url=server.url, timeout=10)

            def get(path: str, role: str = "viewer") -> httpx.Response:
                return http.get(path, headers={"Authorization": f"Bearer {tokens[role]}"})

            reporter.start()
            try:
                assert wait(lambda: get("/api/v1/terminals").json()["total"] == 1)
                assert wait(lambda: get(f"/api/v1/terminals/{T1}").json()["online"])
                detail = get(f"/api/v1/terminals/{T1}").json()
                assert detail["region_code"] == REGION and detail["status"] == "online"
                # a real-name bad review → a case; only the evaluator opens the name
                reporter.rate(item_code="370100-SB-001", level="very_dissatisfied",
                              reasons=["等待时间长"], handling_number="H1",
                              real_name=RealNamePart(name="李四", id_number="370102199001011234",
                                                     phone="13900001111"))
                reporter.record_session("proof", "completed", 30.0)
                assert wait(lambda: get("/api/v1/cases").json()["total"] == 1)
                case = get("/api/v1/cases").json()["items"][0]
                assert case["terminal"] == T1 and case["identified"] is True
                url = f"/api/v1/cases/{case['id']}/real-name"
                auth = {"Authorization": f"Bearer {tokens['operator']}"}
                assert http.post(url, headers=auth).status_code == 403
                auth = {"Authorization": f"Bearer {tokens['evaluator']}"}
                opened = http.post(url, headers=auth, json={"purpose": "回访"})
                assert opened.status_code == 200 and opened.json()["name"] == "李四"
                # a signed command to the terminal and its result
                sent = http.post("/api/v1/commands", headers={
                    "Authorization": f"Bearer {tokens['operator']}"}, json={
                    "name": "maintenance", "args": {"on": True}, "target": {"terminal": T1}})
                assert sent.status_code == 201, sent.text
                command = sent.json()
                assert command["counts"] == {"pending": 1}
                assert wait(lambda: get(f"/api/v1/commands/{command['id']}").json()
                            ["targets"][0]["status"] == "done")
                assert [c.name for c in handled] == ["maintenance"]
                stats = get("/api/v1/ingest/stats").json()
                assert stats["invalid"] == 0 and stats["stored"] >= 4
                # garbage through the broker (the terminal's own certificate, another client
                # id) is quarantined and the worker goes on
                _publish_raw(lab, T1, [(f"kiosk/v1/{REGION}/{T1}/rating", b"{not json"),
                                       (f"kiosk/v1/{REGION}/{T1}/health", b"x" * 70_000)])
                assert wait(lambda: get("/api/v1/ingest/stats").json()["invalid"] == 2)
                reasons = get("/api/v1/ingest/stats").json()["quarantine_by_reason"]
                assert reasons == {"bad_json": 1, "oversized": 1}
                reporter.rate(item_code="370100-SB-001", level="satisfied")
                assert wait(lambda: get(f"/api/v1/ratings/summary?terminal={T1}").json()
                            ["rated"] == 2)
                assert any(a["type"] == "invalid_data" for a in get(
                    "/api/v1/alarms?state=active").json()["items"])
            finally:
                reporter.stop()
            # a clean stop says offline; after the 2 s grace the timer raises the alarm
            assert wait(lambda: not get(f"/api/v1/terminals/{T1}").json()["online"])
            assert wait(lambda: any(a["type"] == "offline" and a["terminal"] == T1 for a in
                                    get("/api/v1/alarms?state=active").json()["items"]))
            alarm = next(a for a in get("/api/v1/alarms?state=active").json()["items"]
                         if a["type"] == "offline")
            ack = http.post(f"/api/v1/alarms/{alarm['id']}/ack", headers={
                "Authorization": f"Bearer {tokens['operator']}"})
            assert ack.status_code == 200 and ack.json()["state"] == "acknowledged"
            spec = http.get("/openapi.json").json()  # the API's description, no data
            assert "/api/v1/terminals" in spec["paths"] and "/api/v1/cases/{case_id}" in \
                spec["paths"]

"""帮办's two channels against the real servers: the hall queue server (uvicorn on 127.0.0.1,
staff acknowledging through its API) and the fleet through a real mosquitto with TLS ("accepted"
only after the broker's PUBACK; refused at once with the broker down)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fleet.lab import FleetLab
from fleet.receiver import FleetReceiver
from kiosk.help.service import (
    FleetHelpChannel,
    HallHelpChannel,
    HelpCall,
    HelpState,
    HelpUnreachable,
)
from kiosk.telemetry import Reporter

T1 = "JN-T1"
API = "/api/v1"


def wait(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_hall_channel_follows_the_staff_from_pending_to_done(tmp_path: Path) -> None:
    from kiosk.queue import QueueEngine, QueueHttpServer, QueueSettings
    from kiosk.queue.client import HttpQueueService

    engine = QueueEngine(tmp_path / "hall.sqlite", QueueSettings(synchronous="normal"),
                         key_path=tmp_path / "id.key")
    with QueueHttpServer(engine, speech_dir=tmp_path / "speech") as server:
        key, url = server.hall.add_terminal("K-0001"), server.url
        server.hall.add_staff("li", "password-1", ["1"])
        client = HttpQueueService(server.url, terminal="K-0001", api_key=key, timeout_s=5)
        channel = HallHelpChannel(client)
        call = HelpCall("req-0001")
        server_id = channel.request(call, "A区入口 2号机", "")
        assert channel.request(call, "A区入口 2号机", "") == server_id  # a retry: same call
        assert channel.status(server_id) == (HelpState.ACCEPTED, "")
        with httpx.Client(base_url=server.url, timeout=10) as staff:
            answer = staff.post(f"{API}/session", json={"name": "li", "password": "password-1"})
            staff.headers["X-CSRF-Token"] = answer.json()["csrf"]
            [listed] = staff.get(f"{API}/help").json()
            assert (listed["terminal"], listed["place"]) == ("K-0001", "A区入口 2号机")
            staff.post(f"{API}/help/{server_id}/acknowledge").raise_for_status()
            state, by = channel.status(server_id)
            assert state is HelpState.ACKNOWLEDGED and by
            staff.post(f"{API}/help/{server_id}/done").raise_for_status()
            assert channel.status(server_id)[0] is HelpState.DONE
        client.close()
    engine.close()
    # the server is gone: the channel says so instead of pretending
    with pytest.raises(HelpUnreachable):
        HallHelpChannel(HttpQueueService(url, terminal="K-0001", api_key=key,
                                         timeout_s=1, retries=0)).request(
            HelpCall("req-0002"), "A区入口 2号机", "")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FleetLab]:
    with FleetLab(tmp_path_factory.mktemp("fleet"), terminals=[(T1, "370102")]) as lab:
        yield lab


def test_fleet_channel_is_accepted_only_after_the_broker_has_the_call(lab: FleetLab,
                                                                     tmp_path: Path) -> None:
    receiver = FleetReceiver(lab.url, tmp_path / "fleet.db", client_id="rx-help",
                             **lab.tls("fleet"))
    receiver.start()
    reporter = Reporter(lab.kiosk_config(T1), dict, tmp_path / "outbox.db",
                        fleet=lab.fleet_settings(), reconnect_delay=(0.1, 0.5))
    reporter.start()
    try:
        assert receiver.wait_connected(5) and reporter.wait_connected(5)
        channel = FleetHelpChannel(reporter, T1, unanswered_alarm_s=90, accept_timeout_s=5)
        call = HelpCall("c0ffee01")
        assert channel.request(call, "A区入口 2号机", "") == "c0ffee01"
        assert reporter.outbox.depth == 0  # PUBACK received: the broker has it
        assert wait(lambda: any(r["values"]["name"] == "help"
                                for r in receiver.records("event")))
        [event] = [r for r in receiver.records("event") if r["values"]["name"] == "help"]
        assert event["values"]["data"] == {"help_id": "c0ffee01", "state": "requested",
                                           "place": "A区入口 2号机", "reason": "",
                                           "unanswered_alarm_s": 90}
        lab.broker.stop()
        try:
            assert wait(lambda: not reporter.connected)
            with pytest.raises(HelpUnreachable, match="not connected"):
                channel.request(HelpCall("c0ffee02"), "A区入口 2号机", "")
        finally:
            lab.broker.start()
    finally:
        reporter.stop()
        receiver.stop()

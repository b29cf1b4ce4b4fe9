"""The whole terminal core reporting to a real mosquitto over TLS: a session's rating (with the
real-name part sealed for the evaluation system), session counts, and a signed remote command
that acts on the UI thread."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path

from nacl.public import PrivateKey

from drivers.idcard.samples import RESIDENT
from fleet.commands import signed_command
from fleet.lab import FleetLab
from kiosk.core import build_kiosk
from kiosk.identity.person import Identity
from kiosk.ratings.levels import Level, RatingRecord
from kiosk.ratings.records import open_real_name
from kiosk.session.machine import Phase


def drain_until(kiosk, predicate, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        kiosk.handoff.drain()
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class FakeUi:
    def __init__(self, machine) -> None:
        self.machine = machine
        self.thread = ""

    def enter_maintenance(self) -> None:
        self.thread = threading.current_thread().name
        self.machine.enter_maintenance()

    def exit_maintenance(self) -> None:
        self.machine.exit_maintenance()

    def print_test_page(self) -> None: ...

    def screenshot(self) -> str:
        return "screenshots/shot.png"  # never written (the real app: tests/ui/test_remote_app.py)

    def restart(self) -> None: ...


def test_a_rated_session_and_a_remote_command_over_tls(tmp_path: Path) -> None:
    evaluation_key = PrivateKey.generate()
    with FleetLab(tmp_path, terminals=[("JN-T1", "370102")]) as lab:
        base = lab.kiosk_config("JN-T1")
        config = base.model_copy(update={
            "fleet": lab.fleet_settings(),
            "ratings": base.ratings.model_copy(update={"evaluation_public_key": base64.b64encode(
                bytes(evaluation_key.public_key)).decode()}),
            "storage": base.storage.model_copy(update={"data_dir": tmp_path / "data"})})
        receiver = lab.receiver()
        receiver.start()
        assert receiver.wait_connected(10)
        kiosk = build_kiosk(config)
        notices: list[tuple] = []
        kiosk.catalogue.notify_new_version = lambda serial, version: notices.append(
            (serial, version)) or True
        ui = FakeUi(kiosk.machine)
        kiosk.remote.attach_ui(ui)
        kiosk.start()
        try:
            assert kiosk.reporter.wait_connected(15)
            assert receiver.wait_for(lambda: ((receiver.state("JN-T1", "state") or {}).get(
                "values") or {}).get("online") is True, 10)
            machine = kiosk.machine
            machine.start()
            machine.open_flow("proof")
            person = Identity(source="idcard", name=RESIDENT.name, id_number=RESIDENT.id_number)
            machine.identify(person)
            machine.complete("proof")
            machine.session.handling_number = "DEMO-0001-20261122-000042"
            kiosk.ratings.record(RatingRecord("proof", Level.DISSATISFIED, ("等待时间长",)),
                                 handling_number=machine.session.handling_number,
                                 identity=machine.identity)
            machine.rated()
            machine.end_session("completed")

            assert receiver.wait_for(lambda: receiver.count("rating") == 1, 15)
            rating = receiver.records("rating")[0]
            text = str(rating)
            assert RESIDENT.name not in text and RESIDENT.id_number not in text
            sealed = rating["values"]["real_name_sealed"]
            opened = open_real_name(sealed, evaluation_key)
            assert opened["name"] == RESIDENT.name and opened["id_number"] == RESIDENT.id_number
            assert receiver.wait_for(lambda: receiver.count("event") >= 1, 15)
            assert any("proof" in str(e) for e in receiver.records("event"))

            # the platform announces a new catalogue (retained, shared notice topic)
            from kiosk.catalogue.notice import notice_payload, notice_topic

            receiver._client.publish(notice_topic("kiosk/v1"), notice_payload("2026.11.22-1", 7),
                                     qos=1, retain=True).wait_for_publish(5)
            assert drain_until(kiosk, lambda: notices == [(7, "2026.11.22-1")])

            command = signed_command(lab.command_key, "JN-T1", "maintenance", {"on": True})
            receiver.send_command("370102", "JN-T1", command)
            assert drain_until(kiosk, lambda: machine.phase is Phase.MAINTENANCE)
            assert ui.thread == threading.current_thread().name  # ran on the "UI" thread
            assert receiver.wait_for(lambda: any(
                m["values"].get("status") == "ok" for m in receiver.messages("cmd/result")), 10)

            replay = command  # the same signed bytes again: refused as a replay
            receiver.send_command("370102", "JN-T1", replay)
            assert receiver.wait_for(lambda: any(
                m["values"].get("status") == "refused" for m in receiver.messages("cmd/result")),
                10), receiver.messages("cmd/result")
        finally:
            kiosk.stop()

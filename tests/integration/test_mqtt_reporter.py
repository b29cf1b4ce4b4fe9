"""The reporter against a real mosquitto with TLS: presence, birth, health, ratings, events,
signed remote commands (accepted, refused and reported), outbox while the broker is away."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drivers.base import DeviceHealth, DeviceState
from fleet.commands import build_command, sign, signed_command
from fleet.lab import FleetLab
from fleet.receiver import FleetReceiver
from fleet.schemas import errors
from kiosk.telemetry import Command, CommandResult, Reporter

T1 = "JN-T1"


def wait(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FleetLab]:
    with FleetLab(tmp_path_factory.mktemp("fleet"), terminals=[(T1, "370102")]) as lab:
        yield lab


@pytest.fixture
def receiver(lab: FleetLab, tmp_path: Path) -> Iterator[FleetReceiver]:
    rec = FleetReceiver(lab.url, tmp_path / "fleet.db", client_id=f"rx-{tmp_path.name}"[:23],
                        **lab.tls("fleet"))
    rec.start()
    assert rec.wait_connected(5)
    yield rec
    rec.stop()


class Devices:
    def __init__(self) -> None:
        self.state = DeviceState.READY
        self.paper = "ok"

    def __call__(self) -> dict[str, DeviceHealth]:
        return {"printer": DeviceHealth("printer", "escpos", self.state,
                                        detail={"paper": self.paper})}


@pytest.fixture
def kiosk(lab: FleetLab, tmp_path: Path) -> Iterator[tuple[Reporter, Devices, list[Command]]]:
    devices = Devices()
    seen: list[Command] = []

    def handler(command: Command) -> CommandResult | None:
        seen.append(command)
        if command.name == "maintenance":
            return CommandResult("ok", f"maintenance {'on' if command.args['on'] else 'off'}")
        if command.name == "print_test_page":
            raise RuntimeError("printer cover open")
        return None  # unsupported here

    reporter = Reporter(lab.kiosk_config(T1, health_interval_s=60), devices,
                        tmp_path / "kiosk" / "outbox.db", fleet=lab.fleet_settings(),
                        command_handler=handler, reconnect_delay=(0.1, 0.5))
    reporter.start()
    assert reporter.wait_connected(5)
    yield reporter, devices, seen
    reporter.stop()


def results(receiver: FleetReceiver) -> dict[str, dict]:
    return {r["values"]["command_id"]: r["values"] for r in receiver.records("command_result")}


def test_presence_birth_health_rating_event(kiosk, receiver: FleetReceiver) -> None:
    reporter, devices, _ = kiosk
    assert wait(lambda: receiver.state(T1, "birth") is not None)
    birth = receiver.state(T1, "birth")
    assert errors(birth) == [] and birth["values"]["location"]["region_code"] == "370102"
    assert birth["values"]["config_hash"] == reporter.config.config_hash()
    assert receiver.state(T1, "state")["values"]["online"] is True  # retained
    assert wait(lambda: receiver.state(T1, "health") is not None)
    assert errors(receiver.state(T1, "health")) == []
    record = reporter.rate(item_code="371500-001", level="very_dissatisfied",
                           reasons=["设备故障"], handling_number="H1")
    reporter.record_call_staff(screen="rating")
    reporter.record_session("proof", "completed", 42.3)
    reporter.record_error("printer", "paper jam")
    assert wait(lambda: receiver.count("rating") == 1 and receiver.count("event") == 3)
    got = receiver.records("rating")[0]
    assert got["id"] == record.id and got["values"]["gbt39046_code"] == 5
    assert all(errors(e) == [] for e in receiver.records("event"))
    names = sorted(e["values"]["name"] for e in receiver.records("event"))
    assert names == ["call_staff", "error", "session"]
    # health on change: paper running out is reported at once, not after 60 s
    count = len(receiver.messages("health"))
    devices.paper = "near_end"
    assert wait(lambda: len(receiver.messages("health")) > count, 4)
    health = receiver.messages("health")[-1]["values"]
    assert health["devices"]["printer"]["paper"] == "near_end"
    assert health["sessions"] == {"proof": {"completed": 1}} and health["call_staff"] == 1
    assert health["last_error"] == {**health["last_error"], "source": "printer",
                                    "message": "paper jam"}


def test_signed_commands_run_and_report(kiosk, lab: FleetLab, receiver: FleetReceiver) -> None:
    _reporter, _, seen = kiosk
    key = lab.command_key
    good = build_command(T1, "maintenance", {"on": True}, ttl_s=60)
    receiver.send_command("370102", T1, json.dumps(sign(good, key)).encode())
    assert wait(lambda: good["id"] in results(receiver))
    assert results(receiver)[good["id"]]["status"] == "ok"
    assert [c.name for c in seen] == ["maintenance"] and seen[0].args == {"on": True}

    failing = build_command(T1, "print_test_page")
    unsupported = build_command(T1, "screenshot")
    flush = build_command(T1, "flush_outbox")
    for command in (failing, unsupported, flush):
        receiver.send_command("370102", T1, json.dumps(sign(command, key)).encode())
    assert wait(lambda: {failing["id"], unsupported["id"], flush["id"]} <= set(
        results(receiver)))
    res = results(receiver)
    assert res[failing["id"]]["status"] == "failed"
    assert "cover open" in res[failing["id"]]["detail"]
    assert res[unsupported["id"]]["status"] == "unsupported"
    assert res[flush["id"]]["status"] == "ok" and "before" in res[flush["id"]]["data"]
    assert all(errors(r) == [] for r in receiver.records("command_result"))


def test_bad_commands_are_refused_and_the_refusal_reported(kiosk, lab: FleetLab,
                                                           receiver: FleetReceiver) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _reporter, _, seen = kiosk
    key = lab.command_key
    forged = sign(build_command(T1, "restart"), Ed25519PrivateKey.generate())
    expired = sign(build_command(T1, "restart", now=time.time() - 3600, ttl_s=60), key)
    replay = sign(build_command(T1, "maintenance", {"on": False}), key)
    tampered = sign(build_command(T1, "maintenance", {"on": False}), key)
    tampered["args"] = {"on": True}
    for command in (forged, expired, replay, tampered):
        receiver.send_command("370102", T1, json.dumps(command).encode())
    assert wait(lambda: {forged["id"], expired["id"], replay["id"], tampered["id"]} <= set(
        results(receiver)))
    receiver.send_command("370102", T1, json.dumps(replay).encode())  # the same bytes again
    assert wait(lambda: [r for r in receiver.records("command_result")
                         if r["values"]["command_id"] == replay["id"]
                         and r["values"]["status"] == "refused"])
    res = results(receiver)
    assert res[forged["id"]]["reason"] == "bad_signature"
    assert res[expired["id"]]["reason"] == "expired"
    assert res[tampered["id"]]["reason"] == "bad_signature"
    statuses = sorted(r["values"]["status"] for r in receiver.records("command_result")
                      if r["values"]["command_id"] == replay["id"])
    assert statuses == ["ok", "refused"]  # ran once, the replay refused
    assert [c.args for c in seen] == [{"on": False}]  # only the genuine command ran


def test_ratings_wait_for_the_broker_and_arrive(lab: FleetLab, receiver: FleetReceiver,
                                               tmp_path: Path) -> None:
    reporter = Reporter(lab.kiosk_config(T1), dict, tmp_path / "o.db",
                        fleet=lab.fleet_settings(), reconnect_delay=(0.1, 0.5))
    lab.broker.stop()
    try:
        reporter.start()
        for i in range(20):
            reporter.rate(item_code=f"X{i}", level="satisfied")
        time.sleep(0.3)
        assert not reporter.connected and reporter.outbox.depth == 20
        assert reporter.status()["outbox"]["ratings"] == 20
    finally:
        lab.broker.start()
    try:
        assert receiver.wait_connected(10)
        assert reporter.wait_drained(10)
        assert wait(lambda: receiver.count("rating") == 20, 10)
    finally:
        reporter.stop()
    assert receiver.state(T1, "state")["values"]["reason"] == "shutdown"


def test_disabled_mqtt_keeps_records_and_bad_tls_files_are_named(lab: FleetLab,
                                                                  tmp_path: Path) -> None:
    from config.schema import KioskConfig
    from kiosk.telemetry import ReporterError

    off = KioskConfig.model_validate({"terminal": {"id": T1}})
    reporter = Reporter(off, dict, tmp_path / "off.db")
    reporter.start()
    reporter.rate(item_code="X", level="basic")
    time.sleep(0.1)
    assert reporter.outbox.depth == 1 and not reporter.connected
    reporter.stop()
    bad = lab.kiosk_config(T1).model_copy(update={"mqtt": lab.kiosk_config(T1).mqtt.model_copy(
        update={"cert_file": str(tmp_path / "missing.pem")})})
    with pytest.raises(ReporterError, match=r"mqtt\.cert_file"):
        Reporter(bad, dict, tmp_path / "bad.db").start()


def test_signed_command_helper_round_trip(lab: FleetLab) -> None:
    raw = signed_command(lab.command_key, T1, "set_log_level", {"level": "DEBUG"})
    assert errors(json.loads(raw), "command") == []

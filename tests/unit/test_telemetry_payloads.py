"""Every payload kind, as built by the code, validates against its JSON Schema in schemas/;
broken payloads do not."""

from __future__ import annotations

import base64
import copy
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.public import PrivateKey

from config.schema import KioskConfig
from drivers.base import DeviceHealth, DeviceState
from fleet.commands import signed_command
from fleet.schemas import KINDS, PayloadInvalid, errors, validate
from kiosk.ratings.records import RatingRecordBuilder, RatingSettings, RealNamePart
from kiosk.telemetry import payloads
from kiosk.telemetry.health import HealthCollector, SystemProbe
from kiosk.telemetry.topics import TopicError, Topics, fleet_subscriptions, parse

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2025, 6, 3, 10, 30, 5, tzinfo=TZ)
CONFIG = KioskConfig.model_validate({
    "terminal": {"id": "JN-T1", "region_code": "370102",
                 "opening_hours": [{"days": "mon-fri", "open": "09:00", "close": "17:00"}]}})


def builder() -> RatingRecordBuilder:
    key = base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()
    return RatingRecordBuilder("JN-T1", "370102", settings=RatingSettings(
        evaluation_public_key=key))


def ratings() -> list[dict]:
    b = builder()
    return [payloads.rating(r) for r in (
        b.build(item_code="X1", level="very_satisfied", handling_number="H1", at=AT),
        b.build(item_code="X1", level="very_dissatisfied", reasons=["操作复杂"], text="太难",
                real_name=RealNamePart("张三", "370102199001011234"), at=AT, source="pad"),
        b.build(item_code="X1", level=None, at=AT),
        b.build(item_code="X1", level="basic", handling_number="H1", first_at=AT,
                at=datetime(2025, 6, 4, 9, 0, tzinfo=TZ)),
    )]


def health() -> dict:
    devices = {"printer": DeviceHealth("printer", "escpos", DeviceState.READY,
                                       detail={"paper": "near_end", "firmware": "1.2"}),
               "idcard": DeviceHealth("idcard", "sam", DeviceState.UNAVAILABLE,
                                      "no answer", detail={"sam_id": "05.01"}),
               "scanner": {"state": "disabled", "type": "fake", "reason": "", "since": 0}}
    collector = HealthCollector(lambda: devices, probe=SystemProbe(), extra=lambda: {
        "outbox": {"depth": 3, "ratings": 2, "oldest_age_s": 1.0, "max_records": 100,
                   "alarm": False, "evicted": 0, "refused": 0, "inflight": 1},
        "sessions": {"queue": {"completed": 2}}, "call_staff": 1, "version": "0.1.0"})
    collector.note_error("printer", "paper out at 13812345678")
    values, _sig = collector.collect()
    return payloads.health("JN-T1", values)


def commands() -> list[dict]:
    key = Ed25519PrivateKey.generate()
    return [json.loads(signed_command(key, "JN-T1", name, args)) for name, args in (
        ("restart", {}), ("maintenance", {"on": True}), ("set_log_level", {"level": "DEBUG"}),
        ("screenshot", {}), ("flush_outbox", {}), ("print_test_page", {}),
        ("reload_config", {}))]


def every_payload() -> dict[str, list[dict]]:
    return {
        "presence": [payloads.presence("JN-T1", True, "connected"),
                     payloads.presence("JN-T1", False, "connection lost")],
        "birth": [payloads.birth("JN-T1", payloads.birth_values(CONFIG, "0.1.0"))],
        "health": [health()],
        "rating": ratings(),
        "event": [payloads.event("JN-T1", "call_staff", {"screen": "home"}),
                  payloads.event("JN-T1", "session", {"flow": "queue", "outcome": "completed",
                                                      "duration_s": 42.0}),
                  payloads.event("JN-T1", "error", {"source": "printer", "message": "jam"}),
                  payloads.event("JN-T1", "alarm", {"alarm": "outbox_filling", "depth": 8})],
        "command": commands(),
        "command_result": [
            payloads.command_result("JN-T1", "c1", "restart", "ok"),
            payloads.command_result("JN-T1", "c2", "restart", "refused", reason="expired",
                                    detail="expired 40 s ago")],
    }


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_validates(kind: str) -> None:
    samples = every_payload()[kind]
    assert samples
    for payload in samples:
        # through the wire encoding, as a receiver sees it
        decoded = payloads.decode(payloads.encode(payload)) if kind != "command" else payload
        assert errors(decoded) == [], decoded


def test_every_payload_has_schema_version_and_timestamp() -> None:
    for kind, samples in every_payload().items():
        for payload in samples:
            assert payload["schema"] == f"kiosk.{kind}" and payload["v"] == 1
            stamp = payload.get("ts") or payload.get("issued")
            assert isinstance(stamp, int) and stamp > 1_600_000_000_000


def test_health_carries_no_personal_data_and_the_facts() -> None:
    values = health()["values"]
    assert "13812345678" not in json.dumps(values, ensure_ascii=False)
    assert values["devices"]["printer"]["paper"] == "near_end"
    assert values["devices"]["idcard"]["state"] == "unavailable"
    assert values["outbox"]["depth"] == 3 and values["memory"]["total_mb"] > 0
    assert values["disk"]["total_gb"] > 0


BROKEN = [
    ("rating", lambda p: p["values"].update(level="great"), "level"),
    ("rating", lambda p: p["values"].update(level="dissatisfied", reasons=[],
                                            gbt39046_code=4, provincial_code=2), "reasons"),
    ("rating", lambda p: p["values"].update(channel=1), "channel"),
    ("rating", lambda p: p["values"].update(level="not_rated"), "gbt39046_code"),
    ("rating", lambda p: p.pop("ts"), "ts"),
    ("rating", lambda p: p.update(v=2), "v2"),
    ("presence", lambda p: p["values"].update(online="yes"), "online"),
    ("health", lambda p: p["values"]["devices"]["printer"].update(state="fine"), "state"),
    ("event", lambda p: p["values"].update(name="coffee"), "name"),
    ("command", lambda p: p.update(name="format_disk"), "name"),
    ("command_result", lambda p: p["values"].update(status="refused", reason=""), "reason"),
    ("birth", lambda p: p["values"]["location"].update(region_code="37"), "region"),
]


@pytest.mark.parametrize(("kind", "breaker", "label"), BROKEN, ids=[b[2] for b in BROKEN])
def test_broken_payloads_are_rejected(kind: str, breaker, label: str) -> None:
    payload = copy.deepcopy(every_payload()[kind][0])
    breaker(payload)
    with pytest.raises(PayloadInvalid):
        validate(payload, kind)


def test_unknown_schema_names_are_rejected() -> None:
    assert "not one of" in errors({"schema": "kiosk.pizza", "v": 1})[0]
    assert errors([1])


def test_event_data_is_scrubbed_and_names_checked() -> None:
    event = payloads.event("JN-T1", "error", {"source": "x", "message": "id 370102199001011234"})
    assert "370102199001011234" not in json.dumps(event)
    with pytest.raises(ValueError, match="unknown event"):
        payloads.event("JN-T1", "coffee")


def test_topics_contract() -> None:
    topics = Topics.from_config(CONFIG)
    assert topics.rating == "kiosk/v1/370102/JN-T1/rating"
    assert topics.result == "kiosk/v1/370102/JN-T1/cmd/result"
    assert parse("kiosk/v1/370102/JN-T1/cmd/result") == ("370102", "JN-T1", "cmd/result")
    with pytest.raises(TopicError):
        parse("kiosk/v1/370102/JN-T1/secrets")
    with pytest.raises(TopicError):
        Topics("kiosk/v1", "370102", "JN/T1")
    assert "kiosk/v1/+/+/rating" in fleet_subscriptions()

"""Against a real mosquitto with TLS and the generated ACL: a terminal's credentials cannot
publish to another terminal's topics or read its commands; nobody gets in without a
certificate from the fleet CA."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from fleet.broker import acl_text
from fleet.lab import FleetLab
from fleet.pki import TestCA

T1, T2 = "JN-T1", "JN-T2"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FleetLab]:
    with FleetLab(tmp_path_factory.mktemp("acl"), terminals=[(T1, "370102"),
                                                              (T2, "370103")]) as lab:
        yield lab


class Client:
    """A bare MQTT v5 client with one identity (v5 so the broker can say "not authorised")."""

    def __init__(self, lab: FleetLab, identity: str | None, client_id: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.pubacks: dict[int, int] = {}
        self.subacks: list[list[int]] = []
        self.connect_rc: int | None = None
        self._event = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5)
        tls = lab.tls(identity) if identity else {"ca_file": str(lab.ca.ca.cert)}
        self.client.tls_set(ca_certs=tls["ca_file"], certfile=tls.get("cert_file"),
                            keyfile=tls.get("key_file"), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, m.payload))
        self.client.on_publish = lambda _c, _u, mid, rc, _p: self.pubacks.__setitem__(
            mid, rc.value)
        self.client.on_subscribe = lambda _c, _u, _mid, rcs, _p: self.subacks.append(
            [rc.value for rc in rcs])
        self.lab = lab

    def _on_connect(self, _c, _u, _f, rc, _p) -> None:
        self.connect_rc = rc.value
        self._event.set()

    def connect(self, timeout: float = 5.0) -> bool:
        try:
            self.client.connect("127.0.0.1", self.lab.port, keepalive=10)
        except (ssl.SSLError, OSError):
            return False
        self.client.loop_start()
        return self._event.wait(timeout) and self.connect_rc == 0

    def publish(self, topic: str, payload: bytes = b"{}") -> int:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(5)
        deadline = time.monotonic() + 5
        while info.mid not in self.pubacks and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.pubacks[info.mid]

    def subscribe(self, topic: str) -> list[int]:
        count = len(self.subacks)
        self.client.subscribe(topic, qos=1)
        deadline = time.monotonic() + 5
        while len(self.subacks) == count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.subacks[-1]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def clients(lab: FleetLab) -> Iterator[dict[str, Client]]:
    made = {"t1": Client(lab, T1, T1), "t2": Client(lab, T2, T2),
            "fleet": Client(lab, "fleet", "fleet-acl-test")}
    for client in made.values():
        assert client.connect()
    assert made["fleet"].subscribe("kiosk/v1/#") == [1]
    yield made
    for client in made.values():
        client.close()


NOT_AUTHORISED = 0x87


def test_a_terminal_cannot_write_another_terminals_topics(clients) -> None:
    t1, fleet = clients["t1"], clients["fleet"]
    other = "kiosk/v1/370103/JN-T2"
    for leaf in ("rating", "event", "health", "state", "birth", "cmd/result"):
        assert t1.publish(f"{other}/{leaf}", b'{"forged": true}') == NOT_AUTHORISED, leaf
    # nor pretend to be the fleet, nor write its own command topic, nor outside the tree
    assert t1.publish(f"{other}/cmd") == NOT_AUTHORISED
    assert t1.publish("kiosk/v1/370102/JN-T1/cmd") == NOT_AUTHORISED
    assert t1.publish("kiosk/v1/370102/JN-T2/rating") == NOT_AUTHORISED  # T2 id, T1's region
    # its own topics work: a control message proves the fleet subscription is live
    assert t1.publish("kiosk/v1/370102/JN-T1/rating", b'{"control": 1}') == 0
    assert wait(lambda: any(t.endswith("JN-T1/rating") for t, _ in fleet.messages))
    time.sleep(0.2)
    assert not [t for t, _ in fleet.messages if "JN-T2" in t]
    assert not [p for _t, p in fleet.messages if b"forged" in p]


def test_a_terminal_cannot_read_another_terminals_commands(clients, lab: FleetLab) -> None:
    t1, t2, fleet = clients["t1"], clients["t2"], clients["fleet"]
    # mosquitto 2.0 may grant the subscription; its read ACL filters every delivery
    t1.subscribe("kiosk/v1/370103/JN-T2/cmd")
    t1.subscribe("kiosk/v1/#")  # a wildcard grab: whatever the SUBACK, nothing leaks
    t1.subscribe("kiosk/v1/+/+/cmd")
    assert t2.subscribe("kiosk/v1/370103/JN-T2/cmd") == [1]
    assert t1.subscribe("kiosk/v1/370102/JN-T1/cmd") == [1]
    assert fleet.publish("kiosk/v1/370103/JN-T2/cmd", b'{"for": "T2"}') == 0
    assert fleet.publish("kiosk/v1/370102/JN-T1/cmd", b'{"for": "T1"}') == 0
    assert wait(lambda: (("kiosk/v1/370103/JN-T2/cmd", b'{"for": "T2"}') in t2.messages))
    assert wait(lambda: any(p == b'{"for": "T1"}' for _t, p in t1.messages))
    time.sleep(0.2)
    assert not [p for _t, p in t1.messages if b"T2" in p]
    # and T1 reads nothing of T2's uplink either
    assert t2.publish("kiosk/v1/370103/JN-T2/rating", b'{"secret": 2}') == 0
    time.sleep(0.2)
    assert not [p for _t, p in t1.messages if b"secret" in p]


def test_no_certificate_or_a_foreign_ca_gets_nothing(lab: FleetLab, tmp_path: Path) -> None:
    anonymous = Client(lab, None, "anon")
    assert not anonymous.connect(timeout=1.5)
    anonymous.close()
    rogue_ca = TestCA(tmp_path / "rogue")
    rogue_ca.init()
    rogue = rogue_ca.client(T2)
    client = Client(lab, None, "rogue")
    client.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="rogue",
                                protocol=mqtt.MQTTv5)
    client.client.on_connect = client._on_connect
    client.client.tls_set(ca_certs=str(lab.ca.ca.cert), certfile=str(rogue.cert),
                          keyfile=str(rogue.key), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    assert not client.connect(timeout=1.5)
    client.close()


def test_the_reporter_with_borrowed_credentials_delivers_nothing(lab: FleetLab,
                                                                  tmp_path: Path) -> None:
    """A kiosk configured as T2 but holding T1's certificate cannot report as T2."""
    from kiosk.telemetry.reporter import Reporter

    receiver = lab.receiver("acl-fleet.db", client_id="acl-receiver")
    receiver.start()
    assert receiver.wait_connected(5)
    config = lab.kiosk_config(T2, identity=T1)
    reporter = Reporter(config, dict, tmp_path / "outbox.db", fleet=lab.fleet_settings())
    reporter.start()
    try:
        assert reporter.wait_connected(5)
        reporter.rate(item_code="X", level="satisfied")
        assert reporter.wait_drained(5)  # the broker acknowledges (MQTT 3.1.1) and drops it
        time.sleep(0.3)
        assert receiver.count("rating") == 0
        assert receiver.state(T2, "state") is None and receiver.state(T2, "birth") is None
    finally:
        reporter.stop()


def test_generated_acl_shape() -> None:
    from fleet.broker import TerminalEntry

    text = acl_text([TerminalEntry("JN-T1", "370102")], ["fleet"])
    assert "user JN-T1\ntopic write kiosk/v1/370102/JN-T1/state" in text
    assert "topic read kiosk/v1/370102/JN-T1/cmd" in text
    assert "topic write kiosk/v1/+/+/cmd" in text
    block = text.split("user JN-T1\n")[1].split("\n\n")[0].splitlines()
    assert len(block) == 8 and all(line.startswith("topic ") for line in block)
    assert "topic read kiosk/v1/catalogue/notice" in block  # the one shared topic: read only
    assert not [line for line in block if "#" in line or "+" in line or "readwrite" in line]
    with pytest.raises(ValueError, match="ID@REGION"):
        TerminalEntry.parse("JN-T1")


def wait(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()

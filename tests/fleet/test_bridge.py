"""One mosquitto per city bridged to the centre, both configs from ``fleet.broker``: a
terminal's rating published at the city reaches the central fleet subscriber, a command
from the centre reaches the terminal, and the bridge cannot speak for another region."""

from __future__ import annotations

import json
import ssl
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet.broker import (
    BridgeEntry,
    BridgeTo,
    BrokerSpec,
    MosquittoProcess,
    TerminalEntry,
    free_port,
)
from fleet.pki import TestCA
from fleet.testing import rating

T, REGION = "QD-SN-0001", "370202"


def _client(ca: TestCA, name: str, port: int, on_message=None) -> tuple[mqtt.Client,
                                                                          threading.Event]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv311)
    client.tls_set(ca_certs=str(ca.ca.cert), certfile=str(ca.dir / f"{name}.pem"),
                   keyfile=str(ca.dir / f"{name}.key"), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    connected = threading.Event()
    client.on_connect = lambda *a: connected.set()
    if on_message is not None:
        client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client, connected


def _wait(pred, timeout=20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not pred():
        time.sleep(0.05)
    return pred()


def test_city_broker_bridged_to_the_centre(tmp_path: Path) -> None:
    ca = TestCA(tmp_path / "pki")
    ca.init()
    server = ca.server()
    for name in ("fleet", "bridge-qingdao", T, "QD-SN-0002"):
        ca.client(name)
    centre = MosquittoProcess(BrokerSpec(
        tmp_path / "centre", port=free_port(), ca_file=ca.ca.cert, cert_file=server.cert,
        key_file=server.key, bridge_users=[BridgeEntry("bridge-qingdao", (REGION,))]))
    centre.start()
    city = MosquittoProcess(BrokerSpec(
        tmp_path / "city", port=free_port(), ca_file=ca.ca.cert, cert_file=server.cert,
        key_file=server.key, terminals=[TerminalEntry(T, REGION),
                                        TerminalEntry("QD-SN-0002", "370203")],
        bridge_to=BridgeTo("bridge-qingdao", "127.0.0.1", centre.spec.port, ca.ca.cert,
                           ca.dir / "bridge-qingdao.pem", ca.dir / "bridge-qingdao.key")))
    clients: list[mqtt.Client] = []
    try:
        city.start()
        got: list[tuple[str, dict]] = []
        fleet, ok = _client(ca, "fleet", centre.spec.port, lambda c, u, m: got.append(
            (m.topic, json.loads(m.payload))))
        clients.append(fleet)
        assert ok.wait(10)
        fleet.subscribe("kiosk/v1/#", 1)
        commands: list[bytes] = []
        term, ok = _client(ca, T, city.spec.port, lambda c, u, m: commands.append(m.payload))
        clients.append(term)
        assert ok.wait(10)
        term.subscribe(f"kiosk/v1/{REGION}/{T}/cmd", 1)
        # the bridge comes up on its own (restart_timeout): keep publishing until it carries
        record = rating(T, REGION)
        assert _wait(lambda: (term.publish(f"kiosk/v1/{REGION}/{T}/rating", json.dumps(record),
                                           qos=1) and False) or any(
            p.get("id") == record["id"] for _t, p in got), 30)
        fleet.publish(f"kiosk/v1/{REGION}/{T}/cmd", b'{"signed": "command"}', qos=1)
        assert _wait(lambda: commands == [b'{"signed": "command"}'] or len(commands) > 1)
        assert commands[0] == b'{"signed": "command"}'
        # a terminal of a region the bridge is not allowed for stays at the city
        other, ok = _client(ca, "QD-SN-0002", city.spec.port)
        clients.append(other)
        assert ok.wait(10)
        foreign = rating("QD-SN-0002", "370203")
        other.publish("kiosk/v1/370203/QD-SN-0002/rating", json.dumps(foreign), qos=1)
        marker = rating(T, REGION)
        term.publish(f"kiosk/v1/{REGION}/{T}/rating", json.dumps(marker), qos=1)
        assert _wait(lambda: any(p.get("id") == marker["id"] for _t, p in got))
        assert not any(p.get("id") == foreign["id"] for _t, p in got)
    finally:
        for c in clients:
            c.disconnect()
            c.loop_stop()
        city.stop()
        centre.stop()

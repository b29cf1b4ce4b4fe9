"""A retained MQTT notice (real mosquitto on 127.0.0.1) makes the terminal fetch a new bundle.

The publisher retains the notice *before* the terminal connects (a terminal that was offline),
the terminal's subscriber hands it to ``CatalogueRuntime.notify_new_version``, and the syncer
downloads the new version from the real HTTP server at once instead of at the next poll.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from config.catalogue import CatalogueSettings
from kiosk.catalogue.bundle import generate_key, public_key_text
from kiosk.catalogue.notice import notice_payload, notice_topic, parse_notice
from kiosk.catalogue.runtime import build_catalogue
from kiosk.catalogue.samples import numbered_bundle, numbered_version, sample_catalogue
from kiosk.catalogue.server import BundleServer

KEY = generate_key()
PREFIX = "kiosk/v1"


@pytest.fixture
def broker(tmp_path: Path, reserved_port: int):  # type: ignore[no-untyped-def]
    port = reserved_port  # mosquitto cannot report an OS-assigned TCP port: hold one for it
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("mosquitto did not start")
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr:
            process.stderr.close()


def client(name: str) -> mqtt.Client:
    return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name)


def test_retained_notice_triggers_a_sync(broker: int, tmp_path: Path) -> None:
    base = sample_catalogue()
    embedded = tmp_path / "embedded.json"
    embedded.write_bytes(numbered_bundle(base, 1, KEY))
    v3 = numbered_version(base, 3)
    with BundleServer() as server:
        server.publish(numbered_bundle(base, 1, KEY))
        settings = CatalogueSettings(url=server.url, public_keys=[public_key_text(KEY)],
                                     poll_interval_s=3600, timeout_s=5)
        runtime = build_catalogue(settings, tmp_path / "data", embedded=embedded)
        runtime.start()  # polls once, then waits an hour
        try:
            # the platform publishes version 3 and retains the notice while we are "offline"
            server.publish(numbered_bundle(base, 3, KEY))
            publisher = client("platform")
            publisher.connect("127.0.0.1", broker)
            publisher.loop_start()
            info = publisher.publish(notice_topic(PREFIX), notice_payload(v3.version, v3.serial),
                                     qos=1, retain=True)
            info.wait_for_publish(5)
            publisher.loop_stop()
            publisher.disconnect()

            received = threading.Event()

            def on_message(_client, _userdata, message) -> None:  # type: ignore[no-untyped-def]
                notice = parse_notice(message.payload)
                runtime.notify_new_version(notice.serial, notice.version)
                received.set()

            terminal = client("JN-LX-0001")
            terminal.on_message = on_message
            terminal.on_connect = lambda c, *_: c.subscribe(notice_topic(PREFIX), qos=1)
            terminal.connect("127.0.0.1", broker)
            terminal.loop_start()
            try:
                assert received.wait(5), "the retained notice did not arrive"
                deadline = time.monotonic() + 5
                while runtime.service.pending is None and time.monotonic() < deadline:
                    time.sleep(0.02)
            finally:
                terminal.loop_stop()
                terminal.disconnect()
            assert runtime.service.pending is not None
            assert runtime.service.pending.version == v3.version
            runtime.between_sessions()
            assert runtime.birth_record()["version"] == v3.version
        finally:
            runtime.stop()


"""The MQTT ingest worker: a shared subscription, a persistent session, manual acknowledgement.

Several workers with the same ``share_group`` split the terminals' traffic
(``$share/<group>/kiosk/v1/+/+/<leaf>``: each message goes to one member). Each worker has
its own fixed client id and a persistent session (``clean_session = false``), so the broker
keeps its share of QoS 1 messages while it is away and sends again what it had not
acknowledged. A message is acknowledged only after the batch holding it is committed
(paho ``manual_ack``): a worker killed mid-batch loses nothing, and the record ids make the
repeat harmless.

Retained state (presence, birth, health) is not delivered to shared subscriptions, so at
start a short-lived snapshot client reads the retained topics once.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet import selftest_echo
from fleet.ingest import BatchResult, Ingestor, Message
from fleet.settings import Settings
from kiosk.telemetry.topics import UP_LEAVES

log = logging.getLogger(__name__)
STATE_LEAVES = ("state", "birth", "health")


def mqtt_client(settings: Settings, client_id: str, *, clean: bool, manual_ack: bool = False
                ) -> tuple[mqtt.Client, str, int]:
    parts = urlsplit(settings.mqtt)
    tls = parts.scheme == "mqtts"
    host, port = parts.hostname or "127.0.0.1", parts.port or (8883 if tls else 1883)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean,
                         protocol=mqtt.MQTTv311, manual_ack=manual_ack)
    client.reconnect_delay_set(min_delay=0.2, max_delay=5)  # type: ignore[arg-type]
    client.max_inflight_messages_set(100)
    client.max_queued_messages_set(0)
    if tls:
        client.tls_set(ca_certs=settings.mqtt_ca or None, certfile=settings.mqtt_cert or None,
                       keyfile=settings.mqtt_key or None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    return client, host, port


class IngestWorker:
    def __init__(self, settings: Settings, ingestor: Ingestor, *,
                 on_batch: Callable[[BatchResult], None] | None = None) -> None:
        self.settings = settings
        self.ingestor = ingestor
        self.on_batch = on_batch
        self._queue: queue.Queue[Message] = queue.Queue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self.client, self.host, self.port = mqtt_client(settings, settings.worker, clean=False,
                                                        manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self._thread = threading.Thread(target=self._run, name="ingest-db", daemon=True)
        self.batches = 0
        self.failures = 0

    # -- MQTT thread
    def topics(self) -> list[str]:
        share = f"$share/{self.settings.share_group}/"
        return [f"{share}{self.settings.topic_prefix}/+/+/{leaf}" for leaf in UP_LEAVES]

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("ingest worker %s refused by the broker: %s", self.settings.worker,
                      reason)
            return
        client.subscribe([(t, 1) for t in self.topics()])
        self._connected.set()
        log.info("ingest worker %s connected to %s:%s", self.settings.worker, self.host,
                 self.port)

    def _on_disconnect(self, *_a: Any) -> None:
        self._connected.clear()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: Any) -> None:
        self._queue.put(Message(msg.topic, bytes(msg.payload), int(time.time() * 1000),
                                bool(msg.retain), int(msg.qos), int(msg.mid)))

    # -- DB thread
    def _run(self) -> None:
        size, wait = self.settings.batch_size, self.settings.batch_wait_s
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            deadline = time.monotonic() + wait
            while len(batch) < size:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch.append(self._queue.get(timeout=left))
                except queue.Empty:
                    break
            self._handle(batch)

    def _handle(self, batch: list[Message]) -> None:
        while not self._stop.is_set():
            try:
                result = self.ingestor.process(batch)
                break
            except Exception:  # the DB is away: keep the batch, do not ack, try again
                self.failures += 1
                log.exception("ingest batch of %d failed; retrying", len(batch))
                self._stop.wait(1.0)
        else:
            return
        for msg in batch:
            if msg.qos > 0:
                self.client.ack(msg.mid, msg.qos)
        self.batches += 1
        selftest_echo.answer(self.client, self.settings, batch)  # after the commit
        if self.on_batch is not None:
            try:
                self.on_batch(result)
            except Exception:
                log.exception("on_batch callback failed")

    # -- lifecycle
    def start(self) -> None:
        self.snapshot()
        self._thread.start()
        self.client.connect_async(self.host, self.port, keepalive=15)
        self.client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self.client.disconnect()
        self.client.loop_stop()
        self._thread.join(10)

    def snapshot(self, quiet_s: float = 1.0, timeout: float = 10.0) -> int:
        """Read the retained presence, birth and health once (not delivered to shared
        subscriptions). Returns how many retained messages were stored."""
        got: list[Message] = []
        done = threading.Event()
        last = [time.monotonic()]
        client, host, port = mqtt_client(self.settings, self.settings.worker + "-snapshot",
                                         clean=True)

        def on_connect(c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if reason.is_failure:
                done.set()
                return
            c.subscribe([(f"{self.settings.topic_prefix}/+/+/{leaf}", 0)
                         for leaf in STATE_LEAVES])

        def on_message(_c: mqtt.Client, _u: Any, msg: Any) -> None:
            if msg.retain:
                last[0] = time.monotonic()
                got.append(Message(msg.topic, bytes(msg.payload), int(time.time() * 1000),
                                   True, 0, 0))

        client.on_connect = on_connect
        client.on_message = on_message
        try:
            client.connect(host, port, keepalive=10)
        except OSError as exc:
            log.warning("retained snapshot skipped: %s", exc)
            return 0
        client.loop_start()
        began = time.monotonic()
        while time.monotonic() - began < timeout and not done.is_set():
            if time.monotonic() - last[0] > quiet_s and time.monotonic() - began > quiet_s:
                break
            time.sleep(0.05)
        client.disconnect()
        client.loop_stop()
        for start in range(0, len(got), 500):
            self.ingestor.process(got[start:start + 500])
        return len(got)

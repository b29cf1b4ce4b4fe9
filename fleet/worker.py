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
        # timing counters (logged at stop): where a worker's time goes
        self.messages = 0
        self.process_s = 0.0  # validating and storing, commit included
        self.ack_s = 0.0  # acknowledging to the broker after the commit
        self.idle_s = 0.0  # waiting for a first message
        self.process_cpu_s = 0.0  # CPU time of the storing (the rest of the process's CPU
        self._cpu_start = time.process_time()  # is MQTT: TLS, packets, acknowledgements)

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
        while not self._stop.is_set():
            began = time.perf_counter()
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            finally:
                self.idle_s += time.perf_counter() - began
            self._handle(self._collect(first))

    def _collect(self, first: Message) -> list[Message]:
        """A batch: up to ``batch_size`` messages, within ``batch_wait_s``, closed early
        once nothing has come for ``batch_idle_s``. The broker sends only so many
        unacknowledged messages (its in-flight window) and this worker acknowledges after
        the commit, so waiting for a batch the window cannot fill would only stall."""
        size, idle = self.settings.batch_size, self.settings.batch_idle_s
        batch = [first]
        deadline = time.monotonic() + self.settings.batch_wait_s
        while len(batch) < size:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except queue.Empty:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=min(left, idle)))
            except queue.Empty:
                break
        return batch

    def _handle(self, batch: list[Message]) -> None:
        while not self._stop.is_set():
            began, cpu = time.perf_counter(), time.thread_time()
            try:
                result = self.ingestor.process(batch)
                self.process_s += time.perf_counter() - began
                self.process_cpu_s += time.thread_time() - cpu
                break
            except Exception:  # the DB is away: keep the batch, do not ack, try again
                self.failures += 1
                log.exception("ingest batch of %d failed; retrying", len(batch))
                self._stop.wait(1.0)
        else:
            return
        began = time.perf_counter()
        for msg in batch:
            if msg.qos > 0:
                self.client.ack(msg.mid, msg.qos)
        self.ack_s += time.perf_counter() - began
        self.batches += 1
        self.messages += len(batch)
        self._after_commit(batch, result)

    def _after_commit(self, batch: list[Message], result: BatchResult) -> None:
        """Post-commit hooks, all here: the batch is stored for good and acknowledged.
        The self-test echo (``fleet/selftest_echo.py``) answers fresh ``selftest`` events on
        the terminals' ``cmd`` topics; ``on_batch`` (``fleet.server.after_commit``) sends the
        alarm notices."""
        selftest_echo.answer(self.client, self.settings, batch)
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
        log.info("ingest worker %s: %s", self.settings.worker, self.timing())

    def timing(self) -> str:
        per = self.messages / self.batches if self.batches else 0
        cpu = time.process_time() - self._cpu_start
        return (f"{self.messages} messages in {self.batches} batches ({per:.0f} each); "
                f"storing {self.process_s:.2f} s ({self.process_cpu_s:.2f} s CPU), "
                f"acknowledging {self.ack_s:.2f} s, idle {self.idle_s:.2f} s; process CPU "
                f"{cpu:.2f} s")

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

"""The MQTT reporter: presence, birth, health, ratings and events up; signed commands down.

The composition root builds one :class:`Reporter`, calls :meth:`Reporter.start` and, on the
way out, :meth:`Reporter.stop`. Everything else is thread-safe and never blocks on the
network: ``record_rating`` and ``record_event`` only write the durable outbox (a few
milliseconds: one synced SQLite commit) and wake the sender.

Threads (all stopped and joined by :meth:`stop`):

* paho's network loop (``loop_start``): connects with back-off (``reconnect_delay``), keeps
  the session, hands PUBACKs and commands over to the two threads below;
* ``telemetry-send``: publishes outbox records at QoS 1 up to ``inflight_window`` at a time,
  deletes each only after its PUBACK, publishes health every ``mqtt.health_interval_s`` and
  at once when a device's state, paper, the outbox alarm or the last error changes;
* ``telemetry-cmd``: verifies commands (:mod:`kiosk.telemetry.commands`), runs the handler,
  puts the result (or the refusal) in the outbox for the result topic.

Delivery: at least once on the wire, exactly once after the receiver's dedupe by record id.
A record whose PUBACK was lost in a disconnect is re-sent by paho on reconnect (same client),
or from the outbox after a restart.
"""

from __future__ import annotations

import collections
import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.outbox import Outbox, OutboxFull
from kiosk.ratings.records import FullRatingRecord, RatingRecordBuilder, RatingSettings
from kiosk.telemetry import payloads
from kiosk.telemetry.commands import (
    Command,
    CommandHandler,
    CommandRefused,
    CommandResult,
    CommandVerifier,
    NonceStore,
)
from kiosk.telemetry.health import HealthCollector, HealthProvider
from kiosk.telemetry.settings import FleetSettings, ed25519_public_key
from kiosk.telemetry.topics import Topics

log = logging.getLogger(__name__)

_ERROR_REPEAT_S = 60.0  # the same error from the same source is reported once a minute


class ReporterError(Exception):
    """The reporter cannot start as configured (message names the config key to fix)."""


def package_version() -> str:
    try:
        return metadata.version("aishandong-kiosk")
    except metadata.PackageNotFoundError:
        return "0.0.0+unknown"


class Reporter:
    """Telemetry of one terminal (see the module docstring).

    ``config`` is the ``KioskConfig``; ``health_provider`` returns ``{kind: DeviceHealth}``
    (``DeviceManager.health``); ``outbox_path`` is the SQLite file (the nonce store of
    commands goes beside it). ``fleet`` and ``ratings`` default to ``config.fleet`` and
    ``config.ratings`` once those sections are mounted.
    """

    def __init__(self, config: Any, health_provider: HealthProvider, outbox_path: str | Path,
                 *, command_handler: CommandHandler | None = None,
                 fleet: FleetSettings | None = None, ratings: RatingSettings | None = None,
                 version: str | None = None, capabilities: Mapping[str, Any] | None = None,
                 reconnect_delay: tuple[float, float] = (1.0, 30.0),
                 resend_after_s: float = 60.0) -> None:
        self.config = config
        self.mqtt_config = config.mqtt
        self.fleet: FleetSettings = fleet or getattr(config, "fleet", None) or FleetSettings()
        self.terminal = config.terminal.id
        self.topics = Topics.from_config(config)
        self.version = version or package_version()
        self.capabilities = dict(capabilities or {})
        self.reconnect_delay = reconnect_delay
        self.resend_after_s = resend_after_s
        self.outbox_path = Path(outbox_path)
        self.outbox = Outbox(self.outbox_path, max_records=self.fleet.outbox_max_records,
                             alarm_fraction=self.fleet.outbox_alarm_fraction,
                             on_alarm=self._on_outbox_alarm)
        self.builder = RatingRecordBuilder.from_config(config, ratings)
        self.collector = HealthCollector(health_provider, extra=self._health_extra)
        self._nonces = NonceStore(self.outbox_path.with_name(self.outbox_path.stem
                                                             + "-nonces.db"))
        self._verifier = CommandVerifier(
            self.terminal, [ed25519_public_key(k) for k in self.fleet.command_keys],
            self._nonces, max_ttl_s=self.fleet.command_max_ttl_s,
            skew_s=self.fleet.clock_skew_s)
        self._handler = command_handler
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()
        #: extra topics the terminal reads (topic -> callback(payload), on the MQTT thread)
        self._subscriptions: dict[str, Callable[[bytes], None]] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._acked: collections.deque[int] = collections.deque()
        self._commands: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        # owned by the send thread
        self._inflight: dict[int, tuple[str, float]] = {}
        self._cursor = 0
        self._inflight_count = 0  # mirror for other threads
        self._counts_lock = threading.Lock()
        self._sessions: dict[str, dict[str, int]] = {}
        self._call_staff = 0
        self._reconnects = 0
        self._connected_since: float | None = None
        self._last_errors: dict[str, float] = {}
        self._started_ms = payloads.now_ms()
        self._health_now = threading.Event()
        self._published = 0

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the threads and connect in the background (never blocks on the network).

        With ``mqtt.enabled = false`` nothing connects; records still wait in the outbox.
        """
        if self._threads:
            return
        self._stop.clear()
        if self.mqtt_config.enabled:
            self._client = self._build_client()
            self._client.connect_async(self.mqtt_config.host, self.mqtt_config.port,
                                       keepalive=self.mqtt_config.keepalive_s)
            self._client.loop_start()
        else:
            log.info("telemetry: mqtt.enabled = false; ratings and events stay in the outbox")
        for name, target in (("telemetry-send", self._send_loop),
                             ("telemetry-cmd", self._command_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Say offline (retained), disconnect, stop and join every thread, close the files."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
            if thread.is_alive():  # pragma: no cover - reported, not hidden
                log.error("telemetry thread %s did not stop in %.0f s", thread.name, timeout)
        self._threads.clear()
        client, self._client = self._client, None
        if client is not None:
            if self._connected.is_set():
                info = client.publish(self.topics.state, payloads.encode(
                    payloads.presence(self.terminal, False, "shutdown")), qos=1, retain=True)
                try:
                    info.wait_for_publish(timeout=min(2.0, timeout))
                except (RuntimeError, ValueError):
                    pass
            client.disconnect()
            client.loop_stop()
            self._connected.clear()
        self._process_acks()
        self.outbox.close()
        self._nonces.close()

    def __enter__(self) -> Reporter:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the kiosk records ----------------------------------------------------------------
    def record_rating(self, record: FullRatingRecord) -> bool:
        """Store a rating durably for sending. Raises :class:`kiosk.outbox.OutboxFull` when it
        cannot be stored (the caller shows it and calls staff); False = already waiting."""
        stored = self.outbox.put(record.id, "rating", self.topics.rating,
                                 payloads.encode(payloads.rating(record)))
        self._wake.set()
        return stored

    def rate(self, **kwargs: Any) -> FullRatingRecord:
        """Build (see :meth:`RatingRecordBuilder.build`), check and record a rating."""
        record = self.builder.build(**kwargs)
        self.record_rating(record)
        return record

    def record_event(self, name: str, data: Mapping[str, Any] | None = None, *,
                     record_id: str | None = None) -> bool:
        """Store an event (see ``payloads.EVENT_NAMES``). Never raises for a full outbox:
        events give way to ratings; returns whether the event was stored."""
        payload = payloads.event(self.terminal, name, data, record_id=record_id)
        try:
            stored = self.outbox.put(payload["id"], "event", self.topics.event,
                                     payloads.encode(payload))
        except OutboxFull as exc:
            log.error("event %s not stored: %s", name, exc)
            return False
        self._wake.set()
        return stored

    def record_call_staff(self, screen: str = "", flow: str = "") -> bool:
        """The "call staff" (帮办) button was pressed."""
        with self._counts_lock:
            self._call_staff += 1
        return self.record_event("call_staff", {"screen": screen, "flow": flow})

    def record_session(self, flow: str, outcome: str, duration_s: float,
                       reason: str = "") -> bool:
        """A session ended: ``outcome`` completed / abandoned / timeout / error (see
        :func:`payloads.session_outcome` for a machine's end reason), ``reason`` as it ended."""
        if outcome not in payloads.SESSION_OUTCOMES:
            raise ValueError(f"session outcome {outcome!r} is not one of "
                             f"{', '.join(payloads.SESSION_OUTCOMES)}; map an end reason with "
                             "payloads.session_outcome()")
        with self._counts_lock:
            per_flow = self._sessions.setdefault(flow, {})
            per_flow[outcome] = per_flow.get(outcome, 0) + 1
        data: dict[str, Any] = {"flow": flow, "outcome": outcome,
                                "duration_s": round(float(duration_s), 1)}
        if reason:
            data["reason"] = reason
        return self.record_event("session", data)

    def record_error(self, source: str, message: str) -> bool:
        """An error worth the monitoring desk's attention (scrubbed of personal data)."""
        self.collector.note_error(source, message)
        self._health_now.set()
        key, now = f"{source}:{message}", time.monotonic()
        with self._counts_lock:
            last = self._last_errors.get(key)
            if last is not None and now - last < _ERROR_REPEAT_S:
                return False
            self._last_errors[key] = now
        return self.record_event("error", {"source": source, "message": message})

    def set_command_handler(self, handler: CommandHandler | None) -> None:
        """The lead's hook: ``handler(command) -> CommandResult`` runs on the command thread
        for every *verified* command except ``flush_outbox`` (handled here)."""
        self._handler = handler

    def flush(self) -> None:
        """Send waiting records now (also re-sends records stuck waiting for a PUBACK)."""
        self._rewind_requested = True
        self._wake.set()

    def publish_health_now(self) -> None:
        self._health_now.set()
        self._wake.set()

    # -- state for the maintenance screen and tests ---------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def status(self) -> dict[str, Any]:
        stats = self.outbox.stats()
        return {"connected": self.connected, "broker": self.mqtt_config.url,
                "outbox": {**stats.as_dict(), "inflight": self._inflight_count},
                "reconnects": self._reconnects, "published": self._published}

    def wait_drained(self, timeout: float) -> bool:
        """Block until the outbox is empty (every record acknowledged) or ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.outbox.depth == 0:
                return True
            time.sleep(0.02)
        return self.outbox.depth == 0

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def check(self) -> None:
        """Raise :class:`ReporterError` now for what :meth:`start` would fail on (missing or
        unreadable TLS files), so start-up can say so before the UI opens."""
        if self.mqtt_config.enabled:
            self._build_client()

    # -- paho ----------------------------------------------------------------------------------
    def _build_client(self) -> mqtt.Client:
        cfg = self.mqtt_config
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.terminal,
                             clean_session=False, protocol=mqtt.MQTTv311)
        client.max_inflight_messages_set(min(65535, max(20, self.fleet.inflight_window)))
        client.max_queued_messages_set(0)
        low, high = self.reconnect_delay
        client.reconnect_delay_set(min_delay=low, max_delay=high)  # type: ignore[arg-type]
        if cfg.tls:
            for key in ("ca_file", "cert_file", "key_file"):
                path = getattr(cfg, key)
                if path and not Path(path).is_file():
                    raise ReporterError(f"mqtt.{key} = {path!r} does not exist; point it at "
                                        "the PEM file (see docs/mqtt.md, 'certificates')")
            try:
                client.tls_set(ca_certs=cfg.ca_file or None, certfile=cfg.cert_file or None,
                               keyfile=cfg.key_file or None,
                               tls_version=ssl.PROTOCOL_TLS_CLIENT)
            except (ssl.SSLError, OSError, ValueError) as exc:
                raise ReporterError(f"cannot load the TLS files (mqtt.ca_file, cert_file, "
                                    f"key_file): {exc}") from exc
        client.will_set(self.topics.state, payloads.encode(
            payloads.presence(self.terminal, False, "connection lost")), qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any,
                    _props: Any) -> None:
        if reason.is_failure:
            message = f"the broker refused the connection: {reason}"
            log.error("telemetry: %s (check the client certificate and the ACL)", message)
            self.collector.note_error("mqtt", message)
            return
        if self._connected_since is not None:
            self._reconnects += 1
        self._connected_since = time.time()
        client.publish(self.topics.state, payloads.encode(
            payloads.presence(self.terminal, True, "connected")), qos=1, retain=True)
        client.publish(self.topics.birth, payloads.encode(payloads.birth(
            self.terminal, payloads.birth_values(self.config, self.version, self.capabilities,
                                                 self._started_ms))), qos=1, retain=True)
        client.subscribe(self.topics.command, qos=1)
        for topic in self._subscriptions:
            client.subscribe(topic, qos=1)
        self._connected.set()
        self._health_now.set()
        self._wake.set()
        log.info("telemetry connected to %s", self.mqtt_config.url)

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any,
                       _props: Any) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        if was and not self._stop.is_set():
            log.warning("telemetry disconnected (%s); records wait in the outbox", reason)
            self.collector.note_error("mqtt", f"disconnected from the broker: {reason}")

    def _on_publish(self, _client: mqtt.Client, _userdata: Any, mid: int, _reason: Any,
                    _props: Any) -> None:
        self._acked.append(mid)
        self._wake.set()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: Any) -> None:
        if message.topic == self.topics.command:
            self._commands.put(bytes(message.payload))
            return
        callback = self._subscriptions.get(message.topic)
        if callback is not None:
            try:
                callback(bytes(message.payload))
            except Exception as exc:  # a bad notice must not stop the MQTT thread
                log.error("message on %s could not be handled: %s", message.topic, exc)

    def subscribe(self, topic: str, callback: Callable[[bytes], None]) -> None:
        """Also read ``topic`` (e.g. the retained catalogue notice); ``callback(payload)`` runs
        on the MQTT thread. Call before :meth:`start`."""
        self._subscriptions[topic] = callback

    # -- the send thread -------------------------------------------------------------------------
    _rewind_requested = False

    def _process_acks(self) -> int:
        ids: list[str] = []
        while self._acked:
            entry = self._inflight.pop(self._acked.popleft(), None)
            if entry is not None:
                ids.append(entry[0])
        if ids:
            self.outbox.ack(ids)
            self._published += len(ids)
        self._inflight_count = len(self._inflight)
        return len(ids)

    def _send_loop(self) -> None:
        interval = float(self.mqtt_config.health_interval_s)
        next_health = time.monotonic() + 1.0
        next_probe = 0.0
        last_signature: Any = None
        while not self._stop.is_set():
            self._wake.wait(0.25)
            self._wake.clear()
            try:
                self._process_acks()
                if self._connected.is_set():
                    self._maybe_rewind()
                    self._publish_batch()
                now = time.monotonic()
                if now >= next_probe:  # cheap check for a change worth reporting at once
                    next_probe = now + 1.0
                    signature = self.collector.signature(extra={"outbox": {
                        "alarm": self.outbox.alarm}})
                    if signature != last_signature:
                        last_signature = signature
                        self._health_now.set()
                if self._health_now.is_set() or now >= next_health:
                    if self._publish_health():
                        self._health_now.clear()
                        next_health = now + interval
            except Exception as exc:  # the send thread must survive anything
                log.exception("telemetry send loop failed")
                self.collector.note_error("telemetry", f"send loop: {exc}")
                self._stop.wait(1.0)

    def _maybe_rewind(self) -> None:
        stuck = False
        if self._inflight and self._connected_since is not None:
            oldest = min(sent for _rid, sent in self._inflight.values())
            now = time.monotonic()
            stuck = (now - oldest > self.resend_after_s
                     and time.time() - self._connected_since > self.resend_after_s)
        if stuck or self._rewind_requested:
            self._rewind_requested = False
            if self._inflight:
                log.warning("telemetry: %d records without PUBACK; sending them again",
                            len(self._inflight))
            self._inflight.clear()
            self._cursor = 0

    def _publish_batch(self) -> None:
        client = self._client
        room = self.fleet.inflight_window - len(self._inflight)
        if client is None or room <= 0:
            return
        for record in self.outbox.peek(room, after_seq=self._cursor):
            info = client.publish(record.topic, record.payload, qos=record.qos)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                log.warning("telemetry: publish refused locally (%s); retrying later",
                            mqtt.error_string(info.rc))
                break
            if record.qos == 0:
                self._acked.append(info.mid)  # no PUBACK will come
            self._inflight[info.mid] = (record.id, time.monotonic())
            self._cursor = record.seq
        self._inflight_count = len(self._inflight)

    def _publish_health(self) -> bool:
        client = self._client
        if client is None or not self._connected.is_set():
            return False
        values, _signature = self.collector.collect()
        info = client.publish(self.topics.health, payloads.encode(
            payloads.health(self.terminal, values)), qos=0, retain=True)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def _health_extra(self) -> dict[str, Any]:
        stats = self.outbox.stats()
        with self._counts_lock:
            sessions = {flow: dict(c) for flow, c in self._sessions.items()}
            call_staff = self._call_staff
        return {
            "outbox": {**stats.as_dict(), "inflight": self._inflight_count},
            "mqtt": {"connected": self.connected, "reconnects": self._reconnects,
                     "connected_since": int(self._connected_since * 1000)
                     if self._connected_since else None},
            "sessions": sessions,
            "call_staff": call_staff,
            "version": self.version,
        }

    def _on_outbox_alarm(self, on: bool, depth: int, cap: int) -> None:
        self._health_now.set()
        if on:
            self.collector.note_error("outbox", f"{depth} of {cap} records waiting for the "
                                      "broker")
            # an alarm event; it may itself be evicted later, health carries the alarm too
            payload = payloads.event(self.terminal, "alarm", {
                "alarm": "outbox_filling", "depth": depth, "max_records": cap})
            if depth < cap:
                try:
                    self.outbox.put(payload["id"], "event", self.topics.event,
                                    payloads.encode(payload))
                except OutboxFull:  # pragma: no cover - guarded by depth < cap
                    pass

    # -- the command thread ----------------------------------------------------------------------
    def _command_loop(self) -> None:
        while not self._stop.is_set():
            try:
                raw = self._commands.get(timeout=0.25)
            except queue.Empty:
                continue
            try:
                self._handle_command(raw)
            except Exception as exc:  # pragma: no cover - the thread must survive
                log.exception("telemetry command handling failed")
                self.collector.note_error("commands", str(exc))

    def _handle_command(self, raw: bytes) -> None:
        try:
            command = self._verifier.verify(raw)
        except CommandRefused as refusal:
            log.warning("remote command %s refused: %s", refusal.name or "?", refusal)
            self._put_result(refusal.command_id, refusal.name, "refused", reason=refusal.reason,
                             detail=refusal.detail)
            return
        log.info("remote command %s (%s) accepted", command.name, command.id)
        try:
            if command.name == "flush_outbox":
                result = self._flush_command()
            elif self._handler is None:
                result = CommandResult("unsupported", "no handler for remote commands")
            else:
                result = self._handler(command) or CommandResult(
                    "unsupported", f"{command.name} is not supported on this terminal")
        except Exception as exc:
            log.exception("remote command %s failed", command.name)
            result = CommandResult("failed", f"{type(exc).__name__}: {exc}")
        self._put_result(command.id, command.name, result.status, detail=result.detail,
                         data=result.data)

    def _flush_command(self) -> CommandResult:
        before = self.outbox.depth
        self.flush()
        drained = self.wait_drained(10.0)
        return CommandResult("ok" if drained else "failed",
                             "outbox empty" if drained else "records still waiting",
                             {"before": before, "after": self.outbox.depth})

    def _put_result(self, command_id: str, name: str, status: str, *, reason: str = "",
                    detail: str = "", data: Mapping[str, Any] | None = None) -> None:
        payload = payloads.command_result(self.terminal, command_id, name, status,
                                          reason=reason, detail=detail, data=data)
        try:
            self.outbox.put(payload["id"], "command_result", self.topics.result,
                            payloads.encode(payload))
        except OutboxFull:
            log.error("command result for %s not stored: the outbox is full", command_id)
        self._wake.set()


def command_as_dict(command: Command) -> dict[str, Any]:
    """For logs and the maintenance screen."""
    return {"id": command.id, "name": command.name, "args": dict(command.args)}


__all__ = ["CommandResult", "Reporter", "ReporterError", "ReporterRatingRecorder",
           "command_as_dict", "package_version"]


class ReporterRatingRecorder:
    """Adapter to the session's ``kiosk.ratings.levels.RatingRecorder`` protocol. Raises
    :class:`kiosk.ratings.records.RatingError` for a record that breaks the rules and
    :class:`kiosk.outbox.OutboxFull` when it cannot be stored."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter

    def record(self, record: Any, **details: Any) -> FullRatingRecord:
        full = self.reporter.builder.from_basic(record, **details)
        self.reporter.record_rating(full)
        return full

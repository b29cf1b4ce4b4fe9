"""The self-test's MQTT checks: the broker, then a round trip through the fleet.

With its own short-lived client (the terminal's certificate, client id ``<id>-selftest``, a
clean session) the self-test subscribes to the terminal's ``cmd`` topic, publishes a
``selftest`` event with a random nonce on its ``event`` topic (QoS 1: the broker's PUBACK is
the broker check), and waits, bounded, for the fleet's signed ``selftest_echo`` with that
nonce (``kiosk/telemetry/echo.py``, ``fleet/selftest_echo.py``). The echo is verified with
``fleet.command_keys`` as the kiosk verifies every command.

Inside the running kiosk the maintenance screen does the same through the kiosk's own
reporter and outbox (:func:`live_round_trip`): no second connection.
"""

from __future__ import annotations

import ssl
import threading
import time
from typing import Any

from provisioning.selftest import FAIL, PASS, SKIP, Check

BROKER = "fleet broker (MQTT)"
ROUND_TRIP = "fleet round trip"
ECHO_WAIT_S = 10.0


def _verifier(config: Any) -> Any:
    from kiosk.telemetry.commands import CommandVerifier, NonceStore
    from kiosk.telemetry.settings import ed25519_public_key

    fleet = config.fleet
    return CommandVerifier(config.terminal.id,
                           [ed25519_public_key(k) for k in fleet.command_keys],
                           NonceStore(None), max_ttl_s=fleet.command_max_ttl_s,
                           skew_s=fleet.clock_skew_s)


def check_fleet(config: Any, timeout_s: float = 10.0, echo_wait_s: float = ECHO_WAIT_S
                ) -> list[Check]:
    """[broker check, round-trip check] with a client of the self-test's own."""
    if not config.mqtt.enabled:
        return [Check(BROKER, SKIP, "mqtt.enabled = false"),
                Check(ROUND_TRIP, SKIP, "mqtt.enabled = false")]
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from kiosk.telemetry import payloads
    from kiosk.telemetry.commands import CommandRefused
    from kiosk.telemetry.echo import COMMAND, EVENT, EchoBoard, new_nonce, no_answer_detail
    from kiosk.telemetry.topics import Topics

    cfg = config.mqtt
    topics = Topics.from_config(config)
    board, verifier = EchoBoard(), _verifier(config)
    refused: list[str] = []
    connected, subscribed = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        outcome["connect"] = reason
        connected.set()

    def on_subscribe(_c: Any, _u: Any, _mid: int, codes: Any, _p: Any) -> None:
        outcome["granted"] = list(codes)
        subscribed.set()

    def on_message(_c: Any, _u: Any, message: Any) -> None:
        try:
            command = verifier.verify(bytes(message.payload))
        except CommandRefused as refusal:
            if refusal.name == COMMAND:
                refused.append(f"{refusal.reason}: {refusal.detail}")
            return
        if command.name == COMMAND:
            board.deliver(command)

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{config.terminal.id}-selftest",
                         clean_session=True, protocol=mqtt.MQTTv311)
    client.on_connect, client.on_subscribe, client.on_message = (on_connect, on_subscribe,
                                                                 on_message)
    if cfg.tls:
        try:
            client.tls_set(ca_certs=cfg.ca_file or None, certfile=cfg.cert_file or None,
                           keyfile=cfg.key_file or None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        except (ssl.SSLError, OSError, ValueError) as exc:
            return [Check(BROKER, FAIL, f"TLS files: {exc}"),
                    Check(ROUND_TRIP, SKIP, "no broker connection")]
    try:
        client.connect(cfg.host, cfg.port, keepalive=10)
    except (OSError, ssl.SSLError) as exc:
        return [Check(BROKER, FAIL, f"cannot connect to {cfg.url}: {exc}"),
                Check(ROUND_TRIP, SKIP, "no broker connection")]
    client.loop_start()
    try:
        if not connected.wait(timeout_s) or outcome["connect"].is_failure:
            why = outcome.get("connect", f"no answer within {timeout_s:.0f} s")
            return [Check(BROKER, FAIL, f"{cfg.url} refused the connection: {why} "
                          "(certificate revoked or not enrolled? kiosk-provision enrol)"),
                    Check(ROUND_TRIP, SKIP, "no broker connection")]
        client.subscribe(topics.command, qos=1)
        nonce = new_nonce()
        board.expect(nonce)
        event = payloads.event(config.terminal.id, EVENT, {"nonce": nonce})
        began = time.monotonic()
        info = client.publish(topics.event, payloads.encode(event), qos=1)
        info.wait_for_publish(timeout_s)
        if not info.is_published():
            return [Check(BROKER, FAIL, "connected, but the broker did not acknowledge a QoS 1 "
                          "message (certificate or ACL?)"),
                    Check(ROUND_TRIP, SKIP, "the self-test event was not acknowledged")]
        broker = Check(BROKER, PASS, f"{cfg.url}: connected, message acknowledged")
        granted = outcome.get("granted") if subscribed.wait(timeout_s) else None
        if not granted or any(code.is_failure for code in granted):
            board.forget(nonce)
            return [broker, Check(ROUND_TRIP, FAIL, f"the broker refused to deliver "
                                  f"{topics.command} to this terminal (its ACL; re-enrol)")]
        arrived = board.wait(nonce, echo_wait_s)
        if arrived is not None:
            return [broker, Check(ROUND_TRIP, PASS, f"signed echo after "
                                  f"{(arrived - began) * 1000:.0f} ms")]
        if refused:
            return [broker, Check(ROUND_TRIP, FAIL, f"the fleet answered, but its echo was "
                                  f"refused ({refused[0]}); re-enrol to install the fleet's "
                                  "command key and check the clock")]
        return [broker, Check(ROUND_TRIP, FAIL, no_answer_detail(echo_wait_s))]
    finally:
        client.loop_stop()
        client.disconnect()


def live_round_trip(kiosk: Any, echo_wait_s: float = ECHO_WAIT_S) -> list[Check]:
    """The broker and the round trip through the running kiosk's reporter (worker thread)."""
    from kiosk.telemetry.echo import EVENT, new_nonce, no_answer_detail

    if not kiosk.config.mqtt.enabled:
        return [Check(BROKER, SKIP, "mqtt.enabled = false"),
                Check(ROUND_TRIP, SKIP, "mqtt.enabled = false")]
    reporter = kiosk.reporter
    if reporter is None or not reporter.connected:
        return [Check(BROKER, FAIL, f"not connected to {kiosk.config.mqtt.url}"),
                Check(ROUND_TRIP, SKIP, "no broker connection")]
    broker = Check(BROKER, PASS, f"{kiosk.config.mqtt.url}: connected")
    if kiosk.remote is None:
        return [broker, Check(ROUND_TRIP, SKIP, "remote commands are off in this kiosk")]
    board = kiosk.remote.echoes
    nonce = new_nonce()
    board.expect(nonce)
    began = time.monotonic()
    if not reporter.record_event(EVENT, {"nonce": nonce}):
        board.forget(nonce)
        return [broker, Check(ROUND_TRIP, FAIL, "the outbox refused the self-test event")]
    arrived = board.wait(nonce, echo_wait_s)
    if arrived is None:
        return [broker, Check(ROUND_TRIP, FAIL, no_answer_detail(echo_wait_s))]
    return [broker, Check(ROUND_TRIP, PASS, f"signed echo after {(arrived - began) * 1000:.0f} ms")]

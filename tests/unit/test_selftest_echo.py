"""The self-test round trip's parts without a broker: which events the fleet answers, what it
publishes (verified as the kiosk verifies), the kiosk's echo board, and the schemas."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from fleet import selftest_echo
from fleet.commands import new_key, public_b64, save_key
from fleet.ingest import Message, validate
from kiosk.telemetry import payloads
from kiosk.telemetry.commands import CommandVerifier, NonceStore
from kiosk.telemetry.echo import EchoBoard, new_nonce
from kiosk.telemetry.settings import ed25519_public_key

TOPIC = "kiosk/v1/370102/JN-T1/event"


def _event(nonce: str, *, terminal: str = "JN-T1", ts: int | None = None,
           name: str = "selftest") -> bytes:
    payload = payloads.event(terminal, name, {"nonce": nonce} if name == "selftest" else {},
                             ts=ts)
    return payloads.encode(payload)


class Recorder:
    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, int]] = []

    def publish(self, topic: str, payload: bytes, qos: int = 0) -> None:
        self.published.append((topic, payload, qos))


def test_only_fresh_valid_selftest_events_of_their_own_terminal_are_answered() -> None:
    now = int(time.time() * 1000)
    nonce = new_nonce()
    messages = [
        Message(TOPIC, _event(nonce), now),
        Message(TOPIC, _event(new_nonce(), ts=now - 61_000), now),  # stale
        Message(TOPIC, _event(new_nonce(), terminal="JN-T2"), now),  # not its topic
        Message(TOPIC, _event("not-hex-at-all!"), now),  # quarantined by the schema
        Message(TOPIC, _event("", name="started"), now),  # another event
        Message("kiosk/v1/370102/JN-T1/rating", _event(new_nonce()), now),
        Message(TOPIC, b'{"selftest": broken', now),
    ]
    assert selftest_echo.echoes(messages, "kiosk/v1", now) == [("370102", "JN-T1", nonce)]


def test_the_echo_is_a_command_the_kiosk_verifies(tmp_path: Path) -> None:
    key = new_key()
    save_key(key, tmp_path / "command.pem")
    settings = SimpleNamespace(topic_prefix="kiosk/v1",
                               command_key_file=str(tmp_path / "command.pem"))
    nonce = new_nonce()
    client = Recorder()
    sent = selftest_echo.answer(client, settings, [Message(TOPIC, _event(nonce), 0)])
    assert sent == 1
    [(topic, raw, qos)] = client.published
    assert topic == "kiosk/v1/370102/JN-T1/cmd" and qos == 1
    assert validate(json.loads(raw), "command") == []
    verifier = CommandVerifier("JN-T1", [ed25519_public_key(public_b64(key))], NonceStore())
    command = verifier.verify(raw)
    assert command.name == "selftest_echo" and command.args == {"nonce": nonce}
    assert command.expires - command.issued == selftest_echo.ECHO_TTL_S * 1000


def test_without_a_command_key_nothing_is_sent() -> None:
    client = Recorder()
    settings = SimpleNamespace(topic_prefix="kiosk/v1", command_key_file="")
    assert selftest_echo.answer(client, settings, [Message(TOPIC, _event(new_nonce()), 0)]) == 0
    assert client.published == []


def test_the_echo_board_wakes_only_the_waiting_nonce() -> None:
    board = EchoBoard(clock=lambda: 42.0)
    nonce = new_nonce()
    board.expect(nonce)
    other = SimpleNamespace(args={"nonce": new_nonce()})
    assert board.deliver(other).detail == "echo of a self-test no longer waiting"  # type: ignore[arg-type]
    assert board.wait(nonce, 0.01) is None  # nothing for ours yet: the wait times out
    board.expect(nonce)
    assert board.deliver(SimpleNamespace(args={"nonce": nonce})).status == "ok"  # type: ignore[arg-type]
    assert board.wait(nonce, 5) == 42.0
    with pytest.raises(KeyError):
        board.wait(nonce, 0.01)  # forgotten once answered


def test_nonces_survive_the_privacy_filter_of_event_data() -> None:
    for _ in range(200):
        nonce = new_nonce()
        sent = json.loads(_event(nonce))
        assert sent["values"]["data"]["nonce"] == nonce
        assert validate(sent, "event") == []

"""Remote commands: signature, expiry, replay, terminal, arguments."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet.commands import build_command, public_b64, sign, signed_command
from kiosk.telemetry.commands import CommandRefused, CommandVerifier, NonceStore, canonical
from kiosk.telemetry.settings import FleetSettings, ed25519_public_key

NOW = 1_750_000_000.0


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def make_verifier(key: Ed25519PrivateKey, store: NonceStore | None = None,
                  now: list[float] | None = None, **kw) -> CommandVerifier:
    clock = now or [NOW]
    store = NonceStore() if store is None else store  # (an empty store is falsy: len 0)
    return CommandVerifier("JN-T1", [key.public_key()], store,
                           clock=lambda: clock[0], **kw)


def refused(verifier: CommandVerifier, raw: bytes | str) -> CommandRefused:
    with pytest.raises(CommandRefused) as info:
        verifier.verify(raw)
    return info.value


def test_a_good_command_is_accepted(key: Ed25519PrivateKey) -> None:
    raw = signed_command(key, "JN-T1", "maintenance", {"on": True}, now=NOW, ttl_s=60)
    command = make_verifier(key).verify(raw)
    assert command.name == "maintenance" and command.args == {"on": True}
    assert command.expires - command.issued == 60_000


def test_bad_signature_is_refused(key: Ed25519PrivateKey) -> None:
    verifier = make_verifier(key)
    other = Ed25519PrivateKey.generate()
    assert refused(verifier, signed_command(other, "JN-T1", "restart", now=NOW)
                   ).reason == "bad_signature"
    # a signed command whose content was changed afterwards
    data = json.loads(signed_command(key, "JN-T1", "maintenance", {"on": False}, now=NOW))
    data["args"]["on"] = True
    err = refused(verifier, json.dumps(data))
    assert err.reason == "bad_signature" and err.command_id == data["id"]
    data["sig"] = "%%%"
    assert refused(verifier, json.dumps(data)).reason == "bad_signature"


def test_no_configured_key_refuses_everything(key: Ed25519PrivateKey) -> None:
    verifier = CommandVerifier("JN-T1", [], NonceStore(), clock=lambda: NOW)
    err = refused(verifier, signed_command(key, "JN-T1", "restart", now=NOW))
    assert err.reason == "bad_signature" and "fleet.command_keys" in err.detail


def test_key_rotation_accepts_either_key(key: Ed25519PrivateKey) -> None:
    new = Ed25519PrivateKey.generate()
    verifier = CommandVerifier("JN-T1", [key.public_key(), new.public_key()], NonceStore(),
                               clock=lambda: NOW)
    assert verifier.verify(signed_command(new, "JN-T1", "restart", now=NOW)).name == "restart"


def test_expired_and_future_and_too_long_lived(key: Ed25519PrivateKey) -> None:
    now = [NOW]
    verifier = make_verifier(key, now=now, skew_s=10, max_ttl_s=600)
    raw = signed_command(key, "JN-T1", "restart", now=NOW - 100, ttl_s=60)
    err = refused(verifier, raw)
    assert err.reason == "expired" and "40 s ago" in err.detail
    within_skew = signed_command(key, "JN-T1", "restart", now=NOW - 65, ttl_s=60)
    assert verifier.verify(within_skew).name == "restart"
    future = signed_command(key, "JN-T1", "restart", now=NOW + 60, ttl_s=60)
    assert refused(verifier, future).reason == "not_yet_valid"
    long = signed_command(key, "JN-T1", "restart", now=NOW, ttl_s=3600)
    assert refused(verifier, long).reason == "too_long_lived"


def test_replay_is_refused_even_after_a_restart(key: Ed25519PrivateKey, tmp_path: Path) -> None:
    raw = signed_command(key, "JN-T1", "print_test_page", now=NOW)
    store = NonceStore(tmp_path / "nonces.db")
    verifier = make_verifier(key, store)
    assert verifier.verify(raw).name == "print_test_page"
    assert refused(verifier, raw).reason == "replayed"
    store.close()
    again = make_verifier(key, NonceStore(tmp_path / "nonces.db"))
    assert refused(again, raw).reason == "replayed"


def test_expired_nonces_are_forgotten(key: Ed25519PrivateKey) -> None:
    now = [NOW]
    store = NonceStore()
    verifier = make_verifier(key, store, now=now, skew_s=0)
    verifier.verify(signed_command(key, "JN-T1", "restart", now=NOW, ttl_s=30))
    assert len(store) == 1
    now[0] += 31
    verifier.verify(signed_command(key, "JN-T1", "restart", now=now[0], ttl_s=30))
    assert len(store) == 1  # the first nonce expired and was dropped


def test_wrong_terminal_malformed_unknown(key: Ed25519PrivateKey) -> None:
    verifier = make_verifier(key)
    assert refused(verifier, signed_command(key, "JN-T2", "restart", now=NOW)
                   ).reason == "wrong_terminal"
    assert refused(verifier, b"not json").reason == "malformed"
    assert refused(verifier, b"[1]").reason == "malformed"
    data = sign(build_command("JN-T1", "restart", now=NOW), key)
    del data["nonce"]
    assert "nonce" in refused(verifier, json.dumps(data)).detail
    assert refused(verifier, signed_command(key, "JN-T1", "format_disk", now=NOW)
                   ).reason == "unknown_command"
    assert refused(verifier, signed_command(key, "JN-T1", "maintenance", {}, now=NOW)
                   ).reason == "malformed"
    assert refused(verifier, signed_command(key, "JN-T1", "maintenance", {"on": "yes"},
                                            now=NOW)).reason == "malformed"
    assert refused(verifier, signed_command(key, "JN-T1", "set_log_level",
                                            {"level": "LOUD"}, now=NOW)).reason == "malformed"
    bad_nonce = sign(build_command("JN-T1", "restart", now=NOW, nonce="xyz"), key)
    assert refused(verifier, json.dumps(bad_nonce)).reason == "malformed"


def test_canonical_form_ignores_key_order_and_sig() -> None:
    a = {"b": 1, "a": "中", "sig": "x"}
    assert canonical(a) == canonical({"a": "中", "b": 1}) == '{"a":"中","b":1}'.encode()


def test_fleet_settings_check_keys(key: Ed25519PrivateKey) -> None:
    good = public_b64(key)
    assert FleetSettings(command_keys=[good]).command_keys == [good]
    with pytest.raises(ValueError, match="base64"):
        FleetSettings(command_keys=["not base64!"])
    with pytest.raises(ValueError, match="32 bytes"):
        FleetSettings(command_keys=[base64.b64encode(b"123").decode()])
    assert ed25519_public_key(good).public_bytes_raw() == key.public_key().public_bytes_raw()

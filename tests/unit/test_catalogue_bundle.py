"""Signed bundles: what verifies, and the reason and message of every refusal."""

from __future__ import annotations

import base64
import json

import pytest

from kiosk.catalogue import bundle as bundle_module
from kiosk.catalogue.bundle import (
    BundleError,
    generate_key,
    gzip_json,
    key_id,
    parse_public_key,
    public_key_text,
    read_header,
    sign_bundle,
    sign_payload,
    stamp,
    trust,
    verify_bundle,
)
from kiosk.catalogue.model import Catalogue
from kiosk.catalogue.source import load_source

KEY = generate_key()
OTHER = generate_key()
KEYS = trust([public_key_text(KEY)])


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_source()


def refused(raw: bytes, reason: str, keys=KEYS) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(BundleError) as caught:
        verify_bundle(raw, keys)
    assert caught.value.reason == reason, str(caught.value)
    return str(caught.value)


def test_round_trip_and_determinism(catalogue: Catalogue) -> None:
    raw = sign_bundle(catalogue, KEY)
    assert raw == sign_bundle(catalogue, KEY)
    verified = verify_bundle(raw, KEYS)
    assert verified.catalogue == catalogue
    assert verified.key_id == key_id(KEY)
    assert (verified.version, verified.serial) == (catalogue.version, catalogue.serial)
    assert read_header(raw)["serial"] == catalogue.serial


def test_tampered_payload_is_refused(catalogue: Catalogue) -> None:
    envelope = json.loads(sign_bundle(catalogue, KEY))
    payload = bytearray(base64.b64decode(envelope["payload"]))
    payload[len(payload) // 2] ^= 0x01
    envelope["payload"] = base64.b64encode(bytes(payload)).decode()
    message = refused(json.dumps(envelope).encode(), "signature")
    assert "does not verify" in message and "current catalogue stays" in message


def test_signed_by_another_key(catalogue: Catalogue) -> None:
    raw = sign_bundle(catalogue, OTHER)
    message = refused(raw, "unknown_key")
    assert key_id(OTHER) in message and "catalogue.public_keys" in message
    # a forged key id does not help: the signature is checked with the trusted key
    envelope = json.loads(raw)
    envelope["key_id"] = key_id(KEY)
    refused(json.dumps(envelope).encode(), "signature")


def test_key_rotation_two_trusted_keys(catalogue: Catalogue) -> None:
    keys = trust([public_key_text(KEY), public_key_text(OTHER)])
    assert verify_bundle(sign_bundle(catalogue, OTHER), keys).key_id == key_id(OTHER)


def test_truncated_and_garbage(catalogue: Catalogue) -> None:
    raw = sign_bundle(catalogue, KEY)
    for cut in (len(raw) // 2, len(raw) - 3, 10):
        assert "ends early" in refused(raw[:cut], "truncated")
    refused(b"", "truncated")
    refused(b"<html><body>502 Bad Gateway</body></html>", "format")
    refused(b'{"hello": 1}', "format")
    refused(b"\xff\xfe\x00garbage", "format")


def test_wrong_schema_is_refused_even_when_signed(catalogue: Catalogue) -> None:
    data = catalogue.dump()
    data["schema"] = "aishandong.catalogue/2"
    raw = sign_payload(gzip_json(data), version=catalogue.version, serial=catalogue.serial,
                       key=KEY)
    assert "update the kiosk software" in refused(raw, "schema")

    data = catalogue.dump()
    del data["items"][3]["department"]
    raw = sign_payload(gzip_json(data), version=catalogue.version, serial=catalogue.serial,
                       key=KEY)
    assert "items.3.department" in refused(raw, "schema")

    data = catalogue.dump()
    data["items"][0]["colour"] = "red"  # a field this kiosk does not know
    raw = sign_payload(gzip_json(data), version=catalogue.version, serial=catalogue.serial,
                       key=KEY)
    assert "colour" in refused(raw, "schema")

    data = catalogue.dump()
    data["items"][0]["life_events"] = ["moon_landing"]
    raw = sign_payload(gzip_json(data), version=catalogue.version, serial=catalogue.serial,
                       key=KEY)
    assert "moon_landing" in refused(raw, "schema")

    raw = sign_payload(b"not gzip", version="x", serial=1, key=KEY)
    refused(raw, "format")
    raw = sign_payload(gzip_json([1, 2]), version="x", serial=1, key=KEY)
    refused(raw, "schema")


def test_header_must_repeat_the_signed_version(catalogue: Catalogue) -> None:
    raw = sign_payload(gzip_json(catalogue.dump()), version="9999", serial=catalogue.serial + 1,
                       key=KEY)
    assert "header says" in refused(raw, "mismatch")


def test_format_version_and_size_limits(catalogue: Catalogue,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    envelope = json.loads(sign_bundle(catalogue, KEY))
    envelope["format_version"] = 2
    refused(json.dumps(envelope).encode(), "schema")
    raw = sign_bundle(catalogue, KEY)
    with pytest.raises(BundleError) as caught:
        verify_bundle(raw, KEYS, max_bytes=1000)
    assert caught.value.reason == "too_large"
    monkeypatch.setattr(bundle_module, "MAX_PAYLOAD_BYTES", 1000)  # a gzip bomb
    refused(raw, "too_large")


def test_stamp_makes_a_new_version(catalogue: Catalogue) -> None:
    newer = stamp(catalogue, version="2025.05.01-1", serial=2025050101)
    assert (newer.version, newer.serial) == ("2025.05.01-1", 2025050101)
    assert newer.items == catalogue.items


@pytest.mark.parametrize("text", ["ed25519:", "rsa:AAAA", "ed25519:!!!!",
                                  "ed25519:" + base64.b64encode(b"x" * 31).decode()])
def test_bad_public_keys_are_explained(text: str) -> None:
    with pytest.raises(ValueError, match="public key"):
        parse_public_key(text)

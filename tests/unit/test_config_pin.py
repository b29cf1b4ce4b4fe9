"""The maintenance PIN hash."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.pin import DEMO_PIN, DEMO_PIN_HASH, hash_pin, parse_pin_hash, verify_pin
from config.schema import MaintenanceConfig

FAST = 1_000  # iterations for tests of the mechanism; config itself requires far more


def test_hash_and_verify() -> None:
    stored = hash_pin("135790", iterations=FAST)
    assert verify_pin("135790", stored)
    assert not verify_pin("135791", stored)
    assert not verify_pin("", stored)


def test_format_and_random_salt() -> None:
    first, second = hash_pin("1234", iterations=FAST), hash_pin("1234", iterations=FAST)
    assert first != second  # a fresh salt each time
    iterations, salt, digest = parse_pin_hash(first)
    assert (iterations, len(salt), len(digest)) == (FAST, 16, 32)
    assert first.startswith(f"pbkdf2_sha256${FAST}$")


def test_fixed_salt_is_deterministic() -> None:
    salt = bytes(range(16))
    assert hash_pin("1234", FAST, salt) == hash_pin("1234", FAST, salt)


def test_demo_pin() -> None:
    assert verify_pin(DEMO_PIN, DEMO_PIN_HASH)
    assert not verify_pin("000000", DEMO_PIN_HASH)


@pytest.mark.parametrize("bad", ["", "123", "12a456", "1234567890123", " 1234"])
def test_pin_must_be_4_to_12_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="4 to 12 digits"):
        hash_pin(bad, iterations=FAST)


@pytest.mark.parametrize("stored", ["", "plain", "pbkdf2_sha256$1000$zz$00",
                                    "md5$1000$00112233445566778899aabbccddeeff$" + "0" * 64,
                                    "pbkdf2_sha256$0$00112233445566778899aabbccddeeff$" + "0" * 64])
def test_malformed_hash_never_verifies(stored: str) -> None:
    assert verify_pin("1234", stored) is False


def test_config_accepts_a_strong_hash_and_refuses_a_weak_one() -> None:
    strong = hash_pin("135790", iterations=100_000)
    assert MaintenanceConfig(pin_hash=strong).uses_demo_pin is False
    with pytest.raises(ValidationError, match="iterations is outside"):
        MaintenanceConfig(pin_hash=hash_pin("135790", iterations=FAST))

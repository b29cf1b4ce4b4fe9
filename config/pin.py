"""The maintenance PIN: PBKDF2-SHA256 hashes in the form ``pbkdf2_sha256$<iter>$<salt>$<hash>``.

The PIN itself is never stored or logged; config holds only the hash. ``verify_pin`` compares
in constant time and returns ``False`` (never raises) for a malformed hash, so a broken config
locks the maintenance screen rather than opening it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

ALGORITHM = "pbkdf2_sha256"
DEFAULT_ITERATIONS = 200_000
#: the schema refuses weaker hashes than this in config
MIN_ITERATIONS = 100_000
MAX_ITERATIONS = 10_000_000
SALT_BYTES = 16

#: the hash of the demo PIN "246810" (fixed salt so that the default config hash is stable)
DEMO_PIN = "246810"
DEMO_PIN_HASH = (
    "pbkdf2_sha256$200000$6b696f736b2d64656d6f2d73616c7421"
    "$d96f0c90c42ce142085ecd85549f53b6888779c45aaff581bcec91a7fb4a837d"
)

_HASH_RE = re.compile(r"^pbkdf2_sha256\$(\d{1,9})\$([0-9a-f]{16,128})\$([0-9a-f]{64})$")
_PIN_RE = re.compile(r"^\d{4,12}$")


def hash_pin(pin: str, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None) -> str:
    """Hash a PIN of 4 to 12 digits; a random 16-byte salt is drawn unless ``salt`` is given."""
    if not _PIN_RE.match(pin or ""):
        raise ValueError("a maintenance PIN is 4 to 12 digits")
    if iterations < 1:
        raise ValueError("iterations must be positive")
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode("ascii"), salt, iterations)
    return f"{ALGORITHM}${iterations}${salt.hex()}${digest.hex()}"


def parse_pin_hash(pin_hash: str) -> tuple[int, bytes, bytes]:
    """Split a stored hash into (iterations, salt, digest); ``ValueError`` if malformed."""
    match = _HASH_RE.match(pin_hash or "")
    if not match:
        raise ValueError("not of the form pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>")
    return int(match.group(1)), bytes.fromhex(match.group(2)), bytes.fromhex(match.group(3))


def verify_pin(pin: str, pin_hash: str) -> bool:
    """True when ``pin`` matches ``pin_hash``; False for a wrong PIN or a malformed hash."""
    try:
        iterations, salt, expected = parse_pin_hash(pin_hash)
    except ValueError:
        return False
    if not 1 <= iterations <= MAX_ITERATIONS or not isinstance(pin, str) or not pin.isascii():
        return False
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode("ascii"), salt, iterations)
    return hmac.compare_digest(digest, expected)

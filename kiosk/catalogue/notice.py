"""The "a new catalogue version exists" notice, as the platform retains it on MQTT.

Topic (suggested, fleet-wide, retained, QoS 1): ``<mqtt.topic_prefix>/catalogue/notice``.
Payload: ``{"version": "2025.04.01-1", "serial": 2025040101, "ts": 1743465600000}``.

The notice carries no URL and is not trusted: it only makes the terminal check its configured
``catalogue.url`` now instead of at the next poll, and the bundle it then downloads is verified
like any other. A terminal that was offline gets the retained notice when it reconnects.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

NOTICE_LEAF = "catalogue/notice"


@dataclass(frozen=True)
class Notice:
    version: str
    serial: int


def notice_topic(prefix: str) -> str:
    return f"{prefix.rstrip('/')}/{NOTICE_LEAF}"


def notice_payload(version: str, serial: int) -> bytes:
    return json.dumps({"version": version, "serial": serial,
                       "ts": int(time.time() * 1000)}).encode("utf-8")


def parse_notice(payload: bytes) -> Notice:
    """Read a notice; ``ValueError`` naming what is wrong with it otherwise."""
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"catalogue notice is not UTF-8 JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError("catalogue notice must be a JSON object {\"version\", \"serial\"}")
    serial, version = data.get("serial"), data.get("version", "")
    if not isinstance(serial, int) or isinstance(serial, bool) or serial < 1:
        raise ValueError(f"catalogue notice serial {serial!r} is not a positive integer")
    if not isinstance(version, str):
        raise ValueError(f"catalogue notice version {version!r} is not text")
    return Notice(version=version, serial=serial)

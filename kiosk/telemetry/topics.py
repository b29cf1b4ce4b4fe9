"""The MQTT topic contract (docs/mqtt.md).

Every topic of a terminal lives under ``{prefix}/{region}/{terminal}/``:

=================  =========  ====  ======  ===============================================
leaf               direction  QoS   retain  what
=================  =========  ====  ======  ===============================================
``state``          up         1     yes     presence: online at connect, offline (Last Will)
``birth``          up         1     yes     version, config hash, capabilities, location,
                                            opening hours, services (the service map's data)
``health``         up         0     yes     every ``mqtt.health_interval_s`` and on change
``rating``         up         1     no      好差评 records, from the outbox
``event``          up         1     no      call staff, sessions, errors, alarms
``cmd``            down       1     no      signed remote commands
``cmd/result``     up         1     no      result or refusal of each command
=================  =========  ====  ======  ===============================================

``region`` is the 6-digit division code: a district desk subscribes ``kiosk/v1/370102/#``,
the fleet ``kiosk/v1/+/+/health`` for every terminal's health. The terminal id is also its
certificate's CN and MQTT username, which the broker's ACL ties to these topics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UP_LEAVES = ("state", "birth", "health", "rating", "event", "cmd/result")
DOWN_LEAVES = ("cmd",)
_LEVEL = re.compile(r"^[A-Za-z0-9_-]+$")


class TopicError(ValueError):
    """A topic that is not part of the contract."""


@dataclass(frozen=True)
class Topics:
    prefix: str
    region: str
    terminal: str

    def __post_init__(self) -> None:
        for name, value in (("region", self.region), ("terminal", self.terminal)):
            if not _LEVEL.match(value):
                raise TopicError(f"{name} {value!r} cannot be a topic level: use letters, "
                                 "digits, _ or -")
        if any(not _LEVEL.match(part) for part in self.prefix.split("/")):
            raise TopicError(f"topic prefix {self.prefix!r}: levels of letters, digits, _ or -")

    @classmethod
    def from_config(cls, config) -> Topics:  # type: ignore[no-untyped-def]
        return cls(config.mqtt.topic_prefix, config.terminal.region_code, config.terminal.id)

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.region}/{self.terminal}"

    def leaf(self, name: str) -> str:
        if name not in UP_LEAVES + DOWN_LEAVES:
            raise TopicError(f"unknown topic leaf {name!r}")
        return f"{self.base}/{name}"

    state = property(lambda self: self.leaf("state"))
    birth = property(lambda self: self.leaf("birth"))
    health = property(lambda self: self.leaf("health"))
    rating = property(lambda self: self.leaf("rating"))
    event = property(lambda self: self.leaf("event"))
    command = property(lambda self: self.leaf("cmd"))
    result = property(lambda self: self.leaf("cmd/result"))


def parse(topic: str, prefix: str = "kiosk/v1") -> tuple[str, str, str]:
    """``kiosk/v1/370102/JN-0001/rating`` → ``("370102", "JN-0001", "rating")``."""
    head = prefix.rstrip("/") + "/"
    if not topic.startswith(head):
        raise TopicError(f"{topic!r} is not under {prefix!r}")
    parts = topic[len(head):].split("/", 2)
    if len(parts) != 3 or parts[2] not in UP_LEAVES + DOWN_LEAVES:
        raise TopicError(f"{topic!r} is not {prefix}/<region>/<terminal>/<leaf>")
    return parts[0], parts[1], parts[2]


def fleet_subscriptions(prefix: str = "kiosk/v1") -> list[str]:
    """What a fleet receiver subscribes to (everything a terminal sends)."""
    return [f"{prefix}/+/+/{leaf}" for leaf in UP_LEAVES]

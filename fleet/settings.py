"""Settings of the fleet server (``kiosk-fleet serve`` / ``ingest`` options, or a TOML file).

Every option has an embedded default, so ``kiosk-fleet serve`` alone runs one hall on SQLite
against a local broker. Times are seconds unless the name says otherwise.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fleet.enrolment.settings import EnrolmentSettings


class AlarmRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offline_grace_s: float = 120.0  # a shorter reconnect pages nobody
    health_interval_s: float = 60.0  # the terminals' mqtt.health_interval_s
    stale_intervals: int = 3  # no health for this many intervals = stale (no Will needed)
    flap_count: int = 5  # this many drops ...
    flap_window_s: float = 600.0  # ... within this window raise one collapsed alarm
    required_devices: list[str] = Field(default_factory=lambda: ["idcard", "printer"])
    outbox_depth_max: int = 1000
    disk_free_min_gb: float = 1.0
    disk_used_max_percent: float = 95.0
    clock_skew_s: float = 300.0
    bad_ratings_count: int = 3  # this many bad ratings ...
    bad_ratings_window_s: float = 3600.0  # ... at one terminal within this window
    renotify_s: float = 3600.0  # repeat the notice while an alarm stays active


class Notifiers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_url: str = ""
    webhook_retries: int = 5
    webhook_backoff_s: float = 1.0
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = ""
    mail_to: list[str] = Field(default_factory=list)


class CaseRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deadline_working_days: int = 5
    holidays: list[date] = Field(default_factory=list)
    extra_workdays: list[date] = Field(default_factory=list)  # 调休: weekend days worked
    timezone: str = "Asia/Shanghai"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    db: str = "sqlite:///fleet.db"
    mqtt: str = "mqtt://127.0.0.1:1883"  # mqtts://host:8883 with the TLS files below
    mqtt_ca: str = ""
    mqtt_cert: str = ""
    mqtt_key: str = ""
    topic_prefix: str = "kiosk/v1"
    share_group: str = "fleet"
    worker: str = "ingest-1"  # MQTT client id (persistent session) and counter name
    ingest: bool = True  # serve also runs one ingest worker
    listen: str = "127.0.0.1:8800"
    max_payload_bytes: int = 65536
    batch_size: int = 500  # at most half the broker's in-flight window (fleet.broker: 1000)
    batch_wait_s: float = 0.05  # a batch is committed this long after its first message ...
    batch_idle_s: float = 0.01  # ... or once nothing more has come for this long
    health_raw_days: int = 7
    timer_s: float = 10.0  # alarm rules, overdue cases, command expiry, roll-ups
    timer_lease_s: float = 0.0  # one timer per database (fleet.lease); 0 = 3 × timer_s
    worker_lease_s: float = 15.0  # an ingest worker's name is held this long between renewals
    command_key_file: str = ""  # Ed25519 PEM (python -m fleet.commands new-key)
    command_ttl_s: int = 300
    evaluation_key_file: str = ""  # X25519 (python -m fleet.keys new-evaluation-key)
    alarms: AlarmRules = Field(default_factory=AlarmRules)
    notify: Notifiers = Field(default_factory=Notifiers)
    cases: CaseRules = Field(default_factory=CaseRules)
    enrolment: EnrolmentSettings = Field(default_factory=EnrolmentSettings)  # issue #13

    @field_validator("db")
    @classmethod
    def _db_url(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("db: use sqlite:///PATH or postgresql://user@host:port/name")
        return value

    @field_validator("mqtt")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        if not value.startswith(("mqtt://", "mqtts://")):
            raise ValueError("mqtt: use mqtt://127.0.0.1:1883 or mqtts://host:8883")
        return value

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides: Any) -> Settings:
        """A TOML file (optional) with command-line overrides on top (``None`` = not given)."""
        data: dict[str, Any] = {}
        if path:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(data)

    def mqtt_tls(self) -> dict[str, str]:
        return {"ca_file": self.mqtt_ca, "cert_file": self.mqtt_cert, "key_file": self.mqtt_key}

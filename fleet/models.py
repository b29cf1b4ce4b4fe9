"""The fleet server's tables (SQLAlchemy 2, typed declarative models).

Times are milliseconds since the epoch (UTC) as ``BigInteger`` wherever they come from a
terminal's payload (``ts``): the same number on SQLite and PostgreSQL, no time-zone traps, and
the payload's own timestamp wins over arrival order (AWS IoT's lesson: presence can arrive
late or twice). Dates (case deadlines, rating days) are ``Date``.

Schema changes go through Alembic (``fleet/migrations``); ``fleet.db.init_db`` upgrades to
head.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


# -- terminals and health
class Terminal(Base):
    """The registry: one row per terminal, built from birth records, presence and health."""

    __tablename__ = "terminals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True, default="")
    site: Mapped[str] = mapped_column(String(200), default="", index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    opening_hours: Mapped[list[Any]] = mapped_column(default=list)
    services: Mapped[list[Any]] = mapped_column(default=list)
    version: Mapped[str] = mapped_column(String(64), default="")
    profile: Mapped[str] = mapped_column(String(64), default="")
    config_hash: Mapped[str] = mapped_column(String(32), default="")
    device_types: Mapped[dict[str, Any]] = mapped_column(default=dict)  # kind -> backend type
    birth_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # presence (retained state topic + Last Will)
    online: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    presence_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    presence_reason: Mapped[str] = mapped_column(String(200), default="")
    offline_since: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    drops: Mapped[list[Any]] = mapped_column(default=list)  # ts of recent offline transitions
    # latest health
    health_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    health: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_seen: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    last_received: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    clock_skew_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # live msgs
    first_seen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class HealthSample(Base):
    """Raw health history (kept ``health_raw_days``, then rolled up by hour)."""

    __tablename__ = "health_samples"
    __table_args__ = (Index("ix_health_samples_terminal_ts", "terminal", "ts"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    terminal: Mapped[str] = mapped_column(String(40))
    ts: Mapped[int] = mapped_column(BigInteger, index=True)
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)


class HealthHourly(Base):
    """Hourly roll-up of health samples older than the raw retention."""

    __tablename__ = "health_hourly"

    terminal: Mapped[str] = mapped_column(String(40), primary_key=True)
    hour_ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # ms, start of the hour
    samples: Mapped[int] = mapped_column(Integer, default=0)
    cpu_avg: Mapped[float | None] = mapped_column(Float, nullable=True)
    cpu_max: Mapped[float | None] = mapped_column(Float, nullable=True)
    disk_used_max: Mapped[float | None] = mapped_column(Float, nullable=True)
    unavailable_samples: Mapped[int] = mapped_column(Integer, default=0)
    outbox_depth_max: Mapped[int] = mapped_column(Integer, default=0)


# -- records (stored exactly once, deduped by id)
class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_terminal_ts", "terminal", "ts"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    terminal: Mapped[str] = mapped_column(String(40))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    ts: Mapped[int] = mapped_column(BigInteger, index=True)
    day: Mapped[date] = mapped_column(Date)
    item_code: Mapped[str] = mapped_column(String(64))
    item_name: Mapped[str] = mapped_column(String(200), default="")
    handling_number: Mapped[str] = mapped_column(String(64), default="")
    level: Mapped[str] = mapped_column(String(24))
    gbt39046_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    assess_number: Mapped[int] = mapped_column(Integer, default=1)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    text: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="")
    user_prop: Mapped[int | None] = mapped_column(Integer, nullable=True)
    identified: Mapped[bool] = mapped_column(Boolean, default=False)
    # sealed for the evaluation system's key; never listed or exported (services.cases opens it)
    real_name_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    received: Mapped[int] = mapped_column(BigInteger)


class RatingCount(Base):
    """Per day, terminal, item and level: what the statistics read (fast at 1,000,000 ratings)."""

    __tablename__ = "rating_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    terminal: Mapped[str] = mapped_column(String(40), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[str] = mapped_column(String(24), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class RatingTerminalDay(Base):
    """Per day, terminal and level (statistics by terminal or site without an item)."""

    __tablename__ = "rating_terminal_days"
    # covering (region, month by terminal reads the index alone): revision 0005
    __table_args__ = (Index("ix_rating_terminal_days_region_day_cover", "region_code", "day",
                            "terminal", "level", "count"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    terminal: Mapped[str] = mapped_column(String(40), primary_key=True)
    level: Mapped[str] = mapped_column(String(24), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class RatingRegionDay(Base):
    """Per day, region and level: region-wide figures stay small at millions of ratings."""

    __tablename__ = "rating_region_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    level: Mapped[str] = mapped_column(String(24), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SessionRegionDay(Base):
    """Per day, region and outcome (the active evaluation rate's denominator, region-wide)."""

    __tablename__ = "session_region_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_terminal_ts", "terminal", "ts"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    terminal: Mapped[str] = mapped_column(String(40))
    ts: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str] = mapped_column(String(24), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received: Mapped[int] = mapped_column(BigInteger)


class SessionCount(Base):
    """Per day, terminal and outcome: the denominator of the active evaluation rate."""

    __tablename__ = "session_counts"
    __table_args__ = (Index("ix_session_counts_region_day_cover", "region_code", "day",
                            "outcome", "terminal", "count"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    terminal: Mapped[str] = mapped_column(String(40), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


class CommandResult(Base):
    __tablename__ = "command_results"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the result message's id
    command_id: Mapped[str] = mapped_column(String(64), index=True)
    terminal: Mapped[str] = mapped_column(String(40))
    ts: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received: Mapped[int] = mapped_column(BigInteger)


# -- ingest bookkeeping
class Quarantine(Base):
    """A payload that failed validation, with the reason (the worker went on)."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    received: Mapped[int] = mapped_column(BigInteger, index=True)
    topic: Mapped[str] = mapped_column(String(300))
    terminal: Mapped[str] = mapped_column(String(64), default="", index=True)
    kind: Mapped[str] = mapped_column(String(24), default="")
    reason: Mapped[str] = mapped_column(String(40))  # bad_json, schema, oversized, ...
    detail: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str] = mapped_column(Text, default="")  # first 2 KiB, as text


class IngestCounter(Base):
    """Counters per worker (summed for ``/ingest/stats``): received, stored, duplicates,
    invalid."""

    __tablename__ = "ingest_counters"

    worker: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(24), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# -- alarms
class Alarm(Base):
    """active → acknowledged → cleared; a condition that comes back is a new row."""

    __tablename__ = "alarms"
    __table_args__ = (Index("ix_alarms_terminal_type_state", "terminal", "type", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    terminal: Mapped[str] = mapped_column(String(40), index=True)
    region_code: Mapped[str] = mapped_column(String(12), default="", index=True)
    type: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64), default="")  # e.g. the device kind
    state: Mapped[str] = mapped_column(String(16), index=True, default="active")
    severity: Mapped[str] = mapped_column(String(12), default="major")
    message: Mapped[str] = mapped_column(String(300), default="")
    since: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer, default=1)  # collapsed repeats (flapping)
    acked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    cleared_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cleared_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    notified_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


# -- follow-up cases -------------------------------------------------------------------------------
class Case(Base):
    """The follow-up of one bad rating (不满意 / 非常不满意)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rating_id: Mapped[str] = mapped_column(ForeignKey("ratings.id"), unique=True)
    terminal: Mapped[str] = mapped_column(String(40), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    item_code: Mapped[str] = mapped_column(String(64), default="")
    item_name: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[str] = mapped_column(String(24))
    identified: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    opened_at: Mapped[int] = mapped_column(BigInteger)
    deadline: Mapped[date] = mapped_column(Date, index=True)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")  # for appealed / not_rectified
    note: Mapped[str] = mapped_column(Text, default="")
    assignee: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[int] = mapped_column(BigInteger)
    closed_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CaseAudit(Base):
    """Every change of a case and every opening of its real-name part, with the user."""

    __tablename__ = "case_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[int] = mapped_column(BigInteger)
    user: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))  # opened, transition, note, open_real_name
    from_state: Mapped[str] = mapped_column(String(16), default="")
    to_state: Mapped[str] = mapped_column(String(16), default="")
    note: Mapped[str] = mapped_column(Text, default="")


# -- people and tokens
class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    role: Mapped[str] = mapped_column(String(16))
    region_prefix: Mapped[str] = mapped_column(String(12), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    role: Mapped[str] = mapped_column(String(16))
    region_prefix: Mapped[str] = mapped_column(String(12), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_used: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


# -- remote commands
class Command(Base):
    """One operator request; each target terminal gets its own signed message."""

    __tablename__ = "commands"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    args: Mapped[dict[str, Any]] = mapped_column(default=dict)
    target: Mapped[dict[str, Any]] = mapped_column(default=dict)  # how the targets were chosen
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires: Mapped[int] = mapped_column(BigInteger)


class CommandTarget(Base):
    __tablename__ = "command_targets"
    __table_args__ = (UniqueConstraint("command_id", "terminal"),)

    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # signed message id
    command_id: Mapped[str] = mapped_column(ForeignKey("commands.id"), index=True)
    terminal: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    # pending, done, refused, failed, unsupported, expired
    reason: Mapped[str] = mapped_column(String(32), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    expires: Mapped[int] = mapped_column(BigInteger, index=True)
    updated_at: Mapped[int] = mapped_column(BigInteger)


# -- coordination between fleet processes on one database
class Lease(Base):
    """A named lease (``fleet.lease``): the alarm timer runs in one process at a time, and an
    ingest worker's name is held by one process. The holder renews ``expires_at``; anyone
    may take a lease whose expiry has passed."""

    __tablename__ = "fleet_leases"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)  # "timer", "worker:NAME"
    holder: Mapped[str] = mapped_column(String(160))  # host:pid:random
    acquired_at: Mapped[int] = mapped_column(BigInteger)
    renewed_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)


# -- the console's notes (fleet/console/store.py)
class AlarmNote(Base):
    """A note written when an operator acknowledges an alarm in the console."""

    __tablename__ = "console_alarm_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[int] = mapped_column(BigInteger)
    user: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)

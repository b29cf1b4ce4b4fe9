"""Pydantic models of the REST API (the OpenAPI document comes from these)."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


class DeviceState(BaseModel):
    state: str | None
    reason: str = ""
    paper: str | None = None
    type: str = ""


class TerminalItem(BaseModel):
    id: str
    region_code: str
    site: str
    name: str
    online: bool
    status: Literal["online", "stale", "offline"]
    last_seen: str | None
    version: str
    devices: dict[str, DeviceState]
    outbox_depth: int | None = None
    disk_free_gb: float | None = None
    active_alarms: int = 0


class TerminalDetail(TerminalItem):
    location: dict[str, Any]
    opening_hours: list[dict[str, Any]]
    services: list[str]
    profile: str
    config_hash: str
    device_types: dict[str, str]
    presence_reason: str
    presence_at: str | None
    birth_at: str | None
    health_at: str | None
    health: dict[str, Any]
    first_seen: str | None


class AlarmItem(BaseModel):
    id: int
    terminal: str
    region_code: str
    type: str
    key: str
    state: Literal["active", "acknowledged", "cleared"]
    severity: str
    message: str
    since: str | None
    count: int
    acked_by: str | None
    acked_at: str | None
    cleared_by: str | None
    cleared_at: str | None


class LevelCounts(BaseModel):
    very_satisfied: int
    satisfied: int
    basic: int
    dissatisfied: int
    very_dissatisfied: int


class Figures(BaseModel):
    counts: LevelCounts
    not_rated: int
    rated: int
    satisfaction_rate: float | None
    bad_rate: float | None
    completed_sessions: int
    active_evaluation_rate: float | None


class GroupFigures(Figures):
    key: str


class RatingSummary(Figures):
    filter: dict[str, Any]
    labels: dict[str, str]
    active_evaluation_rate_formula: str
    group_by: str | None = None
    groups: list[GroupFigures] | None = None


class CaseItem(BaseModel):
    id: int
    rating_id: str
    terminal: str
    region_code: str
    item_code: str
    item_name: str
    level: str
    identified: bool
    state: str
    state_label: str
    opened_at: str | None
    deadline: str
    overdue: bool
    reason: str
    note: str
    assignee: str
    updated_at: str | None
    closed_at: str | None


class CaseDetail(CaseItem):
    rating: dict[str, Any] | None
    audit: list[dict[str, Any]]


class CasePatch(BaseModel):
    state: Literal["pending", "rectifying", "rectified", "revisited", "appealed",
                   "not_rectified"] | None = None
    reason: str = Field("", max_length=2000, description="needed for appealed / not_rectified")
    note: str = Field("", max_length=2000)
    assignee: str | None = Field(None, max_length=64)


class RealNameRequest(BaseModel):
    purpose: str = Field("", max_length=500, description="why it is opened (回访), audited")


class RealName(BaseModel):
    name: str
    id_number: str = ""
    id_type: str = ""
    phone: str = ""
    user_prop: int | None = None
    organisation: str = ""


class CommandTargetIn(BaseModel):
    terminal: str | None = None
    site: str | None = None
    region: str | None = None
    filter: dict[str, Any] | None = None


class CommandIn(BaseModel):
    name: str = Field(description="restart, reload_config, maintenance, print_test_page, "
                      "screenshot, set_log_level, flush_outbox")
    args: dict[str, Any] = Field(default_factory=dict)
    target: CommandTargetIn
    ttl_s: int = Field(300, ge=1, le=3600)


class CommandTargetOut(BaseModel):
    terminal: str
    message_id: str
    status: str
    reason: str
    detail: str
    updated_at: str | None


class CommandOut(BaseModel):
    id: str
    name: str
    args: dict[str, Any]
    target: dict[str, Any]
    created_by: str
    created_at: str | None
    expires: str | None
    counts: dict[str, int]
    targets: list[CommandTargetOut]


class IngestStats(BaseModel):
    received: int
    stored: int
    duplicates: int
    invalid: int
    by_worker: dict[str, dict[str, int]]
    quarantine_by_reason: dict[str, int]


class QuarantineItem(BaseModel):
    id: int
    received: str | None
    topic: str
    terminal: str
    kind: str
    reason: str
    detail: str


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    role: Literal["viewer", "operator", "evaluator", "admin"]
    region_prefix: str = Field("", max_length=6, pattern=r"^[0-9]*$")


class TokenOut(BaseModel):
    name: str
    role: str
    region_prefix: str
    token: str | None = Field(None, description="shown once, at creation")


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=10, max_length=200)
    role: Literal["viewer", "operator", "evaluator", "admin"]
    region_prefix: str = Field("", max_length=6, pattern=r"^[0-9]*$")


class UserOut(BaseModel):
    username: str
    role: str
    region_prefix: str
    disabled: bool

"""The hall API's request and response types (pydantic): the OpenAPI is generated from them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

RequestId = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
                  description="idempotency key: a retry with the same id gets the first answer")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorOut(BaseModel):
    error: ErrorBody


class HealthOut(BaseModel):
    ok: bool
    time: str
    day: str
    open: bool


class CategoryOut(BaseModel):
    code: str
    name: str
    waiting: int | None
    estimated_wait_min: int | None
    windows: list[str]
    area: str
    capacity_left: int | None
    open: bool
    next_open: str | None = None
    online: bool = True


class TicketOut(BaseModel):
    id: str
    number: str
    category: str
    category_name: str
    priority: Literal["normal", "appointment", "green"]
    state: Literal["waiting", "called", "served", "no_show", "cancelled", "parked"]
    day: str
    issued_at: str
    people_ahead: int | None
    estimated_wait_min: int | None
    windows: list[str]
    area: str
    holder: str
    window: str
    called_at: str | None
    finished_at: str | None
    terminal: str
    offline: bool
    appointment: str


class IssueIn(Strict):
    category: str = Field(min_length=1, max_length=4)
    priority: Literal["normal", "green"] = "normal"
    holder_name: str = Field(default="", max_length=60)
    terminal: str = Field(default="", max_length=40)
    request_id: str | None = RequestId


class CheckInIn(Strict):
    """An ID number (card read) or a booking code (scanned): at least one."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "anyOf": [{"required": ["id_number"]}, {"required": ["code"]}]})
    id_number: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=40)
    code: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=200)
    terminal: str = Field(default="", max_length=40)
    request_id: str | None = RequestId


class CallIn(Strict):
    request_id: str | None = RequestId


class CallOut(BaseModel):
    ticket: TicketOut | None


class WindowCategoriesIn(Strict):
    categories: list[str] | None = Field(description="category codes, or null: back to the "
                                         "schedule")


class TransferIn(Strict):
    """Exactly one: another category's queue, or one window."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "oneOf": [{"required": ["category"]}, {"required": ["window"]}]})
    category: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=4)
    window: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=16)


class PauseIn(Strict):
    paused: bool


class WindowOut(BaseModel):
    id: str
    name: str
    area: str
    categories: list[str]
    source: str
    current: TicketOut | None
    paused: bool = False


class AppointmentRow(Strict):
    """One booking. ``id_number`` and ``name`` are used once (a keyed hash and the masked
    name are kept); send them over HTTPS only."""

    # printable ASCII without blanks: a booking system's reference, and a class every regex
    # dialect reads alike (``\s`` differs between ECMA, Python and pydantic's engine)
    ref: str = Field(min_length=1, max_length=64, pattern=r"^[!-~]+$")
    category: str = Field(min_length=1, max_length=4, description="an unknown one is skipped")
    start: AwareDatetime = Field(description="booked time with its UTC offset")
    id_number: str = Field(default="", max_length=40)
    name: str = Field(default="", max_length=60)
    code: str = Field(default="", max_length=200)
    cancelled: bool = False


class AppointmentsIn(Strict):
    appointments: list[AppointmentRow] = Field(max_length=20000)


class ImportOut(BaseModel):
    added: int
    updated: int
    skipped: list[Any]


class OfflineIn(Strict):
    terminal: str = Field(min_length=1, max_length=40)
    tickets: list[dict[str, Any]] = Field(max_length=5000)


class ReconcileOut(BaseModel):
    accepted: list[str]
    duplicates: list[str]
    rejected: list[Any]


class LoginIn(Strict):
    name: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)


class SessionOut(BaseModel):
    name: str
    windows: list[str]
    role: str
    csrf: str


class HelpIn(Strict):
    terminal: str = Field(min_length=1, max_length=40)
    place: str = Field(min_length=1, max_length=100, description="where the kiosk stands, "
                       "as staff know it (\"A区入口 2号机\")")
    reason: str = Field(default="", max_length=200)
    request_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")


class HelpOut(BaseModel):
    id: str
    terminal: str
    place: str
    reason: str
    state: Literal["pending", "acknowledged", "done"]
    created_at: str
    by: str | None
    at: str | None


class CallLogOut(BaseModel):
    seq: int
    number: str
    window: str
    window_name: str
    area: str
    kind: Literal["call", "recall"]
    phrase: str
    at: str
    audio: str
    ticket_id: str | None = None  # staff view only (the display never gets ticket ids)


class StatsRow(BaseModel):
    day: str
    category: str
    window: str
    tickets: int
    served: int
    no_show: int
    wait_mean_s: float | None
    wait_p90_s: float | None
    service_mean_s: float | None
    service_p90_s: float | None


class PublicTicketOut(BaseModel):
    """What the phone ticket page shows: nothing about the person."""

    number: str
    category_name: str
    state: Literal["waiting", "called", "served", "no_show", "cancelled", "parked"]
    people_ahead: int | None
    estimated_wait_min: int | None
    window: str
    window_name: str
    area: str

"""The values the queue hands out: tickets, category and window states, appointments.

All are frozen dataclasses with ``to_dict``/``from_dict`` (the JSON of the HTTP API; times are
ISO 8601 with the site's offset). A ticket carries no personal data except, when the resident
identified, a masked name (``张*``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drivers.privacy import mask_id_number, mask_name

MAX_NUMBER = 999  # three digits: A001 … A999


class Priority(enum.IntEnum):
    """Higher is called first; within a priority, earlier issue first."""

    NORMAL = 0
    APPOINTMENT = 1
    GREEN = 2  # 绿色通道: elderly and disabled residents

    @property
    def word(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: Any) -> Priority:
        if isinstance(value, Priority):
            return value
        if isinstance(value, str) and value.upper() in cls.__members__:
            return cls[value.upper()]
        raise ValueError(f"unknown priority {value!r} (allowed: normal, appointment, green)")


class TicketState(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVED = "served"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    PARKED = "parked"  # put aside at the window, resumed later


def label(category: str, number: int) -> str:
    """``("A", 5)`` → ``"A005"``."""
    return f"{category}{number:03d}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "是")
    return bool(value)


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Ticket:
    id: str
    number: str  # "A005"
    category: str
    category_name: str
    priority: Priority
    state: TicketState
    day: str  # service day in the site's time zone, "2024-05-06"
    issued_at: datetime
    people_ahead: int | None = None  # None: unknown (offline ticket, or no longer waiting)
    estimated_wait_min: int | None = None  # None: unknown or no window serves it now
    windows: tuple[str, ...] = ()  # names of the windows serving the category now
    area: str = ""  # where those windows are ("A区")
    holder: str = ""  # masked name, only when the resident identified
    window: str = ""  # window id that called the ticket
    called_at: datetime | None = None
    finished_at: datetime | None = None
    terminal: str = ""
    offline: bool = False  # issued from the terminal's reserved range while the server was away
    appointment: str = ""  # booking reference for a checked-in appointment

    @property
    def waiting(self) -> bool:
        return self.state is TicketState.WAITING

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "number": self.number, "category": self.category,
            "category_name": self.category_name, "priority": self.priority.word,
            "state": self.state.value, "day": self.day, "issued_at": _iso(self.issued_at),
            "people_ahead": self.people_ahead, "estimated_wait_min": self.estimated_wait_min,
            "windows": list(self.windows), "area": self.area, "holder": mask_name(self.holder),
            "window": self.window, "called_at": _iso(self.called_at),
            "finished_at": _iso(self.finished_at), "terminal": self.terminal,
            "offline": self.offline, "appointment": self.appointment,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ticket:
        issued = _dt(data["issued_at"])
        assert issued is not None
        return cls(
            id=data["id"], number=data["number"], category=data["category"],
            category_name=data.get("category_name", ""),
            priority=Priority.parse(data.get("priority", "normal")),
            state=TicketState(data["state"]), day=data["day"], issued_at=issued,
            people_ahead=data.get("people_ahead"),
            estimated_wait_min=data.get("estimated_wait_min"),
            windows=tuple(data.get("windows") or ()), area=data.get("area", ""),
            holder=mask_name(data.get("holder", "")), window=data.get("window", "") or "",
            called_at=_dt(data.get("called_at")), finished_at=_dt(data.get("finished_at")),
            terminal=data.get("terminal", ""), offline=bool(data.get("offline", False)),
            appointment=data.get("appointment", "") or "",
        )


@dataclass(frozen=True)
class CategoryStatus:
    """One tile of the 取号 screen."""

    code: str
    name: str
    waiting: int | None  # None: unknown (hall server unreachable)
    estimated_wait_min: int | None  # for a normal ticket taken now
    windows: tuple[str, ...]
    area: str
    capacity_left: int | None
    open: bool
    next_open: datetime | None = None  # when closed or full: when numbers are given again
    online: bool = True  # False: the figures are not from the hall server

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "waiting": self.waiting,
                "estimated_wait_min": self.estimated_wait_min, "windows": list(self.windows),
                "area": self.area, "capacity_left": self.capacity_left, "open": self.open,
                "next_open": _iso(self.next_open), "online": self.online}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoryStatus:
        return cls(code=data["code"], name=data["name"], waiting=data.get("waiting"),
                   estimated_wait_min=data.get("estimated_wait_min"),
                   windows=tuple(data.get("windows") or ()), area=data.get("area", ""),
                   capacity_left=data.get("capacity_left"), open=bool(data["open"]),
                   next_open=_dt(data.get("next_open")), online=bool(data.get("online", True)))


@dataclass(frozen=True)
class WindowStatus:
    id: str
    name: str
    area: str
    categories: tuple[str, ...]  # served now
    source: str  # "default" | "tide" (the schedule) | "override" (set today by staff)
    current: Ticket | None = None  # the ticket called to this window and not finished

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "area": self.area,
                "categories": list(self.categories), "source": self.source,
                "current": self.current.to_dict() if self.current else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WindowStatus:
        current = data.get("current")
        return cls(id=data["id"], name=data["name"], area=data.get("area", ""),
                   categories=tuple(data.get("categories") or ()),
                   source=data.get("source", "default"),
                   current=Ticket.from_dict(current) if current else None)


@dataclass(frozen=True, repr=False)
class AppointmentIn:
    """A booking made elsewhere (online, phone), as imported.

    ``id_number`` and ``name`` are used once: the engine keeps a keyed hash of the ID number
    and the masked name, never the originals. ``start`` naive means site-local time.
    """

    ref: str  # the booking system's reference
    category: str
    start: datetime
    id_number: str = ""
    name: str = ""
    code: str = ""  # what the booking QR code holds; "" = the reference itself
    cancelled: bool = False  # cancelled in the booking system (re-import to cancel)

    def __repr__(self) -> str:
        return (f"AppointmentIn({self.ref!r}, {self.category!r}, {self.start.isoformat()}, "
                f"id={mask_id_number(self.id_number)!r}, name={mask_name(self.name)!r})")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppointmentIn:
        try:
            start = data["start"]
            start = start if isinstance(start, datetime) else datetime.fromisoformat(str(start))
            return cls(ref=str(data["ref"]).strip(), category=str(data["category"]).strip(),
                       start=start, id_number=str(data.get("id_number", "") or "").strip(),
                       name=str(data.get("name", "") or "").strip(),
                       code=str(data.get("code", "") or "").strip(),
                       cancelled=_truthy(data.get("cancelled", False)))
        except KeyError as exc:
            raise ValueError(f"an appointment needs {exc.args[0]!r}") from None
        except ValueError as exc:
            raise ValueError(f"bad start time {data.get('start')!r}: use ISO 8601, e.g. "
                             f"2024-05-06T10:00:00+08:00 ({exc})") from None

    def to_dict(self) -> dict[str, Any]:
        """For sending to the hall server (over HTTPS or loopback only)."""
        return {"ref": self.ref, "category": self.category, "start": self.start.isoformat(),
                "id_number": self.id_number, "name": self.name, "code": self.code,
                "cancelled": self.cancelled}


@dataclass(frozen=True)
class ImportResult:
    added: int = 0
    updated: int = 0
    skipped: tuple[tuple[str, str], ...] = field(default=())  # (ref, reason)

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.added, "updated": self.updated,
                "skipped": [{"ref": ref, "reason": why} for ref, why in self.skipped]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportResult:
        return cls(added=int(data.get("added", 0)), updated=int(data.get("updated", 0)),
                   skipped=tuple((s["ref"], s["reason"]) for s in data.get("skipped", ())))


@dataclass(frozen=True)
class ReconcileResult:
    """What the hall server did with a batch of offline tickets."""

    accepted: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()  # already known (an earlier batch was answered but lost)
    rejected: tuple[tuple[str, str], ...] = ()  # (ticket id, reason)

    def to_dict(self) -> dict[str, Any]:
        return {"accepted": list(self.accepted), "duplicates": list(self.duplicates),
                "rejected": [{"id": tid, "reason": why} for tid, why in self.rejected]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReconcileResult:
        return cls(accepted=tuple(data.get("accepted", ())),
                   duplicates=tuple(data.get("duplicates", ())),
                   rejected=tuple((r["id"], r["reason"]) for r in data.get("rejected", ())))

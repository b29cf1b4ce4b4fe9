"""The hall server's API as a table of routes: what :mod:`kiosk.queue.server` dispatches and
what :mod:`kiosk.queue.openapi` describes, so the description cannot drift from the code.

Paths are relative to the API base ``/api/v1`` (the server also answers them without the
prefix, so ``backends.queue.url`` may be ``http://host:port`` or ``http://host:port/api/v1``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.queue.engine import QueueEngine
from kiosk.queue.errors import InvalidRequest
from kiosk.queue.models import AppointmentIn

API_PREFIX = "/api/v1"
Handler = Callable[[QueueEngine, dict[str, str], dict[str, Any], dict[str, str]], Any]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "/tickets/{ticket_id}"
    handler: Handler
    summary: str
    request: str | None = None  # name of the request body schema
    response: str = ""  # schema name, "[Name]" for an array
    status: int = 200
    tag: str = "kiosk"
    query: tuple[tuple[str, str], ...] = ()  # (name, description)
    errors: tuple[int, ...] = (422,)
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path)
        object.__setattr__(self, "regex", re.compile(f"^{pattern}$"))

    @property
    def params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)


def _text(body: dict[str, Any], key: str, *, required: bool = False, limit: int = 200) -> str:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise InvalidRequest(f"{key} is required", field=key)
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidRequest(f"{key} must be a string of at most {limit} characters", field=key)
    return value


# -- handlers ------------------------------------------------------------------------------------
def _health(engine: QueueEngine, _p: dict[str, str], _b: dict[str, Any],
            _q: dict[str, str]) -> Any:
    now = engine.now()
    return {"ok": True, "time": now.isoformat(), "day": now.date().isoformat(),
            "open": engine.hours.is_open(now)}


def _categories(engine: QueueEngine, _p: dict[str, str], _b: dict[str, Any],
                _q: dict[str, str]) -> Any:
    return [c.to_dict() for c in engine.categories()]


def _category(engine: QueueEngine, p: dict[str, str], _b: dict[str, Any],
              _q: dict[str, str]) -> Any:
    return engine.category(p["code"]).to_dict()


def _issue(engine: QueueEngine, _p: dict[str, str], b: dict[str, Any],
           _q: dict[str, str]) -> Any:
    return engine.issue_ticket(
        _text(b, "category", required=True, limit=4), priority=_text(b, "priority") or "normal",
        holder_name=_text(b, "holder_name", limit=60), terminal=_text(b, "terminal", limit=40),
        request_id=_text(b, "request_id", limit=64) or None).to_dict()


def _ticket(engine: QueueEngine, p: dict[str, str], _b: dict[str, Any],
            _q: dict[str, str]) -> Any:
    return engine.ticket(p["ticket_id"]).to_dict()


def _cancel(engine: QueueEngine, p: dict[str, str], _b: dict[str, Any],
            _q: dict[str, str]) -> Any:
    return engine.cancel(p["ticket_id"]).to_dict()


def _served(engine: QueueEngine, p: dict[str, str], _b: dict[str, Any],
            _q: dict[str, str]) -> Any:
    return engine.mark_served(p["ticket_id"]).to_dict()


def _no_show(engine: QueueEngine, p: dict[str, str], _b: dict[str, Any],
             _q: dict[str, str]) -> Any:
    return engine.mark_no_show(p["ticket_id"]).to_dict()


def _check_in(engine: QueueEngine, _p: dict[str, str], b: dict[str, Any],
              _q: dict[str, str]) -> Any:
    return engine.check_in(id_number=_text(b, "id_number", limit=40),
                           code=_text(b, "code", limit=200),
                           terminal=_text(b, "terminal", limit=40),
                           request_id=_text(b, "request_id", limit=64) or None).to_dict()


def _windows(engine: QueueEngine, _p: dict[str, str], _b: dict[str, Any],
             _q: dict[str, str]) -> Any:
    return [w.to_dict() for w in engine.windows()]


def _call_next(engine: QueueEngine, p: dict[str, str], b: dict[str, Any],
               _q: dict[str, str]) -> Any:
    ticket = engine.call_next(p["window_id"], request_id=_text(b, "request_id", limit=64) or None)
    return {"ticket": ticket.to_dict() if ticket else None}


def _set_categories(engine: QueueEngine, p: dict[str, str], b: dict[str, Any],
                    _q: dict[str, str]) -> Any:
    if "categories" not in b:
        raise InvalidRequest("categories is required (a list of codes, or null for the "
                             "schedule)", field="categories")
    codes = b["categories"]
    if codes is not None and (not isinstance(codes, list)
                              or not all(isinstance(c, str) for c in codes)):
        raise InvalidRequest("categories must be a list of category codes or null",
                             field="categories")
    return engine.set_window_categories(p["window_id"], codes).to_dict()


def _calls(engine: QueueEngine, _p: dict[str, str], _b: dict[str, Any],
           q: dict[str, str]) -> Any:
    try:
        limit = int(q.get("limit", "10"))
    except ValueError:
        raise InvalidRequest("limit must be a whole number", field="limit") from None
    return [t.to_dict() for t in engine.recent_calls(limit)]


def _appointments(engine: QueueEngine, _p: dict[str, str], b: dict[str, Any],
                  _q: dict[str, str]) -> Any:
    rows = b.get("appointments")
    if not isinstance(rows, list):
        raise InvalidRequest("appointments must be a list", field="appointments")
    items = []
    for index, row in enumerate(rows, start=1):
        try:
            if not isinstance(row, dict):
                raise ValueError("not an object")
            items.append(AppointmentIn.from_dict(row))
        except ValueError as exc:
            raise InvalidRequest(f"appointment {index}: {exc}", field="appointments") from None
    return engine.import_appointments(items).to_dict()


def _offline(engine: QueueEngine, _p: dict[str, str], b: dict[str, Any],
             _q: dict[str, str]) -> Any:
    tickets = b.get("tickets")
    if not isinstance(tickets, list):
        raise InvalidRequest("tickets must be a list", field="tickets")
    terminal = _text(b, "terminal", required=True, limit=40)
    return engine.accept_offline(terminal, tickets).to_dict()


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", _health, "Server up, its clock and service day", response="Health",
          tag="system", errors=()),
    Route("GET", "/categories", _categories, "Status of every category (the 取号 tiles)",
          response="[CategoryStatus]", errors=()),
    Route("GET", "/categories/{code}", _category, "Status of one category",
          response="CategoryStatus"),
    Route("POST", "/tickets", _issue, "Issue a ticket", request="IssueRequest",
          response="Ticket", status=201, errors=(409, 422)),
    Route("GET", "/tickets/{ticket_id}", _ticket, "A ticket with people ahead and the "
          "estimated wait", response="Ticket", errors=(404,)),
    Route("POST", "/tickets/{ticket_id}/cancel", _cancel, "Cancel a waiting ticket",
          response="Ticket", errors=(404, 409)),
    Route("POST", "/checkin", _check_in, "Check in an appointment (ID number or booking code)",
          request="CheckInRequest", response="Ticket", status=201, errors=(409, 422)),
    Route("GET", "/windows", _windows, "Windows, what they serve now and who is called there",
          response="[WindowStatus]", tag="staff", errors=()),
    Route("POST", "/windows/{window_id}/call-next", _call_next, "Call the next ticket at a "
          "window (the ticket still called there is marked served)", request="CallRequest",
          response="CallResult", tag="staff"),
    Route("PUT", "/windows/{window_id}/categories", _set_categories, "Change what a window "
          "serves for the rest of today (null: back to the schedule)",
          request="WindowCategories", response="WindowStatus", tag="staff"),
    Route("POST", "/tickets/{ticket_id}/served", _served, "Mark a called ticket served",
          response="Ticket", tag="staff", errors=(404, 409)),
    Route("POST", "/tickets/{ticket_id}/no-show", _no_show, "Mark a called ticket no-show",
          response="Ticket", tag="staff", errors=(404, 409)),
    Route("GET", "/calls", _calls, "Today's calls, newest first (calling display)",
          response="[Ticket]", tag="display", query=(("limit", "how many, 1 to 100 (10)"),)),
    Route("POST", "/appointments", _appointments, "Import or update appointments",
          request="AppointmentImport", response="ImportResult", tag="appointments"),
    Route("POST", "/offline/tickets", _offline, "Hand over tickets a kiosk issued from its "
          "reserved range while offline", request="OfflineBatch", response="ReconcileResult",
          tag="kiosk"),
)


def match(method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """(route, path parameters, whether the path exists with another method)."""
    path_known = False
    for route in ROUTES:
        found = route.regex.match(path)
        if found:
            if route.method == method:
                return route, found.groupdict(), True
            path_known = True
    return None, {}, path_known


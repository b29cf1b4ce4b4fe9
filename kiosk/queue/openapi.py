"""The OpenAPI 3.1 description of the hall server, built from :data:`kiosk.queue.api.ROUTES`.

Served at ``/openapi.json``; ``python -m kiosk.queue openapi`` prints it. The schemas below
are the JSON of :mod:`kiosk.queue.models`; a test checks real answers against them.
"""

from __future__ import annotations

from typing import Any

from kiosk.queue.api import API_PREFIX, ROUTES, Route
from kiosk.queue.errors import ERRORS

_STR = {"type": "string"}
_INT = {"type": "integer"}
_TIME = {"type": "string", "format": "date-time"}
_NTIME = {"type": ["string", "null"], "format": "date-time"}
_NINT = {"type": ["integer", "null"]}
_STRS = {"type": "array", "items": _STR}


def _obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any
         ) -> dict[str, Any]:
    return {"type": "object", "properties": props,
            "required": list(props) if required is None else required, **extra}


SCHEMAS: dict[str, dict[str, Any]] = {
    "Ticket": _obj({
        "id": _STR,
        "number": {"type": "string", "pattern": "^[A-Z][0-9]{3}$",
                   "description": "category letter and three digits, e.g. A005"},
        "category": _STR, "category_name": _STR,
        "priority": {"type": "string", "enum": ["normal", "appointment", "green"]},
        "state": {"type": "string",
                  "enum": ["waiting", "called", "served", "no_show", "cancelled"]},
        "day": {"type": "string", "format": "date",
                "description": "service day in the site's time zone"},
        "issued_at": _TIME,
        "people_ahead": {**_NINT, "description": "null when not waiting or unknown"},
        "estimated_wait_min": {**_NINT, "description": "null when no window serves it now"},
        "windows": {**_STRS, "description": "names of the windows serving the category now"},
        "area": _STR,
        "holder": {"type": "string", "description": "masked name (张*), only after "
                   "identification; otherwise empty"},
        "window": {"type": "string", "description": "window id that called it"},
        "called_at": _NTIME, "finished_at": _NTIME, "terminal": _STR,
        "offline": {"type": "boolean"}, "appointment": _STR,
    }),
    "CategoryStatus": _obj({
        "code": _STR, "name": _STR, "waiting": _NINT, "estimated_wait_min": _NINT,
        "windows": _STRS, "area": _STR, "capacity_left": _NINT, "open": {"type": "boolean"},
        "next_open": {**_NTIME, "description": "when closed or full: next time numbers are "
                      "given"},
        "online": {"type": "boolean"},
    }),
    "WindowStatus": _obj({
        "id": _STR, "name": _STR, "area": _STR, "categories": _STRS,
        "source": {"type": "string", "enum": ["default", "tide", "override"]},
        "current": {"oneOf": [{"$ref": "#/components/schemas/Ticket"}, {"type": "null"}]},
    }),
    "CallResult": _obj({"ticket": {"oneOf": [{"$ref": "#/components/schemas/Ticket"},
                                             {"type": "null"}]}}),
    "Health": _obj({"ok": {"type": "boolean"}, "time": _TIME, "day": _STR,
                    "open": {"type": "boolean"}}),
    "ImportResult": _obj({"added": _INT, "updated": _INT,
                          "skipped": {"type": "array", "items": _obj({"ref": _STR,
                                                                      "reason": _STR})}}),
    "ReconcileResult": _obj({"accepted": _STRS, "duplicates": _STRS,
                             "rejected": {"type": "array",
                                          "items": _obj({"id": _STR, "reason": _STR})}}),
    "IssueRequest": _obj({
        "category": {"type": "string", "description": "category code, e.g. A"},
        "priority": {"type": "string", "enum": ["normal", "green"], "default": "normal"},
        "holder_name": {"type": "string", "description": "only after identification; stored "
                        "masked"},
        "terminal": _STR,
        "request_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$",
                       "description": "idempotency key: the same id returns the same ticket"},
    }, required=["category"]),
    "CheckInRequest": _obj({
        "id_number": {"type": "string", "description": "from the ID card; send over HTTPS or "
                      "loopback only; never stored (a keyed hash is compared)"},
        "code": {"type": "string", "description": "scanned booking code"},
        "terminal": _STR,
        "request_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"},
    }, required=[]),
    "CallRequest": _obj({"request_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$",
                                        "description": "idempotency key of the call"}},
                        required=[]),
    "WindowCategories": _obj({"categories": {"type": ["array", "null"], "items": _STR}}),
    "Appointment": _obj({
        "ref": _STR, "category": _STR, "start": _TIME,
        "id_number": _STR, "name": _STR, "code": _STR, "cancelled": {"type": "boolean"},
    }, required=["ref", "category", "start"]),
    "AppointmentImport": _obj({"appointments": {
        "type": "array", "items": {"$ref": "#/components/schemas/Appointment"}}}),
    "OfflineTicket": _obj({
        "id": _STR, "request_id": _STR, "day": {"type": "string", "format": "date"},
        "category": _STR, "number": _INT,
        "priority": {"type": "string", "enum": ["normal", "green"]},
        "holder": _STR, "issued_at": _TIME,
    }, required=["id", "day", "category", "number", "issued_at"]),
    "OfflineBatch": _obj({"terminal": _STR, "tickets": {
        "type": "array", "items": {"$ref": "#/components/schemas/OfflineTicket"}}}),
    "Error": _obj({"error": _obj({
        "code": {"type": "string", "enum": [*sorted(ERRORS), "no_route", "internal"]},
        "message": {"type": "string", "description": "Chinese, fit to show a resident"},
        "details": {"type": "object"},
    })}),
}

_ERROR_TEXT = {404: "not found", 409: "refused in the current state (closed, full, "
               "too early/late, bad state)", 422: "invalid request"}


def _schema_ref(name: str) -> dict[str, Any]:
    if name.startswith("["):
        return {"type": "array", "items": {"$ref": f"#/components/schemas/{name[1:-1]}"}}
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": route.summary, "tags": [route.tag],
        "operationId": route.method.lower() + "_" + "_".join(
            part.strip("{}").replace("-", "_") for part in route.path.strip("/").split("/")),
        "responses": {str(route.status): {"description": "OK", **_json(_schema_ref(
            route.response))}},
    }
    params = [{"name": name, "in": "path", "required": True, "schema": _STR}
              for name in route.params]
    params += [{"name": name, "in": "query", "required": False, "description": text,
                "schema": _INT} for name, text in route.query]
    if params:
        op["parameters"] = params
    if route.request:
        op["requestBody"] = {"required": True, **_json(_schema_ref(route.request))}
    for status in route.errors:
        op["responses"][str(status)] = {"description": _ERROR_TEXT[status],
                                        **_json(_schema_ref("Error"))}
    op["responses"]["503"] = {"description": "the queue database is unavailable",
                              **_json(_schema_ref("Error"))}
    return op


def build_spec(server_url: str = "") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "爱山东 hall queue server (叫号/取号)", "version": "1.0.0",
                 "description": "Issue tickets, check in appointments, category status, call "
                 "the next number at a window, mark served/no-show, cancel. Times are ISO 8601 "
                 "with the site's offset. Every changing request may carry a request_id; a "
                 "retry with the same id returns the first answer. Errors are {error: {code, "
                 "message, details}}."},
        "servers": [{"url": (server_url.rstrip("/") + API_PREFIX) if server_url
                     else API_PREFIX}],
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }

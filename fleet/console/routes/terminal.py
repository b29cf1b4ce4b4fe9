"""The terminal page: identity, location, hours, services, devices, charts, history, commands."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from fleet.auth import NotFound
from fleet.clock import now_ms
from fleet.console import backend
from fleet.console.web import (
    ConsoleError,
    allows,
    lang_of,
    principal,
    render,
    require_user,
)
from fleet.console.words import (
    ALARM_STATE_LABELS,
    ALARM_TYPE_LABELS,
    COMMAND_LABELS,
    COMMAND_STATUS_LABELS,
    DEVICE_LABELS,
    DEVICE_STATE_LABELS,
    EVENT_LABELS,
    PAPER_LABELS,
    SERVICE_LABELS,
    SEVERITY_LABELS,
    STATE_LABELS,
    event_text,
)

router = APIRouter()

# The commands the console offers, with their arguments; each needs the operator role.
COMMANDS = (("print_test_page", {}), ("flush_outbox", {}), ("maintenance_on", {"on": True}),
            ("maintenance_off", {"on": False}), ("reload_config", {}), ("restart", {}))


def labels() -> dict:
    return {"state_label": lambda s: STATE_LABELS.get(s, s),
            "device_label": lambda d: DEVICE_LABELS.get(d, d),
            "service_label": lambda s: SERVICE_LABELS.get(s, s),
            "alarm_type_label": lambda s: ALARM_TYPE_LABELS.get(s, s),
            "alarm_state_label": lambda s: ALARM_STATE_LABELS.get(s, s),
            "severity_label": lambda s: SEVERITY_LABELS.get(s, s),
            "command_label": lambda s: COMMAND_LABELS.get(s, s),
            "command_status_label": lambda s: COMMAND_STATUS_LABELS.get(s, s),
            "event_label": lambda n: EVENT_LABELS.get(n, n),
            "device_state_label": lambda s: DEVICE_STATE_LABELS.get(s or "unknown", s),
            "paper_label": lambda p: PAPER_LABELS.get(p, p),
            "event_text": lambda e, t: event_text(e.data or {}, t),
            "when": backend.when}


@router.get("/terminals/{terminal_id}", response_class=HTMLResponse)
def terminal_page(request: Request, terminal_id: str) -> Response:
    session = require_user(request)
    try:
        with backend.database(request).session() as s:
            data = backend.terminal_page(s, principal(session), terminal_id, now_ms(),
                                         backend.rules(request), lang_of(request))
    except NotFound as exc:
        raise ConsoleError(404, str(exc)) from exc
    commands = COMMANDS if allows(session, "operator") else ()
    return render(request, "terminal.html", title="终端 {id}",
                  title_values={"id": terminal_id}, active="overview",
                  session=session, commands=commands, **data, **labels())


@router.get("/terminals/{terminal_id}/health.json")
def terminal_health(request: Request, terminal_id: str, hours: int = 24) -> Response:
    session = require_user(request)
    hours = max(1, min(hours, 24 * 7))
    try:
        with backend.database(request).session() as s:
            backend.terminal_service.get_terminal(s, principal(session), terminal_id)
            data = backend.health_series(s, terminal_id, now_ms(), hours)
    except NotFound as exc:
        raise ConsoleError(404, str(exc)) from exc
    return Response(json.dumps(data), media_type="application/json")


def command_args(name: str) -> tuple[str, dict]:
    """The console's button name → the wire command and its arguments."""
    for button, args in COMMANDS:
        if button == name:
            return ("maintenance" if button.startswith("maintenance_") else button), args
    raise ConsoleError(422, f"command {name!r}: use one of "
                            f"{', '.join(b for b, _ in COMMANDS)}")


@router.post("/terminals/{terminal_id}/commands")
async def send_command(request: Request, terminal_id: str) -> Response:
    from fleet.auth import Forbidden, Invalid
    from fleet.console.web import check_csrf, redirect, require_role
    from fleet.services import commands as command_service

    session = require_user(request)
    form = await check_csrf(request, session)
    require_role(session, "operator")
    name, args = command_args(str(form.get("command", "")))
    svc = backend.services(request)
    try:
        with svc.db.session() as s:
            command_service.send(s, principal(session), svc.command_key, svc.publish_command,
                                 name, args, {"terminal": terminal_id}, svc.now(),
                                 ttl_s=svc.settings.command_ttl_s)
    except Forbidden as exc:
        raise ConsoleError(403, str(exc)) from exc
    except (Invalid, NotFound) as exc:
        return redirect(f"/terminals/{terminal_id}?error={_q(str(exc))}")
    return redirect(f"/terminals/{terminal_id}?ok={_q('命令已发送')}#commands")


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


@router.get("/commands/{command_id}", response_class=HTMLResponse)
def command_page(request: Request, command_id: str) -> Response:
    """One command and every target's result (pending, done, refused, failed, expired)."""
    from fleet.services import commands as command_service

    session = require_user(request)
    try:
        with backend.database(request).session() as s:
            command = command_service.get_command(s, principal(session), command_id)
    except NotFound as exc:
        raise ConsoleError(404, str(exc)) from exc
    return render(request, "command.html", title="命令", active="overview", session=session,
                  command=command, **labels())

"""告警: open alarms first, acknowledge with a note, history, filters."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from fleet.auth import Forbidden, Invalid, NotFound
from fleet.console import backend, store
from fleet.console.routes.terminal import labels
from fleet.console.web import (
    ConsoleError,
    check_csrf,
    principal,
    redirect,
    render,
    require_role,
    require_user,
)
from fleet.console.words import ALARM_TYPE_LABELS, region_label
from fleet.services import alarms as alarm_service

router = APIRouter()


@router.get("/alarms", response_class=HTMLResponse)
def alarms_page(request: Request) -> Response:
    session = require_user(request)
    q = request.query_params
    f = {"state": q.get("state", "open"), "terminal": q.get("terminal", "").strip(),
         "type": q.get("type", ""), "region": q.get("region", "").strip()}
    if f["state"] not in ("open", "active", "acknowledged", "cleared", "all"):
        f["state"] = "open"
    page = max(1, int(q.get("page", "1") or 1)) if q.get("page", "1").isdigit() else 1
    who = principal(session)
    with backend.database(request).session() as s:
        try:
            found = alarm_service.list_alarms(
                s, who, state="" if f["state"] == "all" else f["state"],
                terminal=f["terminal"], type_=f["type"], region=f["region"], page=page,
                per_page=100)
        except Invalid as exc:
            raise ConsoleError(422, str(exc)) from exc
        items = found.items
        order = {"active": 0, "acknowledged": 1, "cleared": 2}
        severity = {"critical": 0, "major": 1, "minor": 2}
        items.sort(key=lambda a: (order.get(a["state"], 3), severity.get(a["severity"], 3),
                                  -(a["id"])))
        notes = store.alarm_notes_for(s, [a["id"] for a in items])
    for a in items:
        a["region_label"] = region_label(a["region_code"])
        a["notes"] = notes.get(a["id"], [])
    more = {k: v for k, v in f.items() if v}
    return render(request, "alarms.html", title="告警", active="alarms", session=session,
                  alarms=items, total=found.total, page=page, per_page=found.per_page,
                  f=f, types=alarm_service.TYPES, query=urlencode(more),
                  type_labels=ALARM_TYPE_LABELS, **labels())


@router.post("/alarms/ack")
async def acknowledge_many(request: Request) -> Response:
    """Acknowledge every checked alarm with one note (a whole site's paper-outs at once)."""
    session = require_user(request)
    await check_csrf(request, session)
    require_role(session, "operator")
    form = await request.form()
    ids = [int(v) for v in form.getlist("ids") if str(v).isdigit()]
    note = str(form.get("note", "")).strip()
    back = _back(str(form.get("back", "/alarms")))
    sep = "&" if "?" in back else "?"
    if not ids:
        return redirect(f"{back}{sep}error={quote('请先勾选要确认的告警。')}")
    if not note:
        return redirect(f"{back}{sep}error={quote('确认告警需要填写处理说明。')}")
    svc = backend.services(request)
    try:
        with svc.db.session() as s:
            for alarm_id in ids:
                alarm_service.acknowledge(s, principal(session), alarm_id, svc.now())
                store.add_alarm_note(s, alarm_id, session.username, note, svc.now())
    except Forbidden as exc:
        raise ConsoleError(403, str(exc)) from exc
    except (Invalid, NotFound) as exc:  # nothing of the batch is kept: say which one failed
        return redirect(f"{back}{sep}error={quote(str(exc))}")
    return redirect(f"{back}{sep}ok={quote('告警已确认')}")


def _back(back: str) -> str:
    return back if back.startswith("/") and not back.startswith("//") else "/alarms"


@router.post("/alarms/{alarm_id}/ack")
async def acknowledge(request: Request, alarm_id: int) -> Response:
    session = require_user(request)
    form = await check_csrf(request, session)
    require_role(session, "operator")
    note = str(form.get("note", "")).strip()
    back = _back(str(form.get("back", "/alarms")))
    sep = "&" if "?" in back else "?"
    if not note:
        return redirect(f"{back}{sep}error={quote('确认告警需要填写处理说明。')}")
    svc = backend.services(request)
    try:
        with svc.db.session() as s:
            alarm_service.acknowledge(s, principal(session), alarm_id, svc.now())
            store.add_alarm_note(s, alarm_id, session.username, note, svc.now())
    except Forbidden as exc:
        raise ConsoleError(403, str(exc)) from exc
    except (Invalid, NotFound) as exc:
        return redirect(f"{back}{sep}error={quote(str(exc))}")
    return redirect(f"{back}{sep}ok={quote('告警已确认')}")

"""总览: counts by state and region, every terminal as a tile, live over server-sent events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from fleet.clock import now_ms
from fleet.console import backend
from fleet.console.web import console_state, lang_of, render, require_user, templates
from fleet.console.words import DEVICE_LABELS, STATE_LABELS, STATES

router = APIRouter()


def _filters(request: Request) -> backend.OverviewFilters:
    q = request.query_params
    return backend.OverviewFilters(region=q.get("region", ""), site=q.get("site", ""),
                                   state=q.get("state", "") if q.get("state") in STATES else "",
                                   device=q.get("device", ""), q=q.get("q", "").strip()[:64])


def _data(request: Request, filters: backend.OverviewFilters) -> dict:
    session = require_user(request)
    from fleet.console.web import principal

    with backend.database(request).session() as s:
        return backend.overview(s, principal(session), now_ms(), backend.rules(request),
                                lang_of(request), filters)


def _labels() -> dict:
    return {"state_label": lambda s: STATE_LABELS.get(s, s),
            "device_label": lambda d: DEVICE_LABELS.get(d, d), "states": STATES}


@router.get("/", response_class=HTMLResponse)
def overview_page(request: Request) -> Response:
    session = require_user(request)
    filters = _filters(request)
    data = _data(request, filters)
    from fleet.console.routes.terminal import COMMANDS, labels

    return render(request, "overview.html", title="总览", active="overview", session=session,
                  f=filters, query=filters.query(), commands=COMMANDS, **data,
                  **{**labels(), **_labels()})


@router.post("/commands/group")
async def group_command(request: Request) -> Response:
    """One command for every terminal the overview's filters select (the server works the
    selection out again from the filters; the page's list is only shown for confirmation)."""
    from urllib.parse import quote

    from fleet.auth import Forbidden, Invalid, NotFound
    from fleet.console.routes.terminal import command_args
    from fleet.console.web import ConsoleError, check_csrf, principal, redirect, require_role
    from fleet.services import commands as command_service

    session = require_user(request)
    form = await check_csrf(request, session)
    require_role(session, "operator")
    name, args = command_args(str(form.get("command", "")))
    filters = backend.OverviewFilters(**{k: str(form.get(f"f_{k}", "")) for k in
                                         ("region", "site", "state", "device", "q")})
    back = "/?" + filters.query()
    svc = backend.services(request)
    try:
        with svc.db.session() as s:
            ids = [t.id for t in backend.tiles(s, principal(session), svc.now(),
                                               backend.rules(request), lang_of(request),
                                               filters)]
            if not ids:
                raise Invalid("no terminal matches these filters")
            command = command_service.send(s, principal(session), svc.command_key,
                                           svc.publish_command, name, args,
                                           {"filter": {"ids": ids}}, svc.now(),
                                           ttl_s=svc.settings.command_ttl_s)
            command_id = command.id
    except Forbidden as exc:
        raise ConsoleError(403, str(exc)) from exc
    except (Invalid, NotFound) as exc:
        return redirect(f"{back}&error={quote(str(exc))}")
    return redirect(f"/commands/{command_id}")


def _fragment(request: Request, filters: backend.OverviewFilters) -> str:
    from fleet.console.i18n import translate

    lang = lang_of(request)
    ctx = {"request": request, "lang": lang,
           "t": lambda text, **v: translate(text, lang, **v), **_labels(),
           **_data(request, filters)}
    return templates.get_template("_overview_body.html").render(ctx)


@router.get("/overview/fragment", response_class=HTMLResponse)
def overview_fragment(request: Request) -> Response:
    require_user(request)
    return HTMLResponse(_fragment(request, _filters(request)))


@router.get("/overview.json")
def overview_json(request: Request) -> Response:
    data = _data(request, _filters(request))
    data["tiles"] = [t.__dict__ for t in data["tiles"]]
    data["attention"] = [t.id for t in data["attention"]]
    return Response(json.dumps(data, ensure_ascii=False, default=str),
                    media_type="application/json")


@router.get("/overview/stream")
async def overview_stream(request: Request) -> Response:
    """Server-sent events: ``body`` with the re-rendered overview whenever it changes.

    Each stream lasts at most ``max_s`` (the browser reconnects by itself), so a server that
    stops never waits long for open streams.
    """
    require_user(request)
    filters = _filters(request)
    interval = console_state(request).live_interval_s
    max_s = 120.0

    async def events() -> AsyncIterator[str]:
        last = None
        waited = 0.0
        yield "retry: 2000\n\n"
        while waited < max_s:
            if await request.is_disconnected():
                return
            try:
                html = await asyncio.to_thread(_fragment, request, filters)
            except Exception:  # the session ended or the database is busy: tell the browser
                yield "event: error\ndata: refresh\n\n"
                return
            if html != last:
                last = html
                data = "\n".join(f"data: {line}" for line in html.splitlines())
                yield f"event: body\n{data}\n\n"
            else:
                yield ": keep-alive\n\n"
            await asyncio.sleep(interval)
            waited += interval

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

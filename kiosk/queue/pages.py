"""The hall server's pages and live streams: staff login and workstation, the calling display
(叫号屏) and the phone ticket page, each fed by server-sent events. Not in the OpenAPI (they
are HTML and streams); the JSON they read is.

HTML lives in ``web/*.html`` (self-contained: no external scripts or fonts; text is written
with ``textContent`` only). Values go into a page through a ``<script type=application/json>``
block, never into markup.
"""

from __future__ import annotations

import asyncio
import html
import json
import secrets
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Header, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.responses import StreamingResponse

from kiosk.queue import lane
from kiosk.queue.app import SESSION_COOKIE, client_address, service
from kiosk.queue.errors import LoginLocked, QueueError, TicketNotFound
from kiosk.queue.hall import AuthError
from kiosk.queue.hallservice import HallService
from kiosk.queue.models import Ticket

WEB = Path(__file__).with_name("web")
Svc = Annotated[HallService, Depends(service)]
LOGIN_CSRF = "kq_login_csrf"
KEEPALIVE_S = 15.0


@cache
def _template(name: str) -> str:
    return (WEB / name).read_text(encoding="utf-8")


def _page(name: str, data: dict[str, Any], status: int = 200) -> HTMLResponse:
    blob = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    body = _template(name).replace("{{DATA}}", blob)
    return HTMLResponse(body, status_code=status, headers={
        "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-inline'; media-src 'self'; frame-ancestors 'none'"})


def public_ticket(svc: HallService, ticket: Ticket) -> dict[str, Any]:
    window = svc.settings.window_map.get(ticket.window) if ticket.window else None
    return {"number": ticket.number, "category_name": ticket.category_name,
            "state": ticket.state.value, "people_ahead": ticket.people_ahead,
            "estimated_wait_min": ticket.estimated_wait_min, "window": ticket.window,
            "window_name": window.name if window else "",
            "area": window.area if window else ticket.area}


def _area_windows(svc: HallService, area: str) -> list[str]:
    wanted = area.strip()
    return [w.id for w in svc.settings.windows
            if not wanted or w.area in (wanted, f"{wanted}区")]


def display_state(svc: HallService, area: str) -> dict[str, Any]:
    ids = set(_area_windows(svc, area))
    windows = [{"id": w.id, "name": w.name, "area": w.area,
                "current": w.current.number if w.current else None}
               for w in svc.windows() if w.id in ids]
    recent = [svc.call_view(c) for c in svc.hall.calls(30) if c.window in ids][:8]
    last = svc.hall.calls(1)
    return {"area": area, "windows": windows, "recent": recent,
            "last_seq": last[0].seq if last else 0}


def _sse(event: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def _stream(request: Request, svc: HallService, first: list[bytes],
                  on_event: Any) -> Any:
    async with svc.hub.subscribe() as queue:
        for chunk in first:
            yield chunk
        while not await request.is_disconnected():
            try:
                event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            for chunk in await on_event(event):
                yield chunk


def add_pages(app: FastAPI) -> None:

    def _stream_response(gen: Any) -> StreamingResponse:
        return StreamingResponse(gen, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/staff", status_code=303)

    # -- login ------------------------------------------------------------------------------------
    @app.get("/login", include_in_schema=False)
    def login_page(request: Request, error: str = "",
                   wait: Annotated[int, Query(ge=0, le=86400)] = 0) -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        page = _page("login.html", {"csrf": token, "error": error[:100], "wait": wait})
        page.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", path="/login",
                        secure=bool(request.app.state.secure_cookies))
        return page

    @app.post("/login", include_in_schema=False)
    def login_post(request: Request, svc: Svc, name: Annotated[str, Form(max_length=40)] = "",
                   password: Annotated[str, Form(max_length=200)] = "",
                   csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
        cookie = request.cookies.get(LOGIN_CSRF, "")
        if not cookie or not secrets.compare_digest(cookie, csrf):
            return RedirectResponse("/login?error=csrf", status_code=303)
        try:
            session = svc.hall.login(name, password, client_address(request))
        except LoginLocked as exc:
            wait = int(exc.details["retry_after_s"])
            return RedirectResponse(f"/login?error=locked_{exc.details['scope']}&wait={wait}",
                                    status_code=303)
        except AuthError:
            return RedirectResponse("/login?error=password", status_code=303)
        response = RedirectResponse("/staff", status_code=303)
        response.set_cookie(SESSION_COOKIE, session.token, httponly=True, samesite="strict",
                            path="/", secure=bool(request.app.state.secure_cookies))
        response.delete_cookie(LOGIN_CSRF, path="/login")
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, svc: Svc,
               x_csrf_token: Annotated[str, Header()] = "") -> Response:
        session = svc.hall.session(request.cookies.get(SESSION_COOKIE, ""))
        if session and secrets.compare_digest(x_csrf_token, session.csrf):
            svc.hall.logout(session.token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- staff workstation ------------------------------------------------------------------------
    @app.get("/staff", include_in_schema=False)
    def staff_page(request: Request, svc: Svc) -> Response:
        session = svc.hall.session(request.cookies.get(SESSION_COOKIE, ""))
        if session is None:
            return RedirectResponse("/login", status_code=303)
        windows = [w for w in svc.settings.windows if session.staff.may_serve(w.id)]
        return _page("staff.html", {
            "csrf": session.csrf, "name": session.staff.name, "role": session.staff.role,
            "windows": [{"id": w.id, "name": w.name} for w in windows],
            "all_windows": [{"id": w.id, "name": w.name} for w in svc.settings.windows],
            "categories": [{"code": c.code, "name": c.name} for c in svc.settings.categories],
            "no_show_after_recalls": svc.settings.no_show_after_recalls,
            "rules": lane.describe(svc.settings.priority_lane, svc.settings.transfer_to_category,
                                   svc.settings.transfer_to_window)})

    @app.get("/staff/events", include_in_schema=False)
    async def staff_events(request: Request, svc: Svc) -> Response:
        session = svc.hall.session(request.cookies.get(SESSION_COOKIE, ""))
        if session is None:
            raise AuthError("请先登录", login="/login")

        async def relay(event: dict[str, Any]) -> list[bytes]:
            return [_sse(event["type"], event)]

        return _stream_response(_stream(request, svc, [_sse("hello", {})], relay))

    # -- calling display ------------------------------------------------------------------------
    @app.get("/display", include_in_schema=False)
    def display_page(svc: Svc, area: Annotated[str, Query(max_length=20)] = "") -> Response:
        return _page("display.html", {"area": area, "hall": svc.settings.windows[0].area
                                      if not area else area})

    @app.get("/display/state", include_in_schema=False)
    def display_json(svc: Svc, area: Annotated[str, Query(max_length=20)] = "") -> Any:
        return display_state(svc, area)

    @app.get("/display/events", include_in_schema=False)
    async def display_events(request: Request, svc: Svc,
                             area: Annotated[str, Query(max_length=20)] = "",
                             last_event_id: Annotated[str, Header()] = "") -> Response:
        ids = set(_area_windows(svc, area))
        first = [_sse("hello", {"area": area})]
        if last_event_id.isdigit():  # reconnected: replay the calls it missed, oldest first
            missed = svc.hall.calls(limit=200, after=int(last_event_id))
            first += [_sse("call", svc.call_view(c), c.seq) for c in reversed(missed)
                      if c.window in ids]

        async def relay(event: dict[str, Any]) -> list[bytes]:
            if event["type"] == "call" and event["window"] in ids:
                return [_sse("call", event, event["seq"])]
            if event["type"] == "queue":
                return [_sse("queue", {"reason": event["reason"]})]
            return []

        return _stream_response(_stream(request, svc, first, relay))

    @app.get("/display/audio/{seq}.wav", include_in_schema=False)
    async def display_audio(seq: int, svc: Svc) -> Response:
        try:
            path = await asyncio.to_thread(svc.audio, seq)
        except QueueError as exc:
            return Response(exc.message, status_code=exc.http_status)
        return FileResponse(path, media_type="audio/wav",
                            headers={"Cache-Control": "public, max-age=86400"})

    # -- phone ticket page ------------------------------------------------------------------------
    @app.get("/t/{ticket_id}", include_in_schema=False)
    def ticket_page(ticket_id: str, svc: Svc) -> Response:
        try:
            view = public_ticket(svc, svc.engine.ticket(ticket_id))
        except TicketNotFound:
            return HTMLResponse("<!doctype html><meta charset=utf-8><title>号票</title>"
                                "<p style='font-size:24px'>没有找到这张号票</p>", status_code=404)
        return _page("ticket.html", {"id": html.escape(ticket_id), "ticket": view})

    @app.get("/t/{ticket_id}/status", include_in_schema=False)
    def ticket_status(ticket_id: str, svc: Svc) -> Any:
        return public_ticket(svc, svc.engine.ticket(ticket_id))

    @app.get("/t/{ticket_id}/events", include_in_schema=False)
    async def ticket_events(request: Request, ticket_id: str, svc: Svc) -> Response:
        view = await asyncio.to_thread(lambda: public_ticket(svc, svc.engine.ticket(ticket_id)))
        last = [view]

        async def relay(event: dict[str, Any]) -> list[bytes]:
            if event["type"] not in ("queue", "call"):
                return []
            now = await asyncio.to_thread(lambda: public_ticket(svc,
                                                                svc.engine.ticket(ticket_id)))
            if now == last[0]:
                return []
            last[0] = now
            return [_sse("ticket", now)]

        return _stream_response(_stream(request, svc, [_sse("ticket", view)], relay))

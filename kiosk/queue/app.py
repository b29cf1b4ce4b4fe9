"""The hall server's web layer (FastAPI): routes, auth dependencies, uniform JSON errors.

Thin: every route identifies the caller (kiosk API key, staff session + CSRF, admin role) and
calls :class:`kiosk.queue.hallservice.HallService`. The OpenAPI at ``/openapi.json`` is made
from the pydantic types in :mod:`kiosk.queue.schemas`. Pages (staff, login, display, phone
ticket) and their live event streams are in :mod:`kiosk.queue.pages`.

Who may call what:

- kiosk (``X-Api-Key`` or ``Authorization: Bearer``): categories, tickets, check-in, offline
  hand-over, help requests;
- staff (session cookie ``kq_session``; every change also needs ``X-CSRF-Token``): windows
  they are given, calls, help list and its actions;
- admin (a staff account with role admin): appointments, statistics;
- anyone: ``/api/v1/health``, the display and the phone ticket page (numbers only).
"""

from __future__ import annotations

import csv
import io
import logging
import secrets
import sqlite3
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from kiosk.queue import schemas as s
from kiosk.queue.errors import AppointmentNotFound, InvalidRequest, QueueError
from kiosk.queue.hall import AuthError, Forbidden, Session
from kiosk.queue.hallservice import HallService
from kiosk.queue.models import AppointmentIn

log = logging.getLogger(__name__)

API = "/api/v1"
SESSION_COOKIE = "kq_session"
_api_key = APIKeyHeader(name="X-Api-Key", auto_error=False, scheme_name="kioskKey",
                        description="a kiosk's key from `kiosk queue terminal add ID`")
_bearer = HTTPBearer(auto_error=False, scheme_name="kioskBearer",
                     description="the same kiosk key as a bearer token")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="staffSession",
                       description="staff session from POST /api/v1/session or the login page")
_csrf = APIKeyHeader(name="X-CSRF-Token", auto_error=False, scheme_name="csrf",
                     description="the session's CSRF token, on every change")

ERR = {"model": s.ErrorOut}
R_AUTH = {401: ERR, 403: ERR, 422: ERR}
R_KIOSK = {**R_AUTH, 404: ERR, 409: ERR}
R_STAFF = {**R_AUTH, 404: ERR, 409: ERR}


def _error(status: int, code: str, message: str, **details: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details}},
                        status_code=status)


async def service(request: Request) -> HallService:
    # async: cheap dependencies stay on the event loop (a sync one costs a thread-pool hop)
    return request.app.state.service  # type: ignore[no-any-return]


Svc = Annotated[HallService, Depends(service)]


def client_address(request: Request) -> str:
    """The caller's IP (behind a reverse proxy on loopback, uvicorn takes it from
    X-Forwarded-For; see docs/queue.md)."""
    return request.client.host if request.client else ""


def _kiosk(request: Request, key: str | None,
           bearer: HTTPAuthorizationCredentials | None) -> str:
    presented = key or (bearer.credentials if bearer else "")
    terminal = request.app.state.service.hall.terminal_for_key(presented or "")
    if terminal is None:
        raise AuthError("需要终端凭证（X-Api-Key）", hint="kiosk queue terminal add ID")
    return terminal  # type: ignore[no-any-return]


async def kiosk(request: Request, key: Annotated[str | None, Depends(_api_key)] = None,
                bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None
                ) -> str:
    """The terminal id behind the request's kiosk key; 401 without a valid one (keys are
    looked up in memory after the first use, see HallStore.terminal_for_key)."""
    return _kiosk(request, key, bearer)


def _session(request: Request, token: str | None, csrf: str | None) -> Session:
    session = request.app.state.service.hall.session(token or "")
    if session is None:
        raise AuthError("请先登录", login="/login")
    if request.method not in ("GET", "HEAD") and not (
            csrf and secrets.compare_digest(csrf, session.csrf)):
        raise Forbidden("缺少或错误的 CSRF 令牌（X-CSRF-Token）", field="X-CSRF-Token")
    return session


def staff(request: Request, token: Annotated[str | None, Depends(_cookie)] = None,
          csrf: Annotated[str | None, Depends(_csrf)] = None) -> Session:
    return _session(request, token, csrf)


def admin(session: Annotated[Session, Depends(staff)]) -> Session:
    if not session.staff.admin:
        raise Forbidden("需要管理员权限")
    return session


async def kiosk_or_staff(request: Request, key: Annotated[str | None, Depends(_api_key)] = None,
                   bearer: Annotated[HTTPAuthorizationCredentials | None,
                                     Depends(_bearer)] = None,
                   token: Annotated[str | None, Depends(_cookie)] = None) -> str:
    if key or bearer:
        return _kiosk(request, key, bearer)
    return _session(request, token, None).staff.name


Kiosk = Annotated[str, Depends(kiosk)]
Staff = Annotated[Session, Depends(staff)]
Admin = Annotated[Session, Depends(admin)]
Anyone = Annotated[str, Depends(kiosk_or_staff)]


def _call_out(svc: HallService, call: Any) -> dict[str, Any]:
    return svc.call_view(call)


class _SafeHeaders:
    """Plain ASGI middleware (no per-request task, unlike BaseHTTPMiddleware): answers are
    not cached unless they say so, and content types are not sniffed."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


def build_app(svc: HallService, *, secure_cookies: bool = False) -> FastAPI:
    app = FastAPI(title="爱山东 hall queue server", version="2.0",
                  description="Tickets, check-in, window staff, calling display, help requests. "
                  "See docs/queue.md.", docs_url=None, redoc_url=None)
    app.state.service = svc
    app.state.secure_cookies = secure_cookies

    @app.exception_handler(QueueError)
    async def _queue_error(_r: Request, exc: QueueError) -> JSONResponse:
        response = JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status)
        if exc.http_status == 429:
            response.headers["Retry-After"] = str(exc.details.get("retry_after_s", 60))
        if exc.http_status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="kiosk"'
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "body",
                     "problem": e.get("msg", "")} for e in exc.errors()]
        first = problems[0] if problems else {"field": "body", "problem": "invalid"}
        return _error(422, "invalid", f"{first['field']}: {first['problem']}",
                      field=first["field"], problems=problems[:20])

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "no_route", 405: "method_not_allowed"}.get(exc.status_code, "http")
        text = {404: "no such path; see /openapi.json",
                405: "method not allowed on this path"}.get(exc.status_code, str(exc.detail))
        response = _error(exc.status_code, code, text)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(sqlite3.Error)
    async def _db(_r: Request, exc: sqlite3.Error) -> JSONResponse:
        log.error("queue database error: %s", exc)
        return _error(503, "unavailable", "排队系统数据库暂时不可用，请稍后再试")

    app.add_middleware(_SafeHeaders)

    _api_routes(app)
    from kiosk.queue.pages import add_pages

    add_pages(app)
    if svc is not None:
        _describe_the_hall(app, svc)
    return app


def _describe_the_hall(app: FastAPI, svc: HallService) -> None:
    """Put this hall's category codes and window ids into the OpenAPI as enums, so that the
    description says which values exist (an unknown one is a 404 or 422, as documented)."""
    original = app.openapi
    codes = [c.code for c in svc.settings.categories]
    windows = [w.id for w in svc.settings.windows]

    def openapi() -> dict[str, Any]:
        spec = original()
        if spec.get("x-hall-described"):
            return spec
        schemas = spec["components"]["schemas"]
        schemas["IssueIn"]["properties"]["category"]["enum"] = codes
        schemas["TransferIn"]["properties"]["category"]["enum"] = codes
        schemas["TransferIn"]["properties"]["window"]["enum"] = windows
        cats = schemas["WindowCategoriesIn"]["properties"]["categories"]
        for option in cats.get("anyOf", []):
            if option.get("type") == "array":
                option["items"] = {"type": "string", "enum": codes}
        for item in spec["paths"].values():
            for operation in item.values():
                for param in operation.get("parameters", []):
                    if param["in"] == "path" and param["name"] == "window_id":
                        param["schema"]["enum"] = windows
                    if param["in"] == "path" and param["name"] == "code":
                        param["schema"]["enum"] = codes
        spec["x-hall-described"] = True
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _api_routes(app: FastAPI) -> None:
    # The kiosk's reads (tiles, a ticket) are async and call the engine inline: a short read
    # behind the engine's lock is cheaper than a thread-pool hop (~5 ms per request on a
    # loaded 2-core machine). Writes wait for a disk sync (synchronous = "full"), so they stay
    # plain ``def`` routes in the thread pool, where the event loop keeps serving meanwhile.
    @app.get(f"{API}/health", response_model=s.HealthOut, tags=["system"])
    async def health(svc: Svc) -> Any:
        now = svc.engine.now()
        return {"ok": True, "time": now.isoformat(), "day": now.date().isoformat(),
                "open": svc.engine.hours.is_open(now)}

    # -- kiosk -----------------------------------------------------------------------------------
    @app.get(f"{API}/categories", response_model=list[s.CategoryOut], tags=["kiosk"],
             responses=R_AUTH)
    async def categories(svc: Svc, _who: Anyone) -> Any:
        return [c.to_dict() for c in svc.engine.categories()]

    @app.get(f"{API}/categories/{{code}}", response_model=s.CategoryOut, tags=["kiosk"],
             responses=R_KIOSK)
    async def category(code: Annotated[str, Path(max_length=4)], svc: Svc, _who: Anyone) -> Any:
        return svc.category(code).to_dict()

    @app.post(f"{API}/tickets", response_model=s.TicketOut, status_code=201, tags=["kiosk"],
              responses=R_KIOSK)
    def issue(body: s.IssueIn, svc: Svc, terminal: Kiosk) -> Any:
        return svc.issue(terminal, body.category, body.priority, body.holder_name,
                         body.request_id).to_dict()

    @app.get(f"{API}/tickets/{{ticket_id}}", response_model=s.TicketOut, tags=["kiosk"],
             responses=R_KIOSK)
    async def ticket(ticket_id: str, svc: Svc, _who: Anyone) -> Any:
        return svc.engine.ticket(ticket_id).to_dict()

    @app.post(f"{API}/tickets/{{ticket_id}}/cancel", response_model=s.TicketOut,
              tags=["kiosk"], responses=R_KIOSK)
    def cancel(ticket_id: str, svc: Svc, terminal: Kiosk) -> Any:
        return svc.cancel(terminal, ticket_id).to_dict()

    @app.post(f"{API}/checkin", response_model=s.TicketOut, status_code=201, tags=["kiosk"],
              responses={**R_KIOSK, 429: ERR})
    def check_in(body: s.CheckInIn, svc: Svc, terminal: Kiosk) -> Any:
        if not body.id_number and not body.code:
            raise InvalidRequest("请刷身份证或扫描预约码", field="id_number")
        if not (body.id_number or "").strip() and not (body.code or "").strip():
            # given but blank (a misread card, a scanner that sent only a line end): no
            # booking has it, the same answer as any unknown number
            raise AppointmentNotFound("没有查到您的预约，您可以取普通号", offer_ticket=True)
        return svc.check_in(terminal, body.id_number or "", body.code or "",
                            body.request_id).to_dict()

    @app.post(f"{API}/offline/tickets", response_model=s.ReconcileOut, tags=["kiosk"],
              responses=R_KIOSK)
    def offline(body: s.OfflineIn, svc: Svc, terminal: Kiosk) -> Any:
        return svc.accept_offline(body.terminal, terminal, body.tickets).to_dict()

    @app.post(f"{API}/help", response_model=s.HelpOut, status_code=201, tags=["help"],
              responses=R_KIOSK)
    def request_help(body: s.HelpIn, svc: Svc, terminal: Kiosk) -> Any:
        return svc.request_help(terminal, body.terminal, body.place, body.reason,
                                body.request_id).to_dict()

    @app.get(f"{API}/help/{{help_id}}", response_model=s.HelpOut, tags=["help"],
             responses=R_KIOSK)
    def help_status(help_id: str, svc: Svc, terminal: Kiosk) -> Any:
        return svc.help_status(terminal, help_id).to_dict()

    # -- staff -----------------------------------------------------------------------------------
    @app.post(f"{API}/session", response_model=s.SessionOut, tags=["staff"],
              responses={401: ERR, 422: ERR, 429: {
                  **ERR, "description": "locked out after repeated wrong passwords (account or "
                  "address); Retry-After says for how long",
                  "headers": {"Retry-After": {"schema": {"type": "integer"},
                                              "description": "seconds"}}}})
    def login(body: s.LoginIn, svc: Svc, request: Request, response: Response) -> Any:
        session = svc.hall.login(body.name, body.password, client_address(request))
        response.set_cookie(SESSION_COOKIE, session.token, httponly=True, samesite="strict",
                            secure=bool(request.app.state.secure_cookies), path="/")
        return {"name": session.staff.name, "windows": list(session.staff.windows),
                "role": session.staff.role, "csrf": session.csrf}

    @app.get(f"{API}/windows", response_model=list[s.WindowOut], tags=["staff"],
             responses=R_AUTH)
    def windows(svc: Svc, _s: Staff) -> Any:
        paused = svc.hall.paused()
        return [{**w.to_dict(), "paused": w.id in paused} for w in svc.windows()]

    @app.post(f"{API}/windows/{{window_id}}/call-next", response_model=s.CallOut,
              tags=["staff"], responses=R_STAFF)
    def call_next(window_id: str, body: s.CallIn, svc: Svc, session: Staff) -> Any:
        found = svc.call_next(session.staff, window_id, body.request_id)
        return {"ticket": found.to_dict() if found else None}

    @app.post(f"{API}/windows/{{window_id}}/recall", response_model=s.TicketOut,
              tags=["staff"], responses=R_STAFF)
    def recall(window_id: str, svc: Svc, session: Staff) -> Any:
        return svc.recall(session.staff, window_id).to_dict()

    @app.put(f"{API}/windows/{{window_id}}/categories", response_model=s.WindowOut,
             tags=["staff"], responses=R_STAFF)
    def set_categories(window_id: str, body: s.WindowCategoriesIn, svc: Svc,
                       session: Staff) -> Any:
        status = svc.set_categories(session.staff, window_id, body.categories)
        return {**status.to_dict(), "paused": status.id in svc.hall.paused()}

    @app.put(f"{API}/windows/{{window_id}}/paused", response_model=s.PauseIn,
             tags=["staff"], responses=R_STAFF)
    def pause(window_id: str, body: s.PauseIn, svc: Svc, session: Staff) -> Any:
        return {"paused": svc.pause(session.staff, window_id, body.paused)}

    @app.get(f"{API}/windows/{{window_id}}/next", response_model=list[s.TicketOut],
             tags=["staff"], responses=R_STAFF)
    def next_tickets(window_id: str, svc: Svc, session: Staff,
                     limit: Annotated[int, Query(ge=1, le=50)] = 5) -> Any:
        return [t.to_dict() for t in svc.next_tickets(session.staff, window_id, limit)]

    @app.post(f"{API}/tickets/{{ticket_id}}/served", response_model=s.TicketOut,
              tags=["staff"], responses=R_STAFF)
    def served(ticket_id: str, svc: Svc, session: Staff) -> Any:
        return svc.served(session.staff, ticket_id).to_dict()

    @app.post(f"{API}/tickets/{{ticket_id}}/no-show", response_model=s.TicketOut,
              tags=["staff"], responses=R_STAFF)
    def no_show(ticket_id: str, svc: Svc, session: Staff) -> Any:
        return svc.no_show(session.staff, ticket_id).to_dict()

    @app.post(f"{API}/tickets/{{ticket_id}}/transfer", response_model=s.TicketOut,
              tags=["staff"], responses=R_STAFF)
    def transfer(ticket_id: str, body: s.TransferIn, svc: Svc, session: Staff) -> Any:
        if (body.category is None) == (body.window is None):
            raise InvalidRequest("give category or window, not both", field="category")
        return svc.transfer(session.staff, ticket_id, body.category, body.window).to_dict()

    @app.post(f"{API}/tickets/{{ticket_id}}/park", response_model=s.TicketOut,
              tags=["staff"], responses=R_STAFF)
    def park(ticket_id: str, svc: Svc, session: Staff) -> Any:
        return svc.park(session.staff, ticket_id).to_dict()

    @app.post(f"{API}/tickets/{{ticket_id}}/resume", response_model=s.TicketOut,
              tags=["staff"], responses=R_STAFF)
    def resume(ticket_id: str, svc: Svc, session: Staff) -> Any:
        return svc.resume(session.staff, ticket_id).to_dict()

    @app.get(f"{API}/windows/{{window_id}}/parked", response_model=list[s.TicketOut],
             tags=["staff"], responses=R_STAFF)
    def parked(window_id: str, svc: Svc, session: Staff) -> Any:
        return [t.to_dict() for t in svc.parked(session.staff, window_id)]

    @app.get(f"{API}/calls", response_model=list[s.CallLogOut], tags=["staff"],
             responses=R_AUTH)
    def calls(svc: Svc, _s: Staff, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> Any:
        return [{**_call_out(svc, c), "ticket_id": c.ticket_id} for c in svc.hall.calls(limit)]

    @app.get(f"{API}/help", response_model=list[s.HelpOut], tags=["help"], responses=R_AUTH)
    def help_list(svc: Svc, _s: Staff) -> Any:
        return [h.to_dict() for h in svc.hall.open_help()]

    @app.post(f"{API}/help/{{help_id}}/acknowledge", response_model=s.HelpOut,
              tags=["help"], responses=R_STAFF)
    def help_ack(help_id: str, svc: Svc, session: Staff) -> Any:
        return svc.help_action(session.staff, help_id, "acknowledge").to_dict()

    @app.post(f"{API}/help/{{help_id}}/done", response_model=s.HelpOut, tags=["help"],
              responses=R_STAFF)
    def help_done(help_id: str, svc: Svc, session: Staff) -> Any:
        return svc.help_action(session.staff, help_id, "done").to_dict()

    # -- admin -----------------------------------------------------------------------------------
    @app.post(f"{API}/appointments", response_model=s.ImportOut, tags=["admin"],
              responses=R_AUTH)
    def appointments(body: s.AppointmentsIn, svc: Svc, session: Admin) -> Any:
        items = [AppointmentIn(ref=r.ref, category=r.category.strip().upper(), start=r.start,
                               id_number=r.id_number.strip(), name=r.name.strip(),
                               code=r.code.strip(), cancelled=r.cancelled)
                 for r in body.appointments]
        return svc.import_appointments(session.staff, items).to_dict()

    def _range(day_from: date | None, day_to: date | None, svc: HallService) -> tuple[str, str]:
        today = svc.engine.now().date()
        start, end = day_from or today - timedelta(days=6), day_to or today
        return start.isoformat(), end.isoformat()  # end before start: no rows

    @app.get(f"{API}/stats", response_model=list[s.StatsRow], tags=["admin"],
             responses=R_AUTH)
    def stats(svc: Svc, _a: Admin, day_from: date | None = None,
              day_to: date | None = None) -> Any:
        return svc.hall.stats(*_range(day_from, day_to, svc))

    @app.get(f"{API}/stats.csv", tags=["admin"], response_class=Response,
             responses={**R_AUTH, 200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                                        "description": "the same rows as CSV"}})
    def stats_csv(svc: Svc, _a: Admin, day_from: date | None = None,
                  day_to: date | None = None) -> Response:
        rows = svc.hall.stats(*_range(day_from, day_to, svc))
        out = io.StringIO()
        fields = list(s.StatsRow.model_fields)
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename=queue-stats.csv"})

"""The console's web plumbing: templates, the logged-in user, CSRF checks, language.

Routes stay thin: they read the request, call a service function, and render a template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from fleet.auth import Principal
from fleet.console.i18n import pick, translate
from fleet.console.security import (
    SESSION_COOKIE,
    ConsoleSession,
    LoginGuard,
    SessionStore,
    csrf_ok,
)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

ROLE_LABELS = {"viewer": "查看员", "operator": "运维员", "evaluator": "评价专员",
               "admin": "管理员"}


@dataclass
class ConsoleState:
    """What the console keeps in the server process (``app.state.console_ui``)."""

    sessions: SessionStore = field(default_factory=SessionStore)
    guard: LoginGuard = field(default_factory=LoginGuard)
    tile_url: str = ""
    tile_attribution: str = ""
    live_interval_s: float = 2.0


def console_state(request: Request) -> ConsoleState:
    state = getattr(request.app.state, "console_ui", None)
    if state is None:
        state = ConsoleState()
        request.app.state.console_ui = state
    return state


def lang_of(request: Request) -> str:
    return pick(request.cookies.get("lang"))


class ConsoleError(Exception):
    """A refusal shown as a page (403 wrong role or CSRF, 404, 422 bad input)."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


class LoginRequired(Exception):
    """Raised by ``require_user`` on a page; the app turns it into a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def current_session(request: Request) -> ConsoleSession | None:
    return console_state(request).sessions.get(request.cookies.get(SESSION_COOKIE))


def require_user(request: Request) -> ConsoleSession:
    """The logged-in user, or a redirect to /login. A user disabled or deleted meanwhile (by
    another admin or ``kiosk-fleet``) is logged out here."""
    from fleet.console.backend import user_still_valid

    session = current_session(request)
    if session is not None and not user_still_valid(request, session.username):
        console_state(request).sessions.end(session.id)
        session = None
    if session is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query
                                                else ""))
    return session


def principal(session: ConsoleSession) -> Principal:
    return Principal(session.username, session.role, session.region_prefix, kind="user")


def allows(session: ConsoleSession | None, role: str) -> bool:
    """Roles are ordered (viewer < operator < evaluator < admin), as in ``fleet.auth``."""
    return bool(session) and principal(session).allows(role)  # type: ignore[arg-type]


def require_role(session: ConsoleSession, role: str) -> None:
    """403 unless the user's role is ``role`` or above."""
    if not allows(session, role):
        raise ConsoleError(403, f"role {session.role!r} may not do this; needs {role} or above")


async def check_csrf(request: Request, session: ConsoleSession) -> dict[str, Any]:
    """Read the posted form and refuse it (403) without this session's CSRF token.

    The Origin header, when the browser sends one, must be this server too.
    """
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise ConsoleError(403, "cross-origin form refused")
    form = await request.form()
    if not csrf_ok(session, str(form.get("csrf_token") or "")):
        raise ConsoleError(403, "csrf_token missing or wrong: reload the page and send the "
                                "form again")
    return {k: v for k, v in form.multi_items()}


def safe_next(url: str | None) -> str:
    """Only local paths are followed after log-in (no open redirect)."""
    if not url or not url.startswith("/") or url.startswith("//"):
        return "/"
    return url


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def nav_for(role: str) -> list[tuple[str, str, str]]:
    items = [("/", "总览", "overview"), ("/alarms", "告警", "alarms"),
             ("/ratings", "好差评", "ratings"), ("/cases", "差评整改", "cases"),
             ("/map", "服务地图", "map")]
    if role == "admin":
        items.append(("/admin/users", "用户与令牌", "admin"))
    return items


def render(request: Request, template: str, *, title: str, active: str = "",
           session: ConsoleSession | None = None, status_code: int = 200,
           title_values: dict[str, Any] | None = None, **context: Any) -> HTMLResponse:
    lang = lang_of(request)

    def t(text: str, **values: Any) -> str:
        return translate(text, lang, **values)

    flashes = []
    if msg := request.query_params.get("ok"):
        flashes.append(("ok", t(msg)))
    if msg := request.query_params.get("error"):
        flashes.append(("error", t(msg)))
    ctx = {
        "request": request, "lang": lang, "t": t,
        "page_title": t(title, **(title_values or {})), "active": active,
        "user": session, "csrf": session.csrf if session else "",
        "nav": nav_for(session.role) if session else [],
        "role_label": lambda r: ROLE_LABELS.get(r, r),
        "allows": lambda role: allows(session, role),
        "static": lambda p: f"/static/{p}", "flashes": flashes,
    }
    ctx.update(context)
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)

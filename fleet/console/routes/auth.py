"""Log-in, log-out and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from fleet.console import backend
from fleet.console.i18n import LANGUAGES, translate
from fleet.console.security import LOGIN_COOKIE, SESSION_COOKIE
from fleet.console.web import (
    ConsoleError,
    check_csrf,
    console_state,
    current_session,
    lang_of,
    redirect,
    render,
    require_user,
    safe_next,
)

router = APIRouter()


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_page(request: Request, *, error: str = "", username: str = "", next_url: str = "/",
                status_code: int = 200) -> Response:
    state = console_state(request)
    token = state.sessions.new_login_token()
    response = render(request, "login.html", title="登录", error=error, username=username,
                      next=safe_next(next_url), login_token=token, status_code=status_code)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                        secure=_secure(request), path="/login")
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if current_session(request):
        return redirect(safe_next(next))
    return _login_page(request, next_url=next)


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""),
          csrf_token: str = Form(""), next: str = Form("/")) -> Response:
    state = console_state(request)
    lang = lang_of(request)
    if not state.sessions.check_login_token(request.cookies.get(LOGIN_COOKIE), csrf_token):
        raise ConsoleError(403, "csrf_token missing or expired: open the log-in page again")
    username = username.strip()
    client = request.client.host if request.client else "?"
    keys = (f"user:{username.lower()}", f"addr:{client}")
    left = state.guard.locked_for(*keys)
    if left > 0:
        minutes = int(left // 60) + 1
        return _login_page(request, username=username, next_url=next, status_code=429,
                           error=translate("登录失败次数过多，请 {m} 分钟后再试。", lang,
                                           m=minutes))
    user = backend.authenticate(request, username, password)
    if user is None:
        state.guard.failed(*keys)
        return _login_page(request, username=username, next_url=next, status_code=401,
                           error=translate("用户名或密码不正确。", lang))
    state.guard.succeeded(*keys)
    session = state.sessions.create(user.name, user.role, user.region_prefix)
    response = redirect(safe_next(next))
    response.set_cookie(SESSION_COOKIE, session.id, httponly=True, samesite="strict",
                        secure=_secure(request), path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = require_user(request)
    await check_csrf(request, session)
    console_state(request).sessions.end(session.id)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
def switch_language(request: Request, lang: str, next: str = "/") -> Response:
    if lang not in LANGUAGES:
        raise ConsoleError(404, f"language {lang!r}: use zh or en")
    response = redirect(safe_next(next))
    response.set_cookie("lang", lang, samesite="lax", max_age=365 * 86400, path="/")
    return response

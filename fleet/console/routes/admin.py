"""Users and API tokens, for the admin role."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from fleet.auth import ROLES, Invalid, NotFound
from fleet.console import backend
from fleet.console.web import (
    check_csrf,
    console_state,
    redirect,
    render,
    require_role,
    require_user,
)
from fleet.services import users as user_service

router = APIRouter()


def _page(request: Request, session, *, new_token: str = "", status_code: int = 200
          ) -> Response:
    with backend.database(request).session() as s:
        users = [{"username": u.username, "role": u.role, "region": u.region_prefix,
                  "created_at": u.created_at, "disabled": u.disabled}
                 for u in user_service.list_users(s)]
        tokens = [{"name": t.name, "role": t.role, "region": t.region_prefix,
                   "created_at": t.created_at, "last_used": t.last_used, "revoked": t.revoked}
                  for t in user_service.list_tokens(s)]
    return render(request, "admin.html", title="用户与令牌", active="admin", session=session,
                  users=users, tokens=tokens, roles=ROLES, new_token=new_token,
                  status_code=status_code, when=backend.when)


@router.get("/admin/users", response_class=HTMLResponse)
def admin_page(request: Request) -> Response:
    session = require_user(request)
    require_role(session, "admin")
    return _page(request, session)


def _back(error: Exception | str | None = None, ok: str = "") -> Response:
    if error:
        return redirect(f"/admin/users?error={quote(str(error))}")
    return redirect(f"/admin/users?ok={quote(ok)}")


@router.post("/admin/users")
async def create_user(request: Request) -> Response:
    session = require_user(request)
    form = await check_csrf(request, session)
    require_role(session, "admin")
    try:
        with backend.database(request).session() as s:
            user_service.create_user(s, str(form.get("username", "")),
                                     str(form.get("password", "")), str(form.get("role", "")),
                                     str(form.get("region", "")).strip())
    except Invalid as exc:
        return _back(exc)
    return _back(ok="用户已创建")


@router.post("/admin/users/{username}")
async def change_user(request: Request, username: str) -> Response:
    session = require_user(request)
    form = await check_csrf(request, session)
    require_role(session, "admin")
    action = str(form.get("action", ""))
    try:
        with backend.database(request).session() as s:
            if action == "disable":
                if username == session.username:
                    raise Invalid("you cannot disable yourself; ask another admin")
                user_service.disable_user(s, username, True)
            elif action == "enable":
                user_service.disable_user(s, username, False)
            elif action == "password":
                user_service.set_password(s, username, str(form.get("password", "")))
            else:
                raise Invalid(f"action {action!r}: use disable, enable or password")
    except (Invalid, NotFound) as exc:
        return _back(exc)
    if action in ("disable", "password"):
        console_state(request).sessions.end_user(username)
    return _back(ok="已保存")


@router.post("/admin/tokens", response_class=HTMLResponse)
async def create_token(request: Request) -> Response:
    """The secret is shown once, on this response."""
    session = require_user(request)
    form = await check_csrf(request, session)
    require_role(session, "admin")
    try:
        with backend.database(request).session() as s:
            _row, secret = user_service.create_token(s, str(form.get("name", "")),
                                                     str(form.get("role", "")),
                                                     str(form.get("region", "")).strip())
    except Invalid as exc:
        return _back(exc)
    response = _page(request, session, new_token=secret)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/tokens/{name}/revoke")
async def revoke_token(request: Request, name: str) -> Response:
    session = require_user(request)
    await check_csrf(request, session)
    require_role(session, "admin")
    try:
        with backend.database(request).session() as s:
            user_service.revoke_token(s, name)
    except NotFound as exc:
        return _back(exc)
    return _back(ok="令牌已吊销")

"""The fleet web console: operators' and evaluation officers' pages, served by the fleet server.

``kiosk-fleet serve`` includes it through :func:`mount` (the app factory calls it when this
package exists). Pages: 总览 ``/``, terminal ``/terminals/{id}``, 告警 ``/alarms``, 好差评
``/ratings``, 差评整改 ``/cases``, 服务地图 ``/map``, users and tokens ``/admin/users``; log-in at
``/login``. Same process, same users and roles as the API (``fleet.auth``). Docs:
``docs/console.md``.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from fleet.auth import Principal
from fleet.console.fonts import cjk_font_path
from fleet.console.routes import admin, alarms, auth, cases, map, overview, ratings, terminal
from fleet.console.web import HERE, ConsoleError, ConsoleState, LoginRequired, redirect, render

router = APIRouter(include_in_schema=False)
for _module in (auth, overview, terminal, alarms, ratings, cases, map, admin):
    router.include_router(_module.router)


@router.get("/static/fonts/cjk")
def cjk_font() -> Response:
    path = cjk_font_path()
    if path is None:
        return JSONResponse({"detail": "no CJK font installed: apt-get install fonts-noto-cjk"},
                            status_code=404)
    return FileResponse(path, media_type="font/ttf",
                        headers={"Cache-Control": "public, max-age=86400"})


def mount(app: FastAPI, services: Any = None, *, tile_url: str | None = None,
          tile_attribution: str | None = None) -> None:
    """Add the console to ``app``: its routes, its static files and its session state.

    ``tile_url`` (or ``FLEET_TILE_URL``) is a Leaflet tile URL template such as
    ``http://tiles.local/{z}/{x}/{y}.png``; without one the map is a plain coordinate plot.
    """
    app.state.console_ui = ConsoleState(
        tile_url=tile_url if tile_url is not None else os.environ.get("FLEET_TILE_URL", ""),
        tile_attribution=tile_attribution if tile_attribution is not None
        else os.environ.get("FLEET_TILE_ATTRIBUTION", ""))
    app.include_router(router)  # before the static mount: /static/fonts/cjk is a route
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="console-static")
    app.add_exception_handler(LoginRequired, _to_login)  # type: ignore[arg-type]
    app.add_exception_handler(ConsoleError, _console_error)  # type: ignore[arg-type]
    app.state.session_principal = session_principal


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def session_principal(request: Request) -> Principal | None:
    """The API's hook (``fleet.deps``): a logged-in console user may call the API from the
    page. Reads need only the session cookie; a change also needs the session's CSRF token
    in the ``X-CSRF-Token`` header, so another site cannot make the browser act."""
    from fleet.console.security import csrf_ok
    from fleet.console.web import current_session, principal

    session = current_session(request)
    if session is None:
        return None
    if request.method not in SAFE_METHODS and \
            not csrf_ok(session, request.headers.get("x-csrf-token")):
        return None
    return principal(session)


async def _to_login(request: Request, exc: LoginRequired) -> Response:
    from urllib.parse import quote

    if request.url.path.endswith((".json", "/stream", "/fragment")) or \
            request.headers.get("accept", "").startswith("application/json"):
        return JSONResponse({"detail": "log in first"}, status_code=401)
    return redirect(f"/login?next={quote(exc.next_url)}")


async def _console_error(request: Request, exc: ConsoleError) -> Response:
    """An HTML page for people, JSON for scripts (the API keeps its own error handlers)."""
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
    from fleet.console.web import current_session

    return render(request, "error.html", title="出错了", session=current_session(request),
                  status_code=exc.status_code, code=exc.status_code, detail=exc.detail)

"""The FastAPI application: ``create_app(settings)``.

Routers: the REST API under ``/api/v1`` (``fleet.api``), the web console from
``fleet.console`` when that package is there (it exposes ``router`` or ``mount(app,
services)``), and the enrolment router from ``fleet.enrolment`` when it exists (issue #13).
``app.state.services`` holds what routes need (:class:`Services`).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from fleet.auth import Forbidden, Invalid, NotFound
from fleet.clock import now_ms
from fleet.db import Database
from fleet.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What the web layer (API and console) and the workers share."""

    settings: Settings
    db: Database
    command_key: Any = None  # Ed25519PrivateKey, for signing remote commands
    evaluation_key: Any = None  # nacl PrivateKey, opens real-name parts (evaluators only)
    publish: Callable[[str, str, bytes], None] | None = None  # (region, terminal, payload)
    notifier: Any = None  # fleet.notify.Notifier
    clock: Callable[[], int] = now_ms
    extra: dict[str, Any] = field(default_factory=dict)

    def now(self) -> int:
        return self.clock()

    def publish_command(self, region: str, terminal: str, payload: bytes) -> None:
        if self.publish is None:
            raise RuntimeError("no MQTT connection for commands (serve with --mqtt)")
        self.publish(region, terminal, payload)


def load_keys(settings: Settings) -> tuple[Any, Any]:
    command_key = evaluation_key = None
    if settings.command_key_file:
        from fleet.commands import load_key

        command_key = load_key(Path(settings.command_key_file))
    if settings.evaluation_key_file:
        from fleet.keys import load

        evaluation_key = load(Path(settings.evaluation_key_file))
    return command_key, evaluation_key


def build_services(settings: Settings, *, upgrade: bool = True) -> Services:
    db = Database(settings.db)
    if upgrade:
        db.upgrade()
    command_key, evaluation_key = load_keys(settings)
    return Services(settings=settings, db=db, command_key=command_key,
                    evaluation_key=evaluation_key)


def _optional_router(app: FastAPI, package: str, services: Services) -> bool:
    try:
        module = importlib.import_module(package)
    except ModuleNotFoundError as exc:
        if exc.name and package.startswith(exc.name):
            return False
        raise
    mount = getattr(module, "mount", None)
    if callable(mount):
        mount(app, services)
        return True
    router = getattr(module, "router", None)
    if router is not None:
        app.include_router(router)
        return True
    return False


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The app for ``settings`` (or ready ``services``, e.g. from a test)."""
    from fleet.api import router as api_router

    services = services or build_services(settings or Settings())
    app = FastAPI(title="爱山东 fleet server", version="1",
                  description="Terminals' health, alarms, 好差评 statistics and follow-up "
                  "cases, remote commands and the service map. Bearer tokens: "
                  "`kiosk-fleet token create`.")
    app.state.services = services

    @app.exception_handler(NotFound)
    async def _not_found(_r: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(Forbidden)
    async def _forbidden(_r: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(Invalid)
    async def _invalid(_r: Request, exc: Invalid) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    app.include_router(api_router)
    app.state.console = _optional_router(app, "fleet.console", services)
    app.state.enrolment = _optional_router(app, "fleet.enrolment", services)
    return app

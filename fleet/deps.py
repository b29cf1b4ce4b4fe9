"""FastAPI dependencies: the DB session, the principal (Bearer token, or the console's
log-in session through ``app.state.session_principal``), and role checks.

    @router.get("/thing")
    def thing(db: DbSession, who: Principal = Depends(require("viewer"))): ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from fleet.auth import Principal
from fleet.services import users


def get_services(request: Request) -> Any:
    return request.app.state.services


def get_db(request: Request) -> Iterator[Session]:
    """One session per request, committed when the route returns without error, before the
    response goes out (``scope="function"`` below: FastAPI's default runs a yield
    dependency's exit after sending, so a client could read before the commit, or get a
    201 for a write whose commit then failed)."""
    with request.app.state.services.db.session() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db, scope="function")]


def get_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        with request.app.state.services.db.session() as session:
            principal = users.resolve_token(session, header[7:].strip())
        if principal is None:
            raise HTTPException(401, "invalid or revoked token",
                                headers={"WWW-Authenticate": "Bearer"})
        return principal
    hook: Callable[[Request], Principal | None] | None = getattr(
        request.app.state, "session_principal", None)
    if hook is not None:
        principal = hook(request)
        if principal is not None:
            return principal
    raise HTTPException(401, "authentication required: send Authorization: Bearer <token> "
                        "(kiosk-fleet token create)", headers={"WWW-Authenticate": "Bearer"})


def require(role: str) -> Callable[..., Principal]:
    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.allows(role):
            raise HTTPException(403, f"{principal.name} has role {principal.role}; this needs "
                                f"{role} or above")
        return principal

    return dependency

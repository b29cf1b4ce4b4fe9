"""``/enrol/v1``: a terminal trades a one-time token and its CSR for a certificate.

The token is the credential of ``POST /enrol/v1`` (one use, expiring, stored hashed); making
tokens over HTTP needs an admin bearer token. The routes only translate: the work is in
:mod:`fleet.enrolment.service`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from fleet.auth import Principal
from fleet.deps import DbSession, get_services, require

router = APIRouter(prefix="/enrol/v1", tags=["enrolment"])


class EnrolRequest(BaseModel):
    token: str = Field(min_length=8, max_length=200, description="the one-time token")
    csr_pem: str = Field(min_length=100, max_length=20000,
                         description="PEM certificate request, subject CN = terminal id")


class EnrolResponse(BaseModel):
    terminal: str
    region_code: str
    certificate_pem: str
    ca_pem: str
    command_public_key: str
    mqtt_url: str
    topic_prefix: str


class TokenRequest(BaseModel):
    terminal: str = Field(pattern=r"^[A-Za-z0-9-]{3,40}$")
    region_code: str = Field(pattern=r"^\d{6}$")
    ttl_s: int | None = Field(None, ge=60, le=30 * 86400)


class TokenResponse(BaseModel):
    token: str
    terminal: str
    region_code: str
    expires_at: int


@router.post("", response_model=EnrolResponse)
def enrol(body: EnrolRequest, db: DbSession,
          services: Annotated[Any, Depends(get_services)]) -> dict[str, Any]:
    return services.extra["enrolment"].redeem(db, body.token, body.csr_pem, services.now())


@router.post("/tokens", response_model=TokenResponse)
def create_token(body: TokenRequest, db: DbSession,
                 who: Annotated[Principal, Depends(require("admin"))],
                 services: Annotated[Any, Depends(get_services)]) -> dict[str, Any]:
    secret, expires = services.extra["enrolment"].create_token(
        db, body.terminal, body.region_code, services.now(), body.ttl_s, created_by=who.name)
    return {"token": secret, "terminal": body.terminal, "region_code": body.region_code,
            "expires_at": expires}

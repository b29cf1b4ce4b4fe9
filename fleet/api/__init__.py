"""The REST API under ``/api/v1``: thin routes over ``fleet.services``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from fleet import ingest
from fleet.api import models as m
from fleet.auth import Principal
from fleet.deps import DbSession, get_services, require
from fleet.services import Page, alarms, cases, commands, ratings, terminals, users

router = APIRouter(prefix="/api/v1")
Viewer = Annotated[Principal, Depends(require("viewer"))]
Operator = Annotated[Principal, Depends(require("operator"))]
Evaluator = Annotated[Principal, Depends(require("evaluator"))]
Admin = Annotated[Principal, Depends(require("admin"))]
PageNo = Annotated[int, Query(ge=1)]
Svc = Annotated[Any, Depends(get_services)]
PerPage = Annotated[int, Query(ge=1, le=500)]


def _page(p: Page[Any]) -> dict[str, Any]:
    return {"items": p.items, "total": p.total, "page": p.page, "per_page": p.per_page}


# -- terminals
@router.get("/terminals", response_model=m.PageOut[m.TerminalItem], tags=["terminals"])
def list_terminals(db: DbSession, who: Viewer, services: Svc,
                   page: PageNo = 1, per_page: PerPage = 100, region: str = "",
                   site: str = "", online: bool | None = None,
                   status: Annotated[str, Query(pattern="^(|online|stale|offline)$")] = "",
                   q: str = "") -> dict[str, Any]:
    return _page(terminals.list_terminals(db, who, services.now(), page=page,
                                          per_page=per_page, region=region, site=site,
                                          online=online, status_is=status, q=q,
                                          rules=services.settings.alarms))


@router.get("/terminals/{terminal_id}", response_model=m.TerminalDetail, tags=["terminals"])
def get_terminal(terminal_id: str, db: DbSession, who: Viewer,
                 services: Svc) -> dict[str, Any]:
    return terminals.terminal_detail(db, who, terminal_id, services.now(),
                                     services.settings.alarms)


@router.get("/service-map.geojson", tags=["service map"])
def service_map(db: DbSession, who: Viewer, services: Svc
                ) -> Response:
    import json

    body = terminals.service_map(db, who, services.now(), services.settings.alarms)
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/geo+json")


@router.get("/service-map.csv", tags=["service map"])
def service_map_csv(db: DbSession, who: Viewer, services: Svc
                    ) -> Response:
    text = terminals.service_map_csv(db, who, services.now(), services.settings.alarms)
    return Response("\ufeff" + text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="service-map.csv"'})


# -- alarms
@router.get("/alarms", response_model=m.PageOut[m.AlarmItem], tags=["alarms"])
def list_alarms(db: DbSession, who: Viewer, page: PageNo = 1, per_page: PerPage = 100,
                state: Annotated[str, Query(
                    pattern="^(|active|acknowledged|cleared|open)$")] = "",
                terminal: str = "", type: str = "", region: str = "") -> dict[str, Any]:
    return _page(alarms.list_alarms(db, who, state=state, terminal=terminal, type_=type,
                                    region=region, page=page, per_page=per_page))


@router.post("/alarms/{alarm_id}/ack", response_model=m.AlarmItem, tags=["alarms"])
def ack_alarm(alarm_id: int, db: DbSession, who: Operator,
              services: Svc) -> dict[str, Any]:
    changes: list[alarms.Change] = []
    alarm = alarms.acknowledge(db, who, alarm_id, services.now(), changes)
    _notify(services, changes)
    return alarms.view(alarm)


@router.post("/alarms/{alarm_id}/clear", response_model=m.AlarmItem, tags=["alarms"])
def clear_alarm(alarm_id: int, db: DbSession, who: Operator,
                services: Svc) -> dict[str, Any]:
    changes: list[alarms.Change] = []
    alarm = alarms.clear_manually(db, who, alarm_id, services.now(), changes)
    _notify(services, changes)
    return alarms.view(alarm)


def _notify(services: Any, changes: list[alarms.Change]) -> None:
    if services.notifier is not None and changes:
        services.notifier.submit(changes)


# -- ratings
@router.get("/ratings/summary", response_model=m.RatingSummary, tags=["ratings"])
def rating_summary(db: DbSession, who: Viewer, region: str = "", site: str = "",
                   terminal: str = "", item: str = "",
                   date_from: Annotated[date | None, Query(alias="from")] = None,
                   date_to: Annotated[date | None, Query(alias="to")] = None,
                   group_by: Annotated[str, Query(
                       pattern="^(|terminal|site|region|item|day|month)$")] = ""
                   ) -> dict[str, Any]:
    return ratings.summary(db, who, region=region, site=site, terminal=terminal, item=item,
                           date_from=date_from, date_to=date_to, group_by=group_by)


# -- cases
@router.get("/cases", response_model=m.PageOut[m.CaseItem], tags=["cases"])
def list_cases(db: DbSession, who: Viewer, page: PageNo = 1, per_page: PerPage = 100,
               state: str = "", overdue: bool | None = None, terminal: str = "",
               region: str = "") -> dict[str, Any]:
    return _page(cases.list_cases(db, who, state=state, overdue=overdue, terminal=terminal,
                                  region=region, page=page, per_page=per_page))


@router.get("/cases/{case_id}", response_model=m.CaseDetail, tags=["cases"])
def get_case(case_id: int, db: DbSession, who: Viewer) -> dict[str, Any]:
    return cases.case_detail(db, who, case_id)


@router.patch("/cases/{case_id}", response_model=m.CaseDetail, tags=["cases"])
def patch_case(case_id: int, body: m.CasePatch, db: DbSession, who: Evaluator,
               services: Svc) -> dict[str, Any]:
    cases.update_case(db, who, case_id, services.now(), state=body.state,
                      reason=body.reason, note=body.note, assignee=body.assignee)
    db.flush()
    return cases.case_detail(db, who, case_id)


@router.post("/cases/{case_id}/real-name", response_model=m.RealName, tags=["cases"])
def open_real_name(case_id: int, db: DbSession, who: Viewer, services: Svc, response: Response,
                   body: m.RealNameRequest | None = None) -> dict[str, Any]:
    """Evaluator or admin only (403 otherwise); each opening is written to the case's audit
    log. The answer is never cached (``Cache-Control: no-store``)."""
    response.headers["Cache-Control"] = "no-store"
    return cases.open_real_name(db, who, case_id, services.evaluation_key, services.now(),
                                purpose=body.purpose if body else "")


# -- commands
@router.post("/commands", response_model=m.CommandOut, status_code=201, tags=["commands"])
def send_command(body: m.CommandIn, db: DbSession, who: Operator,
                 services: Svc) -> dict[str, Any]:
    command = commands.send(db, who, services.command_key, services.publish_command,
                            body.name, body.args, body.target.model_dump(exclude_none=True),
                            services.now(), ttl_s=body.ttl_s)
    db.flush()
    return commands.command_view(db, command)


@router.get("/commands", response_model=m.PageOut[m.CommandOut], tags=["commands"])
def list_commands(db: DbSession, who: Viewer, page: PageNo = 1, per_page: PerPage = 50
                  ) -> dict[str, Any]:
    return _page(commands.list_commands(db, who, page=page, per_page=per_page))


@router.get("/commands/{command_id}", response_model=m.CommandOut, tags=["commands"])
def get_command(command_id: str, db: DbSession, who: Viewer) -> dict[str, Any]:
    return commands.get_command(db, who, command_id)


# -- ingest
@router.get("/ingest/stats", response_model=m.IngestStats, tags=["ingest"])
def ingest_stats(db: DbSession, who: Viewer) -> dict[str, Any]:
    return ingest.stats(db)


@router.get("/ingest/quarantine", response_model=m.PageOut[m.QuarantineItem],
            tags=["ingest"])
def quarantine(db: DbSession, who: Operator, page: PageNo = 1, per_page: PerPage = 100,
               terminal: str = "") -> dict[str, Any]:
    return _page(ingest.quarantine_list(db, who, terminal=terminal, page=page,
                                        per_page=per_page))


# -- administration
@router.get("/tokens", response_model=list[m.TokenOut], tags=["admin"])
def list_tokens(db: DbSession, who: Admin) -> list[dict[str, Any]]:
    return [{"name": t.name, "role": t.role, "region_prefix": t.region_prefix}
            for t in users.list_tokens(db) if not t.revoked]


@router.post("/tokens", response_model=m.TokenOut, status_code=201, tags=["admin"])
def create_token(body: m.TokenIn, db: DbSession, who: Admin) -> dict[str, Any]:
    row, secret = users.create_token(db, body.name, body.role, body.region_prefix)
    return {"name": row.name, "role": row.role, "region_prefix": row.region_prefix,
            "token": secret}


@router.delete("/tokens/{name}", status_code=204, tags=["admin"])
def revoke_token(name: str, db: DbSession, who: Admin) -> Response:
    users.revoke_token(db, name)
    return Response(status_code=204)


@router.get("/users", response_model=list[m.UserOut], tags=["admin"])
def list_users(db: DbSession, who: Admin) -> list[dict[str, Any]]:
    return [{"username": u.username, "role": u.role, "region_prefix": u.region_prefix,
             "disabled": u.disabled} for u in users.list_users(db)]


@router.post("/users", response_model=m.UserOut, status_code=201, tags=["admin"])
def create_user(body: m.UserIn, db: DbSession, who: Admin) -> dict[str, Any]:
    user = users.create_user(db, body.username, body.password, body.role, body.region_prefix)
    return {"username": user.username, "role": user.role,
            "region_prefix": user.region_prefix, "disabled": user.disabled}

"""差评整改: follow-up cases by state and deadline; the case page with its workflow, notes and
audit trail; the real-name part only behind "查看实名信息" for evaluators, audited."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from fleet.auth import Forbidden, Invalid, NotFound
from fleet.clock import local_date
from fleet.console import backend
from fleet.console.routes.terminal import labels
from fleet.console.web import (
    ConsoleError,
    allows,
    check_csrf,
    principal,
    redirect,
    render,
    require_role,
    require_user,
)
from fleet.console.words import LEVEL_LABELS, region_label
from fleet.services import cases as case_service

router = APIRouter()

ACTION_LABELS = {"opened": "立案", "transition": "状态变更", "note": "备注", "assign": "指派",
                 "open_real_name": "查看实名信息"}
REAL_NAME_LABELS = {"name": "姓名", "id_number": "证件号码", "id_type": "证件类型",
                    "phone": "联系电话", "user_prop": "评价人类型", "organisation": "单位名称"}
# What the button says for each target state.
MOVE_LABELS = {"rectifying": "开始整改", "rectified": "整改完成", "revisited": "已回访",
               "appealed": "申诉", "not_rectified": "不予整改"}


def _labels() -> dict:
    return {"case_state_label": lambda s: case_service.LABELS.get(s, s),
            "level_label": lambda lv: LEVEL_LABELS.get(lv, lv),
            "action_label": lambda a: ACTION_LABELS.get(a, a),
            "move_label": lambda s: MOVE_LABELS.get(s, s),
            "real_name_label": lambda k: REAL_NAME_LABELS.get(k, k), **labels()}


@router.get("/cases", response_class=HTMLResponse)
def cases_page(request: Request) -> Response:
    session = require_user(request)
    q = request.query_params
    f = {"state": q.get("state", "open"), "overdue": q.get("overdue", ""),
         "terminal": q.get("terminal", "").strip(), "region": q.get("region", "").strip()}
    if f["state"] not in (*case_service.STATES, "open", "all"):
        f["state"] = "open"
    overdue = {"yes": True, "no": False}.get(f["overdue"])
    with backend.database(request).session() as s:
        try:
            found = case_service.list_cases(
                s, principal(session), state="" if f["state"] == "all" else f["state"],
                overdue=overdue, terminal=f["terminal"], region=f["region"], per_page=200)
        except Invalid as exc:
            raise ConsoleError(422, str(exc)) from exc
    items = found.items
    items.sort(key=lambda c: (not c["overdue"], c["deadline"], c["id"]))
    counts: dict[str, int] = {}
    for c in items:
        counts[c["state"]] = counts.get(c["state"], 0) + 1
        c["region_label"] = region_label(c["region_code"])
    today = local_date(backend.services(request).now()).isoformat()
    return render(request, "cases.html", title="差评整改", active="cases", session=session,
                  cases=items, total=found.total, f=f, counts=counts, today=today,
                  states=case_service.STATES, query=urlencode({k: v for k, v in f.items()
                                                               if v}), **_labels())


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int) -> Response:
    session = require_user(request)
    try:
        with backend.database(request).session() as s:
            case = case_service.case_detail(s, principal(session), case_id)
    except NotFound as exc:
        raise ConsoleError(404, str(exc)) from exc
    moves = case_service.TRANSITIONS.get(case["state"], ()) if allows(session, "evaluator") \
        else ()
    return render(request, "case.html", title="差评整改 #{id}",
                      title_values={"id": case_id}, active="cases",
                  session=session, case=case, moves=moves, needs_reason=case_service.NEEDS_REASON,
                  region=region_label(case["region_code"]), real_name=None, **_labels())


@router.post("/cases/{case_id}")
async def update_case(request: Request, case_id: int) -> Response:
    session = require_user(request)
    form = await check_csrf(request, session)
    require_role(session, "evaluator")
    state = str(form.get("state", "")).strip() or None
    svc = backend.services(request)
    try:
        with svc.db.session() as s:
            case_service.update_case(s, principal(session), case_id, svc.now(), state=state,
                                     reason=str(form.get("reason", "")),
                                     note=str(form.get("note", "")))
    except Forbidden as exc:
        raise ConsoleError(403, str(exc)) from exc
    except NotFound as exc:
        raise ConsoleError(404, str(exc)) from exc
    except Invalid as exc:
        return redirect(f"/cases/{case_id}?error={quote(str(exc))}")
    return redirect(f"/cases/{case_id}?ok={quote('已保存')}")


@router.post("/cases/{case_id}/real-name", response_class=HTMLResponse)
async def open_real_name(request: Request, case_id: int) -> Response:
    """Shown once, on this response only (never stored in the page's URL or the session)."""
    session = require_user(request)
    form = await check_csrf(request, session)
    require_role(session, "evaluator")
    purpose = str(form.get("purpose", "")).strip()
    if not purpose:
        return redirect(f"/cases/{case_id}?error={quote('查看实名信息需要填写用途（如：回访）。')}")
    svc = backend.services(request)
    try:
        with svc.db.session() as s:
            part = case_service.open_real_name(s, principal(session), case_id,
                                               svc.evaluation_key, svc.now(), purpose=purpose)
        with svc.db.session() as s:
            case = case_service.case_detail(s, principal(session), case_id)
    except Forbidden as exc:
        raise ConsoleError(403, str(exc)) from exc
    except NotFound as exc:
        return redirect(f"/cases/{case_id}?error={quote(str(exc))}")
    except Invalid as exc:
        return redirect(f"/cases/{case_id}?error={quote(str(exc))}")
    moves = case_service.TRANSITIONS.get(case["state"], ())
    response = render(request, "case.html", title="差评整改 #{id}",
                      title_values={"id": case_id}, active="cases",
                      session=session, case=case, moves=moves,
                      needs_reason=case_service.NEEDS_REASON,
                      region=region_label(case["region_code"]), real_name=part, **_labels())
    response.headers["Cache-Control"] = "no-store"
    return response

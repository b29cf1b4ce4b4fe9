"""Follow-up cases of bad ratings (实名差评100%整改) and the sealed real-name part.

Every 不满意 / 非常不满意 rating opens a case. States and who may move them (evaluator+):

    pending (待核实) ─▶ rectifying (整改中) ─▶ rectified (已整改) ─▶ revisited (已回访)
        │                   │
        ├─▶ appealed (申诉, reason) ─▶ rectifying | not_rectified | revisited
        └─▶ not_rectified (不予整改, reason)

The deadline is ``deadline_working_days`` working days after the rating's local day
(weekends, the holiday calendar and 调休 working weekends honoured). A case not rectified by
the end of its deadline day is overdue: flagged, and the terminal gets a ``case_overdue``
alarm. Every change is written to the audit log with the user.

The real-name part stays sealed for the evaluation system's X25519 key: only an evaluator
(or admin) can open it, through :func:`open_real_name`, which writes an audit record for
every opening. It is never part of a list, a case view or an export.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fleet.auth import Invalid, NotFound, Principal, region_prefix
from fleet.clock import iso, local_date
from fleet.models import Case, CaseAudit, Rating, Terminal
from fleet.services import Page, alarms, clamp_page
from fleet.settings import CaseRules
from kiosk.ratings.records import add_working_days

STATES = ("pending", "rectifying", "rectified", "revisited", "appealed", "not_rectified")
LABELS = {"pending": "待核实", "rectifying": "整改中", "rectified": "已整改",
          "revisited": "已回访", "appealed": "申诉", "not_rectified": "不予整改"}
TRANSITIONS = {
    "pending": ("rectifying", "appealed", "not_rectified", "rectified"),
    "rectifying": ("rectified", "appealed"),
    "rectified": ("revisited", "rectifying"),
    "appealed": ("rectifying", "not_rectified", "revisited"),
    "not_rectified": ("revisited",),
    "revisited": (),
}
NEEDS_REASON = ("appealed", "not_rectified")
DONE = ("rectified", "revisited", "not_rectified")  # no longer counts towards overdue
CLOSED = ("revisited",)


def deadline_for(day: date, rules: CaseRules) -> date:
    return add_working_days(day, rules.deadline_working_days, rules.holidays,
                            rules.extra_workdays)


def view(case: Case, today: date | None = None) -> dict[str, Any]:
    return {"id": case.id, "rating_id": case.rating_id, "terminal": case.terminal,
            "region_code": case.region_code, "item_code": case.item_code,
            "item_name": case.item_name, "level": case.level, "identified": case.identified,
            "state": case.state, "state_label": LABELS[case.state],
            "opened_at": iso(case.opened_at), "deadline": case.deadline.isoformat(),
            "overdue": case.overdue, "reason": case.reason, "note": case.note,
            "assignee": case.assignee, "updated_at": iso(case.updated_at),
            "closed_at": iso(case.closed_at)}


def _audit(session: Session, case: Case, user: str, action: str, now: int,
           from_state: str = "", to_state: str = "", note: str = "") -> None:
    session.add(CaseAudit(case_id=case.id, at=now, user=user, action=action,
                          from_state=from_state, to_state=to_state, note=note[:2000]))


def open_for_rating(session: Session, rating: Rating, rules: CaseRules, now: int) -> Case:
    """The ingest calls this for every bad rating stored (once: the rating id is unique)."""
    case = Case(rating_id=rating.id, terminal=rating.terminal, region_code=rating.region_code,
                item_code=rating.item_code, item_name=rating.item_name, level=rating.level,
                identified=rating.identified, state="pending", opened_at=now,
                deadline=deadline_for(local_date(rating.ts, rules.timezone), rules),
                overdue=False, reason="", note="", assignee="", updated_at=now)
    session.add(case)
    session.flush()
    _audit(session, case, "system", "opened", now, to_state="pending",
           note=f"rating {rating.id} ({rating.level})")
    return case


def get_case(session: Session, principal: Principal, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or not principal.sees(case.region_code):
        raise NotFound(f"no case {case_id}")
    return case


def list_cases(session: Session, principal: Principal, *, state: str = "",
               overdue: bool | None = None, terminal: str = "", region: str = "",
               page: int = 1, per_page: int = 100) -> Page[dict[str, Any]]:
    page, per_page = clamp_page(page, per_page)
    stmt = select(Case).where(principal.scope_column(Case.region_code))
    if state:
        if state not in STATES and state != "open":
            raise Invalid(f"state {state!r}: use one of {', '.join(STATES)} or open")
        stmt = stmt.where(Case.state.not_in(CLOSED) if state == "open" else Case.state == state)
    if overdue is not None:
        stmt = stmt.where(Case.overdue.is_(overdue))
    if terminal:
        stmt = stmt.where(Case.terminal == terminal)
    if region:
        stmt = stmt.where(region_prefix(Case.region_code, region))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Case.deadline, Case.id).offset((page - 1) * per_page)
                           .limit(per_page))
    return Page([view(c) for c in rows], total, page, per_page)


def case_detail(session: Session, principal: Principal, case_id: int) -> dict[str, Any]:
    """The case, its rating (without the sealed part) and its audit log."""
    case = get_case(session, principal, case_id)
    rating = session.get(Rating, case.rating_id)
    audit = session.scalars(select(CaseAudit).where(CaseAudit.case_id == case.id)
                            .order_by(CaseAudit.id))
    return {**view(case),
            "rating": None if rating is None else {
                "id": rating.id, "time": iso(rating.ts), "level": rating.level,
                "reasons": rating.reasons, "text": rating.text,
                "handling_number": rating.handling_number, "source": rating.source,
                "identified": rating.identified},
            "audit": [{"at": iso(a.at), "user": a.user, "action": a.action,
                       "from": a.from_state, "to": a.to_state, "note": a.note}
                      for a in audit]}


def update_case(session: Session, principal: Principal, case_id: int, now: int, *,
                state: str | None = None, reason: str = "", note: str = "",
                assignee: str | None = None) -> Case:
    """Move a case (evaluator+); ``appealed`` and ``not_rectified`` need a reason."""
    principal.require("evaluator")
    case = get_case(session, principal, case_id)
    if state is not None and state != case.state:
        if state not in STATES:
            raise Invalid(f"state {state!r}: use one of {', '.join(STATES)}")
        if state not in TRANSITIONS[case.state]:
            allowed = ", ".join(TRANSITIONS[case.state]) or "none (the case is closed)"
            raise Invalid(f"state: {case.state} cannot go to {state}; allowed: {allowed}")
        if state in NEEDS_REASON and not reason.strip():
            raise Invalid(f"reason: {state} ({LABELS[state]}) needs a reason")
        old = case.state
        case.state = state
        if reason.strip():
            case.reason = reason.strip()[:2000]
        if state in CLOSED:
            case.closed_at = now
        # one audit row for the change, with the reason and the note that came with it
        _audit(session, case, principal.name, "transition", now, old, state,
               "; ".join(t for t in (reason.strip(), note.strip()) if t))
        transitioned = True
    else:
        transitioned = False
    if note.strip():
        case.note = note.strip()[:2000]
        if not transitioned:
            _audit(session, case, principal.name, "note", now, note=note.strip())
    if assignee is not None and assignee != case.assignee:
        case.assignee = assignee[:64]
        _audit(session, case, principal.name, "assign", now, note=assignee)
    case.updated_at = now
    return case


def mark_overdue(session: Session, today: date, now: int,
                 changes: list[alarms.Change] | None = None) -> int:
    """Flag cases past their deadline that are not rectified yet; raise ``case_overdue`` for
    their terminals and clear it where nothing is overdue any more. Returns newly flagged."""
    open_states = [s for s in STATES if s not in DONE]
    newly = session.execute(update(Case).where(
        Case.deadline < today, Case.state.in_(open_states), Case.overdue.is_(False))
        .values(overdue=True)).rowcount or 0
    per_terminal = dict(session.execute(select(Case.terminal, func.count()).where(
        Case.overdue.is_(True), Case.state.in_(open_states)).group_by(Case.terminal)).all())
    for terminal_id, n in per_terminal.items():
        term = session.get(Terminal, terminal_id)
        region = term.region_code if term else ""
        alarms.raise_alarm(session, (terminal_id, region), "case_overdue",
                           f"{n} follow-up case(s) past the deadline", now, changes=changes)
    for alarm in session.scalars(select(alarms.Alarm).where(
            alarms.Alarm.type == "case_overdue", alarms.Alarm.state != "cleared")):
        if alarm.terminal not in per_terminal:
            alarms.clear_alarm(session, alarm.terminal, "case_overdue", now, changes=changes)
    return int(newly)


def open_real_name(session: Session, principal: Principal, case_id: int, private_key: Any,
                   now: int, purpose: str = "") -> dict[str, Any]:
    """Open the sealed real-name part of the case's rating, for the callback (回访).

    Only evaluator and admin; every opening is audited (who, when, why). Raises
    :class:`fleet.auth.Forbidden` for other roles (the attempt is not opened)."""
    principal.require("evaluator")
    case = get_case(session, principal, case_id)
    rating = session.get(Rating, case.rating_id)
    if rating is None or not rating.identified or not rating.real_name_sealed:
        raise NotFound(f"case {case_id}: the rating carries no real-name part (anonymous)")
    if private_key is None:
        raise Invalid("the server has no evaluation private key: start it with "
                      "--evaluation-key FILE (python -m fleet.keys new-evaluation-key)")
    from kiosk.ratings.records import RatingError
    from kiosk.ratings.records import open_real_name as unseal

    try:
        part = unseal(rating.real_name_sealed, private_key)
    except RatingError as exc:
        raise Invalid(f"case {case_id}: the real-name part does not open with this key "
                      f"(key id {rating.key_id}): {exc}") from exc
    _audit(session, case, principal.name, "open_real_name", now, note=purpose[:500])
    return part

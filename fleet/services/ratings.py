"""好差评 statistics: by terminal, site, region, service item and period.

Figures (over ratings with a level; "not rated" time-outs are counted apart):

* ``satisfaction_rate`` = (非常满意 + 满意 + 基本满意) ÷ rated;
* ``bad_rate`` = (不满意 + 非常不满意) ÷ rated;
* ``active_evaluation_rate`` (主动评价率) = rated sessions ÷ completed sessions: no official
  formula exists, so we count first evaluations with a level as rated sessions and the
  terminals' ``session`` events with outcome ``completed`` as completed sessions.

Statistics read the per-day roll-ups the ingest keeps, the coarsest that answers the
question: per region (``rating_region_days``, ``session_region_days``), per terminal
(``rating_terminal_days``, ``session_counts``) or per terminal and item (``rating_counts``),
so they stay fast at millions of ratings.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fleet.auth import Invalid, Principal, region_prefix
from fleet.models import (
    RatingCount,
    RatingRegionDay,
    RatingTerminalDay,
    SessionCount,
    SessionRegionDay,
    Terminal,
)

LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")
LABELS = {"very_satisfied": "非常满意", "satisfied": "满意", "basic": "基本满意",
          "dissatisfied": "不满意", "very_dissatisfied": "非常不满意", "not_rated": "未评价"}
GOOD = ("very_satisfied", "satisfied", "basic")
BAD = ("dissatisfied", "very_dissatisfied")
GROUPS = ("", "terminal", "site", "region", "item", "day", "month")


def figures(levels: dict[str, int], completed_sessions: int) -> dict[str, Any]:
    rated = sum(levels.get(lv, 0) for lv in LEVELS)
    good = sum(levels.get(lv, 0) for lv in GOOD)
    bad = sum(levels.get(lv, 0) for lv in BAD)
    return {
        "counts": {lv: levels.get(lv, 0) for lv in LEVELS},
        "not_rated": levels.get("not_rated", 0),
        "rated": rated,
        "satisfaction_rate": round(good / rated, 4) if rated else None,
        "bad_rate": round(bad / rated, 4) if rated else None,
        "completed_sessions": completed_sessions,
        "active_evaluation_rate": round(rated / completed_sessions, 4)
        if completed_sessions else None,
    }


def summary(session: Session, principal: Principal, *, region: str = "", site: str = "",
            terminal: str = "", item: str = "", date_from: date | None = None,
            date_to: date | None = None, group_by: str = "") -> dict[str, Any]:
    """Totals for the filter, and per group when ``group_by`` is terminal, site, region,
    item, day or month. Dates are the sites' local days, both ends included."""
    if group_by not in GROUPS:
        raise Invalid(f"group_by {group_by!r}: use one of {', '.join(g for g in GROUPS if g)}")
    if date_from and date_to and date_from > date_to:
        raise Invalid("from is after to: swap them")
    by_terminal = bool(terminal or site or group_by in ("terminal", "site"))
    if item or group_by == "item":
        rc = RatingCount
    elif by_terminal:
        rc = RatingTerminalDay
    else:
        rc = RatingRegionDay
    sc = SessionCount if by_terminal or item or group_by == "item" else SessionRegionDay

    codes = _region_codes(session, region, date_from, date_to) if region else None

    def where(stmt: Any, table: Any) -> Any:
        stmt = stmt.where(principal.scope_column(table.region_code))
        if codes is not None and table not in (RatingRegionDay, SessionRegionDay):
            # the prefix as the list of codes it matches: the (region_code, day) index then
            # serves both conditions; a range on the code would scan every day of the region
            stmt = stmt.where(table.region_code.in_(codes))
        elif region:
            stmt = stmt.where(region_prefix(table.region_code, region))
        if terminal:
            stmt = stmt.where(table.terminal == terminal)  # only on per-terminal tables
        if date_from:
            stmt = stmt.where(table.day >= date_from)
        if date_to:
            stmt = stmt.where(table.day <= date_to)
        if site:
            stmt = stmt.where(table.terminal.in_(select(Terminal.id).where(Terminal.site == site)))
        return stmt

    key_r = _group_key(group_by, rc, session)
    key_s = _group_key(group_by, sc, session)
    r_stmt = select(key_r.label("g"), rc.level, func.sum(rc.count)).select_from(rc)
    if group_by == "site":
        r_stmt = r_stmt.join(Terminal, Terminal.id == rc.terminal, isouter=True)
    r_stmt = where(r_stmt, rc)
    if item:
        r_stmt = r_stmt.where(rc.item_code == item)
    r_stmt = r_stmt.group_by("g", rc.level)
    s_stmt = select(key_s.label("g"), func.sum(sc.count)).select_from(sc)
    if group_by == "site":
        s_stmt = s_stmt.join(Terminal, Terminal.id == sc.terminal, isouter=True)
    s_stmt = where(s_stmt, sc).where(sc.outcome == "completed").group_by("g")
    per: dict[Any, dict[str, int]] = {}
    for g, level, n in session.execute(r_stmt):
        per.setdefault(g, {})[level] = int(n or 0)
    sessions = {g: int(n or 0) for g, n in session.execute(s_stmt)}
    total_levels: dict[str, int] = {}
    for levels in per.values():
        for lv, n in levels.items():
            total_levels[lv] = total_levels.get(lv, 0) + n
    out: dict[str, Any] = {
        "filter": {"region": region, "site": site, "terminal": terminal, "item": item,
                   "from": date_from.isoformat() if date_from else None,
                   "to": date_to.isoformat() if date_to else None,
                   "region_scope": principal.region_prefix},
        "labels": LABELS,
        "active_evaluation_rate_formula": "rated first evaluations ÷ completed sessions "
                                          "(session events); no official formula exists",
        **figures(total_levels, sum(sessions.values())),
    }
    if group_by:
        keys = sorted(set(per) | set(sessions), key=lambda k: str(k))
        out["group_by"] = group_by
        out["groups"] = [{"key": str(k) if k is not None else "",
                          **figures(per.get(k, {}), sessions.get(k, 0))} for k in keys]
    return out


def _region_codes(session: Session, region: str, date_from: date | None,
                  date_to: date | None) -> list[str]:
    """The region codes under ``region`` that have ratings or sessions in the period, from
    the small per-region roll-ups (every rating and session counted per terminal is counted
    per region too)."""
    codes: set[str] = set()
    for table in (RatingRegionDay, SessionRegionDay):
        stmt = select(table.region_code).distinct().where(region_prefix(table.region_code,
                                                                        region))
        if date_from:
            stmt = stmt.where(table.day >= date_from)
        if date_to:
            stmt = stmt.where(table.day <= date_to)
        codes.update(session.scalars(stmt))
    return sorted(codes)


def _group_key(group_by: str, table: Any, session: Session) -> Any:
    from sqlalchemy import literal

    if group_by == "terminal":
        return table.terminal
    if group_by == "region":
        return table.region_code
    if group_by == "site":
        return func.coalesce(Terminal.site, "")
    if group_by == "item":
        return table.item_code if table is RatingCount else literal("")
    if group_by == "day":
        return table.day
    if group_by == "month":
        if session.get_bind().dialect.name == "sqlite":
            return func.strftime("%Y-%m", table.day)
        return func.to_char(table.day, "YYYY-MM")
    return literal("all")

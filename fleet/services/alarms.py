"""Alarm rules and the alarm lifecycle (active → acknowledged → cleared).

Rules run on every change (the ingest calls :func:`evaluate_terminal` for each terminal a
batch touched) and on a timer (:func:`evaluate_all`: offline after the grace, stale health,
repeated bad ratings, invalid data going quiet). At most one open (active or acknowledged)
alarm exists per terminal, type and key; a condition that persists bumps nothing, one that
clears closes the alarm, one that comes back opens a new alarm. An acknowledged alarm stays
acknowledged until its condition clears (no race with incoming data can reset it).

Flapping: a terminal whose connection dropped ``flap_count`` times within ``flap_window_s``
gets one ``flapping`` alarm (its count grows with each further drop) and no separate
``offline`` alarms until it has been steady for a whole window.

Types: ``offline``, ``flapping``, ``paper_out``, ``paper_low``, ``device_unavailable`` (key =
device kind), ``outbox_backlog``, ``disk_low``, ``clock_skew``, ``invalid_data``,
``bad_ratings``, ``case_overdue``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fleet.auth import Invalid, NotFound, Principal, region_prefix
from fleet.clock import iso
from fleet.models import Alarm, Quarantine, Rating, Terminal
from fleet.services import Page, clamp_page
from fleet.services.terminals import status as terminal_status
from fleet.settings import AlarmRules

TYPES = ("offline", "flapping", "paper_out", "paper_low", "device_unavailable",
         "outbox_backlog", "disk_low", "clock_skew", "invalid_data", "bad_ratings",
         "case_overdue", "help_unanswered")
STATES = ("active", "acknowledged", "cleared")
SEVERITY = {"offline": "critical", "flapping": "major", "paper_out": "critical",
            "device_unavailable": "critical", "paper_low": "minor", "outbox_backlog": "major",
            "disk_low": "major", "clock_skew": "minor", "invalid_data": "minor",
            "bad_ratings": "major", "case_overdue": "major", "help_unanswered": "major"}
BAD_LEVELS = ("dissatisfied", "very_dissatisfied")
INVALID_QUIET_MS = 3600_000  # invalid_data clears after an hour without invalid payloads


@dataclass(frozen=True)
class Change:
    """What happened to an alarm, for the notifiers: raised, cleared, acknowledged, repeat."""

    what: str
    alarm: dict[str, Any]


def view(alarm: Alarm) -> dict[str, Any]:
    return {"id": alarm.id, "terminal": alarm.terminal, "region_code": alarm.region_code,
            "type": alarm.type, "key": alarm.key, "state": alarm.state,
            "severity": alarm.severity, "message": alarm.message, "since": iso(alarm.since),
            "count": alarm.count, "acked_by": alarm.acked_by, "acked_at": iso(alarm.acked_at),
            "cleared_by": alarm.cleared_by, "cleared_at": iso(alarm.cleared_at)}


# -- lifecycle
def preload(session: Session, terminals: Iterable[str]) -> None:
    """Load the open alarms of ``terminals`` in one query for the rest of this transaction
    (the ingest evaluates every rule for every terminal of a batch)."""
    ids = sorted(set(terminals))
    cache: dict[tuple[str, str, str], Alarm] = session.info.setdefault("open_alarms", {})
    covered: set[str] = session.info.setdefault("open_alarms_for", set())
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for alarm in session.scalars(select(Alarm).where(Alarm.terminal.in_(chunk),
                                                         Alarm.state != "cleared")):
            cache[(alarm.terminal, alarm.type, alarm.key)] = alarm
        covered.update(chunk)


def forget_preloaded(session: Session) -> None:
    session.info.pop("open_alarms", None)
    session.info.pop("open_alarms_for", None)


def open_alarm(session: Session, terminal: str, type_: str, key: str = "") -> Alarm | None:
    if terminal in session.info.get("open_alarms_for", ()):
        alarm = session.info["open_alarms"].get((terminal, type_, key))
        return alarm if alarm is not None and alarm.state != "cleared" else None
    return session.scalar(select(Alarm).where(
        Alarm.terminal == terminal, Alarm.type == type_, Alarm.key == key,
        Alarm.state != "cleared").order_by(Alarm.id.desc()).limit(1))


def raise_alarm(session: Session, term: Terminal | tuple[str, str], type_: str, message: str,
                now: int, *, key: str = "", changes: list[Change] | None = None,
                bump: bool = False) -> Alarm:
    """Open the alarm unless it is open already (then ``bump`` counts a repeat)."""
    terminal, region = (term.id, term.region_code) if isinstance(term, Terminal) else term
    alarm = open_alarm(session, terminal, type_, key)
    if alarm is not None:
        if bump:
            alarm.count += 1
            alarm.message = message[:300]
        return alarm
    alarm = Alarm(terminal=terminal, region_code=region, type=type_, key=key, state="active",
                  severity=SEVERITY.get(type_, "major"), message=message[:300], since=now,
                  count=1)
    session.add(alarm)
    session.flush()
    if terminal in session.info.get("open_alarms_for", ()):
        session.info["open_alarms"][(terminal, type_, key)] = alarm
    if changes is not None:
        changes.append(Change("raised", view(alarm)))
    return alarm


def clear_alarm(session: Session, terminal: str, type_: str, now: int, *, key: str = "",
                by: str = "system", changes: list[Change] | None = None) -> Alarm | None:
    alarm = open_alarm(session, terminal, type_, key)
    if alarm is None:
        return None
    alarm.state = "cleared"
    alarm.cleared_at = now
    alarm.cleared_by = by
    if changes is not None:
        changes.append(Change("cleared", view(alarm)))
    return alarm


def _set(session: Session, term: Terminal, type_: str, active: bool, message: str, now: int,
         changes: list[Change], key: str = "") -> None:
    if active:
        raise_alarm(session, term, type_, message, now, key=key, changes=changes)
    else:
        clear_alarm(session, term.id, type_, now, key=key, changes=changes)


def acknowledge(session: Session, principal: Principal, alarm_id: int, now: int,
                changes: list[Change] | None = None) -> Alarm:
    principal.require("operator")
    alarm = get_alarm(session, principal, alarm_id)
    if alarm.state == "cleared":
        raise Invalid(f"alarm {alarm_id} is cleared already; nothing to acknowledge")
    if alarm.state == "active":
        alarm.state = "acknowledged"
        alarm.acked_by = principal.name
        alarm.acked_at = now
        if changes is not None:
            changes.append(Change("acknowledged", view(alarm)))
    return alarm


def clear_manually(session: Session, principal: Principal, alarm_id: int, now: int,
                   changes: list[Change] | None = None) -> Alarm:
    """An operator closes an alarm whose condition the rules cannot see end (invalid data,
    bad ratings). If the condition is still there, the next evaluation raises a new one."""
    principal.require("operator")
    alarm = get_alarm(session, principal, alarm_id)
    if alarm.state != "cleared":
        alarm.state = "cleared"
        alarm.cleared_at = now
        alarm.cleared_by = principal.name
        if changes is not None:
            changes.append(Change("cleared", view(alarm)))
    return alarm


def get_alarm(session: Session, principal: Principal, alarm_id: int) -> Alarm:
    alarm = session.get(Alarm, alarm_id)
    if alarm is None or not principal.sees(alarm.region_code):
        raise NotFound(f"no alarm {alarm_id}")
    return alarm


def list_alarms(session: Session, principal: Principal, *, state: str = "", terminal: str = "",
                type_: str = "", region: str = "", page: int = 1, per_page: int = 100
                ) -> Page[dict[str, Any]]:
    """Newest first; ``state`` is active, acknowledged, cleared, or open (not cleared)."""
    page, per_page = clamp_page(page, per_page)
    stmt = select(Alarm).where(principal.scope_column(Alarm.region_code))
    if state == "open":
        stmt = stmt.where(Alarm.state != "cleared")
    elif state:
        if state not in STATES:
            raise Invalid(f"state {state!r}: use one of {', '.join(STATES)} or open")
        stmt = stmt.where(Alarm.state == state)
    if terminal:
        stmt = stmt.where(Alarm.terminal == terminal)
    if type_:
        stmt = stmt.where(Alarm.type == type_)
    if region:
        stmt = stmt.where(region_prefix(Alarm.region_code, region))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Alarm.since.desc(), Alarm.id.desc())
                           .offset((page - 1) * per_page).limit(per_page))
    return Page([view(a) for a in rows], total, page, per_page)


# -- rules
def evaluate_presence(session: Session, term: Terminal, now: int, rules: AlarmRules,
                      changes: list[Change]) -> None:
    window = int(rules.flap_window_s * 1000)
    drops = [d for d in (term.drops or []) if d > now - window]
    flapping = open_alarm(session, term.id, "flapping")
    if len(drops) >= rules.flap_count:
        alarm = raise_alarm(session, term, "flapping",
                            f"connection dropped {len(drops)} times in "
                            f"{int(rules.flap_window_s // 60)} min", now, changes=changes)
        alarm.count = max(alarm.count, len(drops) - rules.flap_count + 1)
        flapping = alarm
    elif flapping is not None and term.online and not drops:
        clear_alarm(session, term.id, "flapping", now, changes=changes)
        flapping = None
    state = terminal_status(term, now, rules)
    grace = int(rules.offline_grace_s * 1000)
    if state == "offline":
        down_for = now - (term.offline_since or term.presence_ts or term.first_seen or now)
        if down_for >= grace and flapping is None:
            why = term.presence_reason or "no presence"
            raise_alarm(session, term, "offline", f"offline since {iso(term.offline_since)}"
                        f" ({why})", now, changes=changes)
    elif state == "stale":
        last = term.health_ts or term.presence_ts or now
        if flapping is None and now - last >= grace:
            raise_alarm(session, term, "offline", f"stale: no health since {iso(last)}", now,
                        changes=changes)
    else:
        clear_alarm(session, term.id, "offline", now, changes=changes)


def evaluate_health(session: Session, term: Terminal, now: int, rules: AlarmRules,
                    changes: list[Change]) -> None:
    health = term.health or {}
    devs: dict[str, Any] = health.get("devices") or {}
    papers = {k: d.get("paper") for k, d in devs.items() if d.get("paper")}
    out = [k for k, p in papers.items() if p == "out"]
    low = [k for k, p in papers.items() if p in ("near_end", "low")]
    _set(session, term, "paper_out", bool(out), f"paper out: {', '.join(out)}", now, changes)
    _set(session, term, "paper_low", bool(low), f"paper low: {', '.join(low)}", now, changes)
    required = set(rules.required_devices) if rules.required_devices else set(devs)
    for kind, dev in devs.items():
        down = kind in required and dev.get("state") == "unavailable"
        _set(session, term, "device_unavailable", down,
             f"{kind} unavailable: {dev.get('reason') or 'no reason given'}", now, changes,
             key=kind)
    outbox = health.get("outbox") or {}
    backlog = bool(outbox.get("alarm")) or int(outbox.get("depth") or 0) > rules.outbox_depth_max
    _set(session, term, "outbox_backlog", backlog,
         f"outbox holds {outbox.get('depth')} records", now, changes)
    disk = health.get("disk") or {}
    free, used = disk.get("free_gb"), disk.get("used_percent")
    low_disk = (free is not None and free < rules.disk_free_min_gb) or (
        used is not None and used > rules.disk_used_max_percent)
    _set(session, term, "disk_low", bool(low_disk), f"disk {used}% used, {free} GB free",
         now, changes)
    skew = term.clock_skew_ms
    if skew is not None:
        _set(session, term, "clock_skew", abs(skew) > rules.clock_skew_s * 1000,
             f"terminal clock is {skew / 1000:+.0f} s off", now, changes)


def evaluate_bad_ratings(session: Session, term: Terminal, now: int, rules: AlarmRules,
                         changes: list[Change]) -> None:
    since = now - int(rules.bad_ratings_window_s * 1000)
    bad = session.scalar(select(func.count()).select_from(Rating).where(
        Rating.terminal == term.id, Rating.ts > since, Rating.level.in_(BAD_LEVELS))) or 0
    if bad >= rules.bad_ratings_count:
        raise_alarm(session, term, "bad_ratings", f"{bad} bad ratings within "
                    f"{int(rules.bad_ratings_window_s // 60)} min", now, changes=changes)
    elif open_alarm(session, term.id, "bad_ratings") is not None:
        clear_alarm(session, term.id, "bad_ratings", now, changes=changes)


def evaluate_invalid_quiet(session: Session, term: Terminal, now: int,
                           changes: list[Change]) -> None:
    alarm = open_alarm(session, term.id, "invalid_data")
    if alarm is None:
        return
    last = session.scalar(select(func.max(Quarantine.received)).where(
        Quarantine.terminal == term.id)) or 0
    if now - last >= INVALID_QUIET_MS:
        clear_alarm(session, term.id, "invalid_data", now, changes=changes)


def raise_invalid_data(session: Session, terminal: str, region: str, reason: str, now: int,
                       changes: list[Change] | None = None) -> Alarm:
    return raise_alarm(session, (terminal, region), "invalid_data",
                       f"invalid payload quarantined: {reason}", now, changes=changes,
                       bump=True)


def evaluate_terminal(session: Session, term: Terminal, now: int, rules: AlarmRules,
                      changes: list[Change], *, health: bool = True, presence: bool = True
                      ) -> None:
    if presence:
        evaluate_presence(session, term, now, rules, changes)
    if health:
        evaluate_health(session, term, now, rules, changes)


def evaluate_all(session: Session, now: int, rules: AlarmRules,
                 terminals: Iterable[Terminal] | None = None) -> list[Change]:
    """The timer: presence and staleness for every terminal; bad ratings and quiet invalid
    data for terminals that have such an alarm open."""
    changes: list[Change] = []
    for term in terminals if terminals is not None else session.scalars(select(Terminal)):
        evaluate_presence(session, term, now, rules, changes)
    open_types = session.execute(select(Alarm.terminal, Alarm.type).where(
        Alarm.state != "cleared", Alarm.type.in_(("bad_ratings", "invalid_data")))).all()
    for terminal_id, type_ in open_types:
        term = session.get(Terminal, terminal_id)
        if term is None:
            continue
        if type_ == "bad_ratings":
            evaluate_bad_ratings(session, term, now, rules, changes)
        else:
            evaluate_invalid_quiet(session, term, now, changes)
    from fleet.help_alarms import evaluate_help_calls  # 帮办 calls nobody answered (#15)

    evaluate_help_calls(session, now, changes)
    return changes


def due_renotify(session: Session, now: int, rules: AlarmRules) -> list[Change]:
    """Alarms still active (not acknowledged) whose last notice is older than
    ``renotify_s``: tell again (a terminal that stays offline is not forgotten)."""
    cutoff = now - int(rules.renotify_s * 1000)
    rows = session.scalars(select(Alarm).where(Alarm.state == "active", func.coalesce(
        Alarm.notified_at, Alarm.since) < cutoff))
    out = []
    for alarm in rows:
        alarm.notified_at = now
        out.append(Change("repeat", view(alarm)))
    return out

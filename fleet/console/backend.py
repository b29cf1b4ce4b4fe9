"""The console's view models: the fleet service layer turned into what each page shows.

Nothing here knows HTTP beyond finding the database and settings on the app; every function
takes a SQLAlchemy session and the logged-in :class:`fleet.auth.Principal`, calls the service
layer (``fleet.services``) and adds the console's words (``fleet.console.words``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet.auth import Principal
from fleet.console.i18n import translate
from fleet.console.words import (
    ALARM_TYPE_LABELS,
    DEVICE_LABELS,
    STATES,
    device_reasons,
    region_label,
)
from fleet.models import Alarm, Terminal
from fleet.services import terminals as terminal_service
from fleet.services import users as user_service
from fleet.settings import AlarmRules, Settings


# -- where the server keeps things ---------------------------------------------------------------
def services(request: Request) -> Any:
    """The ``fleet.app.Services`` of the running server (``app.state.services``)."""
    return request.app.state.services


def database(request: Request) -> Any:
    return services(request).db


def settings(request: Request) -> Settings:
    return services(request).settings


def rules(request: Request) -> AlarmRules:
    return settings(request).alarms


def authenticate(request: Request, username: str, password: str) -> Principal | None:
    with database(request).session() as s:
        return user_service.authenticate(s, username, password)


def user_still_valid(request: Request, username: str) -> bool:
    """False once the user is disabled or deleted (their console sessions end)."""
    from fleet.models import User

    with database(request).session() as s:
        user = s.scalar(select(User).where(User.username == username))
        return user is not None and not user.disabled


# -- overview ------------------------------------------------------------------------------------
@dataclass
class OverviewFilters:
    region: str = ""
    site: str = ""
    state: str = ""
    device: str = ""
    q: str = ""

    def query(self) -> str:
        from urllib.parse import urlencode

        return urlencode({k: v for k, v in self.__dict__.items() if v})


@dataclass
class Tile:
    id: str
    site: str
    region_code: str
    region_label: str
    state: str
    reason: str
    problems: list[str] = field(default_factory=list)
    devices: dict[str, Any] = field(default_factory=dict)
    open_alarms: int = 0
    status: str = ""  # the connection: online, stale or offline (state adds "alarm")


def _alarm_words(alarm: Alarm) -> tuple[str, dict[str, str]]:
    """An alarm in the words of the tile; the same words as the health record gives, so that
    a reason shows once (缺纸 from the alarm and from the printer's state)."""
    if alarm.type == "offline":
        return "离线", {}
    if alarm.type == "device_unavailable" and alarm.key:
        return "{device}离线", {"device": DEVICE_LABELS.get(alarm.key, alarm.key)}
    return ALARM_TYPE_LABELS.get(alarm.type, alarm.type), {}


def _say(lang: str, msgid: str, values: dict[str, str]) -> str:
    return translate(msgid, lang, **{k: translate(v, lang) for k, v in values.items()})


def tiles(session: Session, principal: Principal, now: int, rules: AlarmRules, lang: str,
          filters: OverviewFilters | None = None) -> list[Tile]:
    """Every terminal in the principal's region with its state and the reason in words.

    The state is the service layer's status (online / stale / offline), shown as ``alarm``
    when an online or stale terminal has an alarm that is not cleared.
    """
    f = filters or OverviewFilters()
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        got = terminal_service.list_terminals(session, principal, now, page=page, per_page=500,
                                              region=f.region, site=f.site, q=f.q, rules=rules)
        rows.extend(got.items)
        if page * got.per_page >= got.total or not got.items:
            break
        page += 1
    ids = [r["id"] for r in rows]
    alarms: dict[str, list[Alarm]] = {}
    if ids:
        for alarm in session.scalars(select(Alarm).where(Alarm.terminal.in_(ids),
                                                         Alarm.state != "cleared")
                                     .order_by(Alarm.since)):
            alarms.setdefault(alarm.terminal, []).append(alarm)
    healths = {t.id: t for t in session.scalars(select(Terminal).where(Terminal.id.in_(ids)))
               } if ids else {}
    out: list[Tile] = []
    for row in rows:
        status = row["status"]
        term_alarms = alarms.get(row["id"], [])
        state = "alarm" if term_alarms and status != "offline" else status
        words: list[tuple[str, dict[str, str]]] = []
        term = healths.get(row["id"])
        if status == "offline":
            since = term.offline_since if term else None
            words.append(("离线（{since} 起）", {"since": when(since)[5:]}) if since
                         else ("离线", {}))
        elif status == "stale":
            words.append(("超过 {n} 个周期没有健康数据",
                          {"n": str(rules.stale_intervals)}))
        words.extend(_alarm_words(a) for a in term_alarms
                     if not (a.type == "offline" and status == "offline"))
        words.extend(device_reasons(term.health if term else {}))
        seen: list[str] = []
        for msgid, values in words:
            text = _say(lang, msgid, values)
            if text not in seen:
                seen.append(text)
        problems = [k for k, d in row["devices"].items() if d.get("state") == "unavailable"]
        if f.state and state != f.state:
            continue
        if f.device and f.device not in problems:
            continue
        sep = "，" if lang == "zh" else "; "
        out.append(Tile(id=row["id"], site=row["site"], region_code=row["region_code"],
                        region_label=region_label(row["region_code"]), state=state,
                        reason=sep.join(seen) or translate("正常", lang),
                        problems=problems, devices=row["devices"],
                        open_alarms=len(term_alarms), status=status))
    return out


def overview(session: Session, principal: Principal, now: int, rules: AlarmRules, lang: str,
             filters: OverviewFilters) -> dict[str, Any]:
    everything = tiles(session, principal, now, rules, lang)
    shown = tiles(session, principal, now, rules, lang, filters) if filters.query() else \
        everything
    # online / offline / stale split the terminals; "in alarm" counts every terminal with an
    # alarm not yet cleared, whatever its connection (an offline terminal is in alarm too)
    counts = Counter(t.status for t in shown)
    counts["alarm"] = sum(1 for t in shown if t.open_alarms)
    by_region: dict[str, Counter[str]] = {}
    for tile in shown:
        c = by_region.setdefault(tile.region_code, Counter())
        c[tile.status] += 1
        c["alarm"] += 1 if tile.open_alarms else 0
    order = {"offline": 0, "alarm": 1, "stale": 2, "online": 3}
    return {
        "counts": {"total": len(shown), **{s: counts.get(s, 0) for s in STATES}},
        "by_region": [{"code": code, "label": region_label(code),
                       **{s: c.get(s, 0) for s in STATES}}
                      for code, c in sorted(by_region.items())],
        "tiles": sorted(shown, key=lambda t: (order.get(t.state, 9), t.id)),
        "attention": [t for t in sorted(shown, key=lambda t: (order.get(t.state, 9), t.id))
                      if t.state != "online"],
        "regions": sorted({(t.region_code, region_label(t.region_code)) for t in everything}),
        "sites": sorted({t.site for t in everything if t.site}),
        "devices": sorted({k for t in everything for k in t.devices}),
    }


# -- terminal page -------------------------------------------------------------------------------
SERIES = (("cpu", "CPU（%）"), ("memory", "内存（%）"), ("disk", "磁盘（%）"),
          ("outbox", "待发数据（条）"))


def _sample_values(values: dict[str, Any]) -> dict[str, float | None]:
    mem = values.get("memory") or {}
    disk = values.get("disk") or {}
    outbox = values.get("outbox") or {}
    return {"cpu": values.get("cpu_percent"), "memory": mem.get("used_percent"),
            "disk": disk.get("used_percent"), "outbox": outbox.get("depth")}


def health_series(session: Session, terminal_id: str, now: int, hours: int) -> dict[str, Any]:
    """CPU, memory, disk and outbox depth over the last ``hours``: raw samples for a day,
    hourly means (maxima for the outbox) beyond; the hourly roll-ups fill older gaps."""
    from fleet.models import HealthHourly, HealthSample

    since = now - hours * 3600_000
    bucket = 0 if hours <= 24 else 3600_000
    points: dict[int, dict[str, list[float]]] = {}
    for ts, values in session.execute(
            select(HealthSample.ts, HealthSample.values)
            .where(HealthSample.terminal == terminal_id, HealthSample.ts >= since)
            .order_by(HealthSample.ts)):
        key = ts - ts % bucket if bucket else ts
        slot = points.setdefault(key, {})
        for name, value in _sample_values(values or {}).items():
            if isinstance(value, int | float):
                slot.setdefault(name, []).append(float(value))
    for row in session.scalars(select(HealthHourly).where(
            HealthHourly.terminal == terminal_id, HealthHourly.hour_ts >= since)):
        if bucket and row.hour_ts not in points:
            points[row.hour_ts] = {k: [v] for k, v in (
                ("cpu", row.cpu_avg), ("disk", row.disk_used_max),
                ("outbox", float(row.outbox_depth_max))) if v is not None}
    out: dict[str, Any] = {"from": since, "to": now, "series": {}}
    for name, _label in SERIES:
        data = []
        for key in sorted(points):
            values = points[key].get(name)
            if values:
                agg = max(values) if name == "outbox" else sum(values) / len(values)
                data.append([key, round(agg, 2)])
        out["series"][name] = data
    return out


def terminal_page(session: Session, principal: Principal, terminal_id: str, now: int,
                  rules: AlarmRules, lang: str) -> dict[str, Any]:
    from fleet.models import Command, CommandTarget, Event
    from fleet.services import alarms as alarm_service

    detail = terminal_service.terminal_detail(session, principal, terminal_id, now, rules)
    open_alarms = alarm_service.list_alarms(session, principal, terminal=terminal_id,
                                            state="open", per_page=50).items
    past_alarms = alarm_service.list_alarms(session, principal, terminal=terminal_id,
                                            state="cleared", per_page=20).items
    events = list(session.scalars(select(Event).where(Event.terminal == terminal_id)
                                  .order_by(Event.ts.desc()).limit(20)))
    commands = session.execute(
        select(Command, CommandTarget).join(CommandTarget,
                                            CommandTarget.command_id == Command.id)
        .where(CommandTarget.terminal == terminal_id)
        .order_by(Command.created_at.desc()).limit(30)).all()
    term_tiles = [t for t in tiles(session, principal, now, rules, lang,
                                   OverviewFilters(q=terminal_id)) if t.id == terminal_id]
    return {"term": detail, "tile": term_tiles[0] if term_tiles else None,
            "open_alarms": open_alarms, "past_alarms": past_alarms,
            "events": events, "commands_history": commands, "region": region_label(
                detail["region_code"])}


def when(ms: int | str | None, with_seconds: bool = False) -> str:
    """Milliseconds (or an ISO string from a service view) as local time in 济南 (UTC+8)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    if ms is None or ms == "":
        return "—"
    if isinstance(ms, str):
        moment = datetime.fromisoformat(ms.replace("Z", "+00:00"))
    else:
        moment = datetime.fromtimestamp(ms / 1000, UTC)
    local = moment.astimezone(ZoneInfo("Asia/Shanghai"))
    return local.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")

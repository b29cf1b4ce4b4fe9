"""The terminal registry: birth records, presence, latest health; lists and the service map.

Status of a terminal, in words an operator can act on:

* ``online``: the retained state says online and health keeps coming;
* ``stale``: the state says online but no health for ``stale_intervals`` × the health
  interval (a hung app or a half-open connection: the broker never fired the Will);
* ``offline``: the state says offline (Last Will or clean stop), or never seen.

Payload timestamps decide which fact is newer, not arrival order.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fleet.auth import NotFound, Principal, region_prefix
from fleet.clock import iso
from fleet.models import Alarm, Terminal
from fleet.services import Page, clamp_page
from fleet.settings import AlarmRules


# -- applying payloads (the ingest calls these)
def get_or_create(session: Session, terminal_id: str, region: str, now: int,
                  cache: dict[str, Terminal] | None = None) -> Terminal:
    if cache is not None and terminal_id in cache:
        return cache[terminal_id]
    term = session.get(Terminal, terminal_id)
    if term is None:
        term = new_terminal(session, terminal_id, region, now)
    if cache is not None:
        cache[terminal_id] = term
    return term


def new_terminal(session: Session, terminal_id: str, region: str, now: int) -> Terminal:
    term = Terminal(id=terminal_id, region_code=region, site="", name="",
                    timezone="Asia/Shanghai", opening_hours=[], services=[], version="",
                    profile="", config_hash="", device_types={}, online=False,
                    presence_reason="", drops=[], health={}, first_seen=now)
    session.add(term)
    return term


def _seen(term: Terminal, ts: int, now: int) -> None:
    term.last_seen = max(term.last_seen or 0, ts)
    term.last_received = now


def apply_birth(term: Terminal, payload: dict[str, Any], now: int) -> bool:
    """Newer birth records replace the registry data. Returns whether it changed."""
    ts = int(payload["ts"])
    _seen(term, ts, now)
    if term.birth_ts is not None and ts <= term.birth_ts:
        return False
    values = payload["values"]
    loc = values.get("location", {})
    term.birth_ts = ts
    term.region_code = loc.get("region_code") or term.region_code
    term.site = loc.get("site", "")
    term.name = loc.get("name", "")
    term.latitude = loc.get("latitude")
    term.longitude = loc.get("longitude")
    term.timezone = loc.get("timezone") or "Asia/Shanghai"
    term.opening_hours = list(values.get("opening_hours", []))
    term.services = list(values.get("services", []))
    term.version = values.get("version", "")
    term.profile = values.get("profile", "")
    term.config_hash = values.get("config_hash", "")
    term.device_types = dict(values.get("capabilities", {}).get("devices", {}))
    return True


WILL_REASON = "connection lost"  # the Last Will's reason (kiosk/telemetry, fleet.simulate)


def apply_presence(term: Terminal, payload: dict[str, Any], now: int,
                   rules: AlarmRules | None = None) -> bool:
    """Online/offline from the retained state or the Last Will; a stale (older) one is
    ignored. Offline transitions are remembered for flapping."""
    ts = int(payload["ts"])
    values = payload["values"]
    if values.get("online"):  # an "offline" (the Will) is not a sign of life
        _seen(term, ts, now)
    online = bool(values.get("online"))
    if term.presence_ts is not None and ts <= term.presence_ts:
        # A Last Will carries the time its client was set up, which is before the "online"
        # of the same connection: its timestamp cannot order it. A Will for a terminal held
        # online is taken as it arrives (one broker keeps the order of a topic): it orders
        # just after that "online" (the terminal's clock), offline since its arrival.
        if online or not term.online or values.get("reason") != WILL_REASON:
            return False
        ts, since = term.presence_ts + 1, now
    else:
        since = ts
    was_online = term.online
    term.presence_ts = ts
    term.presence_reason = str(values.get("reason", ""))[:200]
    term.online = online
    if not online:
        term.offline_since = since
        if was_online:
            window = (rules or AlarmRules()).flap_window_s * 1000
            term.drops = [d for d in (term.drops or []) if d > since - window] + [since]
    else:
        term.offline_since = None
    return True


def apply_health(term: Terminal, payload: dict[str, Any], now: int) -> bool:
    ts = int(payload["ts"])
    _seen(term, ts, now)
    if term.health_ts is not None and ts <= term.health_ts:
        return False
    term.health_ts = ts
    term.health = dict(payload["values"])
    version = term.health.get("version")
    if version:
        term.version = str(version)
    return True


# -- views
def status(term: Terminal, now: int, rules: AlarmRules | None = None) -> str:
    rules = rules or AlarmRules()
    if not term.online:
        return "offline"
    stale_ms = rules.stale_intervals * rules.health_interval_s * 1000
    last = term.health_ts or term.presence_ts or 0
    if now - last > stale_ms:
        return "stale"
    return "online"


def devices(term: Terminal) -> dict[str, dict[str, Any]]:
    """Per device kind: state, reason in words, paper level (from the latest health)."""
    out: dict[str, dict[str, Any]] = {}
    for kind, dev in (term.health or {}).get("devices", {}).items():
        out[kind] = {"state": dev.get("state"), "reason": dev.get("reason", ""),
                     "paper": dev.get("paper"), "type": dev.get("type", "")}
    for kind, backend in (term.device_types or {}).items():
        out.setdefault(kind, {"state": "unknown", "reason": "", "paper": None, "type": backend})
    return out


def summary(term: Terminal, now: int, rules: AlarmRules | None = None,
            active_alarms: int = 0) -> dict[str, Any]:
    health = term.health or {}
    disk = health.get("disk") or {}
    return {
        "id": term.id, "region_code": term.region_code, "site": term.site, "name": term.name,
        "online": term.online, "status": status(term, now, rules),
        "last_seen": iso(term.last_seen), "version": term.version,
        "devices": devices(term),
        "outbox_depth": (health.get("outbox") or {}).get("depth"),
        "disk_free_gb": disk.get("free_gb"),
        "active_alarms": active_alarms,
    }


def detail(term: Terminal, now: int, rules: AlarmRules | None = None,
           active_alarms: int = 0) -> dict[str, Any]:
    return {
        **summary(term, now, rules, active_alarms),
        "location": {"latitude": term.latitude, "longitude": term.longitude,
                     "timezone": term.timezone},
        "opening_hours": term.opening_hours, "services": term.services,
        "profile": term.profile, "config_hash": term.config_hash,
        "device_types": term.device_types, "presence_reason": term.presence_reason,
        "presence_at": iso(term.presence_ts), "birth_at": iso(term.birth_ts),
        "health_at": iso(term.health_ts), "health": term.health,
        "first_seen": iso(term.first_seen),
    }


def _query(principal: Principal, *, region: str = "", site: str = "", online: bool | None =
           None, q: str = "") -> Any:
    stmt = select(Terminal).where(principal.scope_column(Terminal.region_code))
    if region:
        stmt = stmt.where(region_prefix(Terminal.region_code, region))
    if site:
        stmt = stmt.where(Terminal.site == site)
    if online is not None:
        stmt = stmt.where(Terminal.online.is_(online))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Terminal.id.ilike(like), Terminal.site.ilike(like),
                              Terminal.name.ilike(like)))
    return stmt


def list_terminals(session: Session, principal: Principal, now: int, *, page: int = 1,
                   per_page: int = 100, region: str = "", site: str = "",
                   online: bool | None = None, status_is: str = "", q: str = "",
                   rules: AlarmRules | None = None) -> Page[dict[str, Any]]:
    """Terminals in the principal's region, sorted by id. ``status_is`` filters on the
    computed status (online / stale / offline)."""
    page, per_page = clamp_page(page, per_page)
    stmt = _query(principal, region=region, site=site, online=online, q=q)
    if status_is:
        rules = rules or AlarmRules()
        cutoff = now - int(rules.stale_intervals * rules.health_interval_s * 1000)
        fresh = func.coalesce(Terminal.health_ts, Terminal.presence_ts, 0) >= cutoff
        if status_is == "offline":
            stmt = stmt.where(Terminal.online.is_(False))
        elif status_is == "stale":
            stmt = stmt.where(Terminal.online.is_(True), ~fresh)
        else:
            stmt = stmt.where(Terminal.online.is_(True), fresh)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(session.scalars(stmt.order_by(Terminal.id).offset((page - 1) * per_page)
                                .limit(per_page)))
    counts = _active_alarm_counts(session, [t.id for t in rows])
    return Page([summary(t, now, rules, counts.get(t.id, 0)) for t in rows], total, page,
                per_page)


def _active_alarm_counts(session: Session, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    rows = session.execute(select(Alarm.terminal, func.count()).where(
        Alarm.terminal.in_(ids), Alarm.state != "cleared").group_by(Alarm.terminal))
    return {t: int(n) for t, n in rows}


def get_terminal(session: Session, principal: Principal, terminal_id: str) -> Terminal:
    term = session.get(Terminal, terminal_id)
    if term is None or not principal.sees(term.region_code):
        raise NotFound(f"no terminal {terminal_id!r}")
    return term


def terminal_detail(session: Session, principal: Principal, terminal_id: str, now: int,
                    rules: AlarmRules | None = None) -> dict[str, Any]:
    term = get_terminal(session, principal, terminal_id)
    counts = _active_alarm_counts(session, [term.id])
    return detail(term, now, rules, counts.get(term.id, 0))


def region_counts(session: Session, principal: Principal) -> dict[str, dict[str, int]]:
    """Online/offline counts per region code (for overview pages)."""
    rows = session.execute(select(Terminal.region_code, Terminal.online, func.count())
                           .where(principal.scope_column(Terminal.region_code))
                           .group_by(Terminal.region_code, Terminal.online))
    out: dict[str, dict[str, int]] = {}
    for region, online, n in rows:
        out.setdefault(region, {"online": 0, "offline": 0})["online" if online else
                                                            "offline"] += int(n)
    return out


# -- the service map (政务服务地图)
def service_map(session: Session, principal: Principal, now: int,
                rules: AlarmRules | None = None) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the terminals that have a location (lon, lat order)."""
    features = []
    for term in session.scalars(_query(principal).order_by(Terminal.id)):
        if term.latitude is None or term.longitude is None:
            continue
        features.append({
            "type": "Feature", "id": term.id,
            "geometry": {"type": "Point", "coordinates": [term.longitude, term.latitude]},
            "properties": {
                "id": term.id, "name": term.name, "site": term.site,
                "region_code": term.region_code, "opening_hours": term.opening_hours,
                "open_24h": not term.opening_hours, "services": term.services,
                "online": term.online, "status": status(term, now, rules),
            },
        })
    return {"type": "FeatureCollection", "features": features}


CSV_FIELDS = ("id", "name", "site", "region_code", "longitude", "latitude", "opening_hours",
              "services", "online", "status")


def service_map_csv(session: Session, principal: Principal, now: int,
                    rules: AlarmRules | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for feature in service_map(session, principal, now, rules)["features"]:
        p = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"]
        hours = "; ".join(f"{h['days']} {h['open']}-{h['close']}" for h in p["opening_hours"])
        writer.writerow([p["id"], p["name"], p["site"], p["region_code"], lon, lat,
                         hours or "24h", " ".join(p["services"]), p["online"], p["status"]])
    return out.getvalue()

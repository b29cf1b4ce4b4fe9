"""Health history retention: raw samples for ``health_raw_days``, then hourly roll-ups."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fleet.models import HealthHourly, HealthSample

HOUR_MS = 3600_000


def roll_up(session: Session, now: int, raw_days: int, limit: int = 20_000) -> int:
    """Fold raw samples older than ``raw_days`` into ``health_hourly`` and delete them.
    Works in slices of ``limit`` samples so a tick stays short. Returns samples folded."""
    cutoff = now - raw_days * 86_400_000
    rows = list(session.scalars(select(HealthSample).where(HealthSample.ts < cutoff)
                                .order_by(HealthSample.id).limit(limit)))
    if not rows:
        return 0
    buckets: dict[tuple[str, int], list[HealthSample]] = {}
    for r in rows:
        buckets.setdefault((r.terminal, r.ts - r.ts % HOUR_MS), []).append(r)
    for (terminal, hour), samples in sorted(buckets.items()):
        cpus = [float(s.values.get("cpu_percent")) for s in samples
                if s.values.get("cpu_percent") is not None]
        disks = [float((s.values.get("disk") or {}).get("used_percent") or 0) for s in samples]
        unavailable = sum(1 for s in samples if any(
            d.get("state") == "unavailable" for d in (s.values.get("devices") or {}).values()))
        depth = max(int((s.values.get("outbox") or {}).get("depth") or 0) for s in samples)
        row = session.get(HealthHourly, (terminal, hour))
        if row is None:
            row = HealthHourly(terminal=terminal, hour_ts=hour, samples=0, cpu_avg=None,
                               cpu_max=None, disk_used_max=None, unavailable_samples=0,
                               outbox_depth_max=0)
            session.add(row)
        total = row.samples + len(samples)
        if cpus:
            prev = (row.cpu_avg or 0.0) * row.samples
            row.cpu_avg = (prev + sum(cpus)) / total
            row.cpu_max = max([row.cpu_max or 0.0, *cpus])
        row.disk_used_max = max([row.disk_used_max or 0.0, *disks])
        row.unavailable_samples += unavailable
        row.outbox_depth_max = max(row.outbox_depth_max, depth)
        row.samples = total
    session.execute(delete(HealthSample).where(HealthSample.id.in_([r.id for r in rows])))
    return len(rows)


def history(session: Session, terminal: str, since: int, until: int) -> dict[str, list[dict]]:
    """Raw samples and hourly roll-ups of one terminal between two times (ms)."""
    raw = session.scalars(select(HealthSample).where(
        HealthSample.terminal == terminal, HealthSample.ts >= since, HealthSample.ts <= until)
        .order_by(HealthSample.ts))
    hourly = session.scalars(select(HealthHourly).where(
        HealthHourly.terminal == terminal, HealthHourly.hour_ts >= since - HOUR_MS,
        HealthHourly.hour_ts <= until).order_by(HealthHourly.hour_ts))
    return {"raw": [{"ts": s.ts, "cpu_percent": s.values.get("cpu_percent"),
                     "disk": s.values.get("disk"), "outbox": s.values.get("outbox"),
                     "devices": {k: d.get("state") for k, d in
                                 (s.values.get("devices") or {}).items()}} for s in raw],
            "hourly": [{"hour_ts": h.hour_ts, "samples": h.samples, "cpu_avg": h.cpu_avg,
                        "cpu_max": h.cpu_max, "disk_used_max": h.disk_used_max,
                        "unavailable_samples": h.unavailable_samples,
                        "outbox_depth_max": h.outbox_depth_max} for h in hourly]}

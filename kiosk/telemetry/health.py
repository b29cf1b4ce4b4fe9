"""The health record: each device's state, paper, uptime, CPU, memory, disk, temperature,
outbox depth and the last error. Linux /proc and /sys are read directly (no psutil); what a
machine does not offer is ``null``, never a guess.

``signature()`` is a small tuple of what matters to the monitoring desk (device states, paper,
outbox alarm, last error): the reporter publishes health at once when it changes.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from drivers.privacy import scrub

HealthProvider = Callable[[], Mapping[str, Any]]
#: health detail keys copied from a device (never personal data: drivers keep it out)
_PAPER_KEYS = ("paper", "paper_state", "paper_status")


def _read(path: str | Path) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def device_values(health: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{kind: DeviceHealth | dict}`` → plain JSON values per device."""
    out: dict[str, dict[str, Any]] = {}
    for kind, item in health.items():
        if isinstance(item, Mapping):
            state, type_, reason = item.get("state", ""), item.get("type", ""), item.get(
                "reason", "")
            since, detail = item.get("since"), item.get("detail", {}) or {}
        else:
            state, type_, reason = item.state, item.type, item.reason
            since, detail = item.since, item.detail
        entry: dict[str, Any] = {"state": str(getattr(state, "value", state)),
                                 "type": str(type_), "reason": scrub(str(reason))[:200],
                                 "since": int(since * 1000) if since else None}
        paper = next((detail[k] for k in _PAPER_KEYS if k in detail), None)
        entry["paper"] = str(getattr(paper, "value", paper)) if paper is not None else None
        extra = {k: v for k, v in detail.items()
                 if isinstance(v, bool | int | float | str) and k not in _PAPER_KEYS}
        entry["detail"] = {k: scrub(v)[:100] if isinstance(v, str) else v
                           for k, v in list(extra.items())[:20]}
        out[str(kind)] = entry
    return out


class SystemProbe:
    """CPU, memory, disk, temperature and uptime of this machine (Linux; null elsewhere)."""

    def __init__(self, disk_path: str | Path = "/", proc: str | Path = "/proc",
                 thermal: str | Path = "/sys/class/thermal") -> None:
        self.disk_path = Path(disk_path)
        self.proc = Path(proc)
        self.thermal = Path(thermal)
        self._cpu_prev: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def cpu_percent(self) -> float | None:
        """Busy share of all CPUs since the previous call (None on the first call)."""
        text = _read(self.proc / "stat")
        if not text:
            return None
        fields = [int(x) for x in text.splitlines()[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        total = sum(fields[:8])
        with self._lock:
            prev, self._cpu_prev = self._cpu_prev, (idle, total)
        if prev is None or total <= prev[1]:
            return None
        return round(100.0 * (1 - (idle - prev[0]) / (total - prev[1])), 1)

    def memory(self) -> dict[str, Any] | None:
        text = _read(self.proc / "meminfo")
        if not text:
            return None
        info = {}
        for line in text.splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts:
                info[key] = int(parts[0])  # kB
        total, avail = info.get("MemTotal"), info.get("MemAvailable")
        if not total or avail is None:
            return None
        return {"total_mb": total // 1024, "available_mb": avail // 1024,
                "used_percent": round(100.0 * (1 - avail / total), 1)}

    def disk(self) -> dict[str, Any] | None:
        try:
            usage = shutil.disk_usage(self.disk_path)
        except OSError:
            return None
        return {"path": str(self.disk_path), "total_gb": round(usage.total / 1e9, 2),
                "free_gb": round(usage.free / 1e9, 2),
                "used_percent": round(100.0 * usage.used / usage.total, 1) if usage.total
                else None}

    def temperature_c(self) -> float | None:
        """Highest thermal-zone reading, or None where the machine has no sensor."""
        best: float | None = None
        try:
            zones = sorted(self.thermal.glob("thermal_zone*/temp"))
        except OSError:
            return None
        for zone in zones:
            text = _read(zone)
            try:
                value = int((text or "").strip()) / 1000.0
            except ValueError:
                continue
            if -40 < value < 150:
                best = value if best is None else max(best, value)
        return round(best, 1) if best is not None else None

    def uptime_s(self) -> float | None:
        text = _read(self.proc / "uptime")
        try:
            return round(float(text.split()[0]), 1) if text else None
        except (ValueError, IndexError):
            return None

    def load1(self) -> float | None:
        try:
            return round(os.getloadavg()[0], 2)
        except OSError:
            return None


class HealthCollector:
    """Builds the ``values`` of a health payload from the device provider and the probes."""

    def __init__(self, provider: HealthProvider, *, probe: SystemProbe | None = None,
                 extra: Callable[[], Mapping[str, Any]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.provider = provider
        self.probe = probe or SystemProbe()
        self.extra = extra
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self._last_error: dict[str, Any] | None = None

    def note_error(self, source: str, message: str) -> None:
        """Remember the latest error (scrubbed) for the next health record."""
        with self._lock:
            self._last_error = {"at": int(time.time() * 1000), "source": source[:60],
                                "message": scrub(message)[:300]}

    @property
    def last_error(self) -> dict[str, Any] | None:
        with self._lock:
            return dict(self._last_error) if self._last_error else None

    def devices(self) -> dict[str, dict[str, Any]]:
        try:
            return device_values(self.provider())
        except Exception as exc:  # a broken provider must not stop telemetry
            self.note_error("health", f"device health provider failed: {exc}")
            return {}

    def signature(self, devices: Mapping[str, Mapping[str, Any]] | None = None,
                  extra: Mapping[str, Any] | None = None) -> tuple[Any, ...]:
        devices = self.devices() if devices is None else devices
        parts = tuple(sorted((k, v["state"], v.get("paper")) for k, v in devices.items()))
        alarm = bool((extra or {}).get("outbox", {}).get("alarm")) if extra else False
        err = self.last_error
        return parts, alarm, err["at"] if err else None

    def collect(self) -> tuple[dict[str, Any], tuple[Any, ...]]:
        """(values, signature) of one health record."""
        devices = self.devices()
        extra = dict(self.extra()) if self.extra else {}
        values: dict[str, Any] = {
            "devices": devices,
            "uptime_s": self.probe.uptime_s(),
            "app_uptime_s": round(self._clock() - self._started, 1),
            "cpu_percent": self.probe.cpu_percent(),
            "load1": self.probe.load1(),
            "memory": self.probe.memory(),
            "disk": self.probe.disk(),
            "temperature_c": self.probe.temperature_c(),
            "last_error": self.last_error,
            **extra,
        }
        return values, self.signature(devices, extra)

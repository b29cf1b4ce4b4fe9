"""Runs the soak: the real app under a virtual display, N randomised sessions, a sample of the
process every ``every`` sessions, incidents between sessions, and the verdict against the
targets of issue 17. The report is a plain dict (``--json`` prints it)."""

from __future__ import annotations

import logging
import os
import random
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.schema import KioskConfig
from kiosk.soak.metrics import Sample, Sampler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Targets:
    """Issue 17's targets. RSS is compared after warm-up; threads and descriptors at rest."""

    rss_growth_mb: float = 10.0
    threads_growth: int = 0
    fds_growth: int = 0
    max_ui_work_ms: float = 100.0
    #: also hold the wall-clock UI work to the limit (a quiet machine; on a shared CI machine
    #: the neighbours' load lands in it, so by default the UI thread's CPU time is checked)
    wall_clock: bool = False


@dataclass(frozen=True)
class SoakOptions:
    sessions: int = 100
    warmup: int = 20
    every: int = 100
    seed: int = 17
    size: tuple[int, int] = (1280, 800)
    emulate: frozenset[str] = frozenset()
    fleet: bool = False  # a real mosquitto that goes down and comes back
    incident_every: int = 10
    trace: bool = True  # tracemalloc (slower; the heap's top growth)
    data_dir: Path | None = None
    targets: Targets = Targets()


def run_soak(config: KioskConfig, options: SoakOptions, progress: Any = None) -> dict[str, Any]:
    """Play the sessions; returns the report (see :func:`verdict` for the checked figures)."""
    from kiosk.cli.xvfb import virtual_display

    with tempfile.TemporaryDirectory(prefix="kiosk-soak-") as scratch:
        data_dir = options.data_dir or Path(scratch) / "data"
        width, height = options.size
        with virtual_display(width, height):
            return _soak(config, options, data_dir, Path(scratch), progress)


def _soak(config: KioskConfig, options: SoakOptions, data_dir: Path, scratch: Path,
          progress: Any) -> dict[str, Any]:
    from screens.bootstrap import prepare_kivy

    width, height = options.size
    prepare_kivy(width, height, maxfps=0)
    from kiosk.cli.demo import FastForwardClock
    from kiosk.core import build_kiosk
    from kiosk.soak.driver import Incidents, SessionDriver
    from screens.pilot import Pilot

    lab = None
    if options.fleet:
        from fleet.lab import FleetLab

        lab = FleetLab(scratch / "fleet", terminals=[(config.terminal.id,
                                                      config.terminal.region_code)]).start()
        fleet_config = lab.kiosk_config(config.terminal.id)
        config = config.model_copy(update={"mqtt": fleet_config.mqtt})
    config = config.model_copy(update={
        "ui": config.ui.model_copy(update={"simulator": True, "width": width,
                                           "height": height}),
        "storage": config.storage.model_copy(update={"data_dir": data_dir})})
    clock = FastForwardClock()
    kiosk = build_kiosk(config, clock=clock, emulate=options.emulate)
    pilot = Pilot(kiosk).start()
    rng = random.Random(options.seed)
    driver = SessionDriver(pilot, clock, rng)
    incidents = Incidents(pilot, clock, broker=lab.broker if lab else None)
    sampler = Sampler([data_dir], trace=options.trace, stall_ms=options.targets.max_ui_work_ms)
    failures: list[str] = []
    slow: list[dict[str, Any]] = []  # sessions with a frame over the limit, and what they did
    broker_down_at: int | None = None
    rest_threads = threading.active_count()

    def settle(at_rest: Any) -> None:
        with pilot.not_recording():
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not at_rest():
                pilot.pump()
                time.sleep(0.02)
            pilot.pump(3)

    def sample(done: int) -> Sample:
        work, cpu = pilot.ui_work_times(), pilot.ui_cpu_times()
        with_gl = list(pilot.cpu_times)
        with pilot.not_recording():
            taken = sampler.take(done, work, cpu, settle=settle, rest_threads=rest_threads,
                                 extra=_kivy_caches, frame_cpu_s=with_gl)
        pilot.clear_frames()  # the harness must not grow either
        if progress is not None:
            progress(taken)
        return taken

    started = time.monotonic()
    total = options.warmup + options.sessions
    try:
        for n in range(1, total + 1):
            before = len(pilot.cpu_times)
            try:
                played = driver.play()
                _note_slow(slow, n, played, pilot, before, options.targets.max_ui_work_ms)
            except Exception as exc:  # a stuck screen is a finding, not the end of the run
                failures.append(f"session {n}: {exc}")
                log.exception("soak: session %d failed", n)
                driver.back_to_attract()
            if lab is not None and broker_down_at is not None and n - broker_down_at >= 5:
                incidents.broker_back()
                broker_down_at = None
            if n % options.incident_every == 0 and n < total:
                choices = incidents.available()
                if choices:
                    name, action = choices[(n // options.incident_every) % len(choices)]
                    try:
                        action()
                        if name == "broker-down":
                            broker_down_at = n
                    except Exception as exc:
                        failures.append(f"incident {name} after session {n}: {exc}")
                        log.exception("soak: incident %s failed", name)
            if n == options.warmup:
                sample(0)
                rest_threads = threading.active_count()
                sampler.start_tracing()
                sample(0)
                sampler.samples.pop(0)  # the first one only reset the frame window
            elif n > options.warmup and ((n - options.warmup) % options.every == 0
                                         or n == total):
                sample(n - options.warmup)
        fleet = _drain(pilot, kiosk, incidents, lab) if lab is not None else None
    finally:
        sampler.stop()
        pilot.stop()
        if lab is not None:
            lab.close()
    report = _report(options, sampler.samples, driver, incidents, failures,
                     time.monotonic() - started, fleet)
    report["data_dir"] = str(data_dir)
    report["slow_sessions"] = slow[:50]
    return report


def _types_growth(first: Sample, last: Sample, top: int = 12) -> dict[str, int]:
    """The object types whose number grew most since warm-up (gc-tracked objects)."""
    before, after = first.extra.get("types", {}), last.extra.get("types", {})
    assert isinstance(before, dict) and isinstance(after, dict)
    growth = {name: n - before.get(name, 0) for name, n in after.items()}
    return dict(sorted(((k, v) for k, v in growth.items() if v > 0), key=lambda kv: -kv[1])[:top])


def _kivy_caches() -> dict[str, object]:
    """Entries in each of Kivy's caches (label textures, images, kv files): a growing one is
    memory that tracemalloc does not see (textures live in the GL driver)."""
    from kivy.cache import Cache

    objects = getattr(Cache, "_objects", {})
    return {"kivy_cache": {name: len(entries) for name, entries in objects.items() if entries}}


def _note_slow(slow: list[dict[str, Any]], n: int, played: dict[str, Any], pilot: Any,
               before: int, limit_ms: float) -> None:
    cpu = pilot.ui_cpu_times()[before:]
    work = pilot.ui_work_times()[before:]
    with_gl = pilot.cpu_times[before:]
    if cpu and (max(cpu) * 1000 > limit_ms or max(work) * 1000 > limit_ms):
        slow.append({"session": n, **played, "max_ui_cpu_ms": round(max(cpu) * 1000, 1),
                     "max_ui_work_ms": round(max(work) * 1000, 1),
                     "max_frame_cpu_ms": round(max(with_gl) * 1000, 1)})


def _drain(pilot: Any, kiosk: Any, incidents: Any, lab: Any) -> dict[str, Any]:
    """The broker back for good: the outbox empties (nothing waits for ever)."""
    incidents.broker_back()
    outbox = kiosk.reporter.outbox
    deadline = time.monotonic() + 60
    with pilot.not_recording():
        while time.monotonic() < deadline and outbox.depth:
            pilot.pump()
            time.sleep(0.02)
    return {"outbox_left": outbox.depth, "broker_restarts": incidents.counts["broker-down"]}


def _report(options: SoakOptions, samples: list[Sample], driver: Any, incidents: Any,
            failures: list[str], elapsed_s: float, fleet: dict[str, Any] | None
            ) -> dict[str, Any]:
    first, last = samples[0], samples[-1]
    baseline = first
    figures = {
        "sessions": options.sessions,
        "warmup_sessions": options.warmup,
        "seconds": round(elapsed_s, 1),
        "rss_mb": last.rss_mb,
        "rss_growth_mb": round(last.rss_mb - baseline.rss_mb, 2),
        "heap_growth_mb": round(last.heap_mb - baseline.heap_mb, 2),
        "threads_growth": last.threads - baseline.threads,
        "os_threads_growth": last.os_threads - baseline.os_threads,
        "fds_growth": last.fds - baseline.fds,
        # a leak grows with sessions and shows in the second half too; a font face the text
        # renderer opens the first time a size is drawn (once per font and size) does not
        "fds_growth_steady": last.fds - samples[len(samples) // 2].fds,
        "fds_new": {k: n - baseline.fd_targets.get(k, 0) for k, n in last.fd_targets.items()
                    if n > baseline.fd_targets.get(k, 0)},
        "objects_growth": _types_growth(baseline, last),
        "threads_new": sorted(set(last.thread_names) - set(baseline.thread_names)),
        "max_ui_work_ms": max(s.max_ui_work_ms for s in samples),
        "max_ui_cpu_ms": max(s.max_ui_cpu_ms for s in samples),
        "max_frame_cpu_ms": max(s.max_frame_cpu_ms for s in samples),
        "frame_stalls": sum(s.stalls for s in samples),
        "cpu_stalls": sum(s.cpu_stalls for s in samples),
        "load_average": _load(),
        "sqlite_kb": last.sqlite_kb,
        "sqlite_growth_kb": {name: round(size - baseline.sqlite_kb.get(name, 0.0), 1)
                             for name, size in last.sqlite_kb.items()},
    }
    report: dict[str, Any] = {
        **figures,
        "seed": options.seed,
        "traced": options.trace,
        "size": list(options.size),
        "emulated": sorted(options.emulate),
        "samples": [s.as_dict() for s in samples],
        "played": dict(sorted(driver.counts.items())),
        "incidents": dict(sorted(incidents.counts.items())),
        "driver_recoveries": driver.recoveries,
        "failures": failures,
        "fleet": fleet,
    }
    report["violations"] = verdict(report, options.targets)
    report["ok"] = not report["violations"]
    return report


def _load() -> float:
    try:
        return round(os.getloadavg()[0], 1)
    except OSError:
        return -1.0


def verdict(report: dict[str, Any], targets: Targets) -> list[str]:
    """Each target the run missed, in words."""
    out: list[str] = []
    if report["rss_growth_mb"] > targets.rss_growth_mb:
        out.append(f"RSS grew {report['rss_growth_mb']} MB after warm-up "
                   f"(target under {targets.rss_growth_mb} MB)")
    if report["threads_growth"] > targets.threads_growth:
        out.append(f"{report['threads_growth']} more threads at rest than after warm-up")
    steady = report.get("fds_growth_steady", report["fds_growth"])
    if steady > targets.fds_growth:
        out.append(f"{steady} more open file descriptors at the end than half-way: they grow "
                   "with sessions")
    if report.get("traced"):
        pass  # tracemalloc slows every allocation 2-4x: frame times are not judged then
    elif report["max_ui_cpu_ms"] > targets.max_ui_work_ms:
        out.append(f"a frame with {report['max_ui_cpu_ms']} ms of UI-thread CPU time "
                   f"(target at most {targets.max_ui_work_ms} ms)")
    if (targets.wall_clock and not report.get("traced")
            and report["max_ui_work_ms"] > targets.max_ui_work_ms):
        out.append(f"a frame with {report['max_ui_work_ms']} ms of UI work, wall clock "
                   f"(target at most {targets.max_ui_work_ms} ms)")
    if report["failures"]:
        out.append(f"{len(report['failures'])} sessions or incidents failed: "
                   f"{report['failures'][0]}")
    if report["driver_recoveries"]:
        out.append(f"{report['driver_recoveries']} sessions had to be ended by the driver")
    fleet = report.get("fleet")
    if fleet and fleet["outbox_left"]:
        out.append(f"{fleet['outbox_left']} records still in the outbox after the broker "
                   "came back")
    return out

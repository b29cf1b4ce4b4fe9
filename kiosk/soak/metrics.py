"""What a terminal that runs for months must not accumulate: memory, threads, file
descriptors, database size. Read from ``/proc`` (Linux, as on the terminals) without Kivy."""

from __future__ import annotations

import gc
import os
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")
SQLITE_PATTERNS = ("*.db", "*.sqlite", "*.sqlite3")


def rss_bytes() -> int:
    """Resident set size of this process."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * _PAGE


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def fd_targets() -> dict[str, int]:
    """What the open descriptors point at (``socket``, ``pipe``, ``anon_inode:…`` or a path),
    counted: the soak shows which ones grew."""
    counts: dict[str, int] = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the descriptor of the listing itself, already closed
        kind = target.split(":", 1)[0] if target.startswith(("socket:", "pipe:")) else target
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def os_threads() -> int:
    """Every OS thread of the process (Python threads plus those of SDL, Mesa, SQLite…)."""
    return len(os.listdir("/proc/self/task"))


def sqlite_sizes(folders: Iterable[Path]) -> dict[str, int]:
    """Size in bytes of every SQLite file (database plus its -wal) under the data folders."""
    sizes: dict[str, int] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        paths = {p for pattern in SQLITE_PATTERNS for p in folder.rglob(pattern)}
        for path in sorted(paths):
            total = path.stat().st_size
            wal = path.with_name(path.name + "-wal")
            if wal.exists():
                total += wal.stat().st_size
            sizes[str(path.relative_to(folder))] = total
    return sizes


@dataclass
class Sample:
    """The state of the process after ``sessions`` sessions, back on the attract screen."""

    sessions: int
    t_s: float
    rss_mb: float
    heap_mb: float  # Python objects traced by tracemalloc (0 when tracing is off)
    threads: int  # Python threads
    os_threads: int
    fds: int
    fd_targets: dict[str, int]
    sqlite_kb: dict[str, float]
    frames: int  # frames in the window since the previous sample
    max_ui_work_ms: float
    p99_ui_work_ms: float
    stalls: int  # frames in the window whose UI work exceeded the stall limit
    max_ui_cpu_ms: float  # the UI thread's CPU time in its busiest frame, outside GL drawing
    cpu_stalls: int  # frames whose UI-thread CPU time exceeded the stall limit
    #: the UI thread's CPU time in its busiest frame, GL drawing and the buffer swap included
    #: (under Xvfb partly Mesa's software rasteriser; a terminal's GPU does that part)
    max_frame_cpu_ms: float = 0.0
    top_growth: list[dict[str, object]] = field(default_factory=list)
    thread_names: list[str] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)  # e.g. Kivy's cache sizes

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class Sampler:
    """Takes a :class:`Sample` every so many sessions. ``settle`` pumps the UI until transient
    threads (a print job's worker, a simulated device's thread) have ended, so that a count
    is compared with a count at rest."""

    def __init__(self, data_dirs: Iterable[Path], trace: bool = True, stall_ms: float = 100.0
                 ) -> None:
        self.data_dirs = [Path(d) for d in data_dirs]
        self.trace = trace
        self.stall_ms = stall_ms
        self.samples: list[Sample] = []
        self._t0 = time.monotonic()
        self._baseline: tracemalloc.Snapshot | None = None

    def start_tracing(self) -> None:
        """After warm-up: the heap's growth is measured from here."""
        if self.trace:
            if not tracemalloc.is_tracing():
                tracemalloc.start(1)
            gc.collect()
            self._baseline = tracemalloc.take_snapshot()

    def stop(self) -> None:
        if self.trace and tracemalloc.is_tracing():
            tracemalloc.stop()

    def take(self, sessions: int, ui_work_s: list[float], ui_cpu_s: list[float],
             settle: Callable[[Callable[[], bool]], None] | None = None,
             rest_threads: int | None = None,
             extra: Callable[[], dict[str, object]] | None = None,
             frame_cpu_s: list[float] | None = None) -> Sample:
        if settle is not None and rest_threads is not None:
            settle(lambda: threading.active_count() <= rest_threads)
        gc.collect()
        traced = tracemalloc.is_tracing()
        heap = tracemalloc.get_traced_memory()[0] if traced else 0
        overhead = tracemalloc.get_tracemalloc_memory() if traced else 0
        top: list[dict[str, object]] = []
        if traced and self._baseline is not None:
            snapshot = tracemalloc.take_snapshot().filter_traces(
                (tracemalloc.Filter(False, tracemalloc.__file__),))
            for stat in snapshot.compare_to(self._baseline, "lineno")[:5]:
                frame = stat.traceback[0]
                top.append({"where": f"{_short(frame.filename)}:{frame.lineno}",
                            "growth_kb": round(stat.size_diff / 1024, 1),
                            "count_growth": stat.count_diff})
            del snapshot
            overhead = tracemalloc.get_tracemalloc_memory()
        work_ms = sorted(w * 1000 for w in ui_work_s)
        sample = Sample(
            sessions=sessions, t_s=round(time.monotonic() - self._t0, 1),
            # tracemalloc's own bookkeeping grows with what it traces: not the app's memory
            rss_mb=round((rss_bytes() - overhead) / 2**20, 2),
            heap_mb=round(heap / 2**20, 2),
            threads=threading.active_count(), os_threads=os_threads(), fds=open_fds(),
            fd_targets=fd_targets(),
            sqlite_kb={k: round(v / 1024, 1) for k, v in sqlite_sizes(self.data_dirs).items()},
            frames=len(work_ms),
            max_ui_work_ms=round(work_ms[-1], 1) if work_ms else 0.0,
            p99_ui_work_ms=round(work_ms[int(0.99 * (len(work_ms) - 1))], 1) if work_ms else 0.0,
            stalls=sum(1 for w in work_ms if w > self.stall_ms),
            max_ui_cpu_ms=round(max(ui_cpu_s, default=0.0) * 1000, 1),
            cpu_stalls=sum(1 for c in ui_cpu_s if c * 1000 > self.stall_ms),
            max_frame_cpu_ms=round(max(frame_cpu_s or [0.0]) * 1000, 1),
            top_growth=top,
            thread_names=sorted(t.name for t in threading.enumerate()),
            extra={"gc_objects": len(gc.get_objects()), "types": _type_counts(),
                   **(extra() if extra else {})})
        self.samples.append(sample)
        return sample


def _type_counts(top: int = 200) -> dict[str, int]:
    counts: dict[str, int] = {}
    for obj in gc.get_objects():
        name = type(obj).__qualname__
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:top])


_ROOT = str(Path(__file__).resolve().parents[2]) + os.sep


def _short(filename: str) -> str:
    if filename.startswith(_ROOT):
        return filename[len(_ROOT):]
    parts = Path(filename).parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1:])
    return "/".join(parts[-3:])

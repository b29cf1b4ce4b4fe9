"""The one helper that moves work off the UI thread and results back onto it.

Threading rule: only the UI (Kivy main) thread touches widgets and UI state. Driver threads,
MQTT and network calls never call into screens directly; they call :meth:`MainThreadHandoff.post`
(which is safe from any thread), and long calls from the UI go through
:meth:`MainThreadHandoff.run_in_worker`, whose callbacks come back on the UI thread.

The handoff does not know Kivy: the UI installs a ``scheduler`` (``Clock.schedule_once``)
with :meth:`attach`. Until then (unit tests, command line) posted calls wait in a queue that
:meth:`drain` runs, so plain-Python tests stay deterministic.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Scheduler = Callable[[Callable[[], None]], None]


class MainThreadHandoff:
    """Hands callables to the UI thread; runs blocking work on a small worker pool."""

    def __init__(self, workers: int = 4) -> None:
        self._pending: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._scheduler: Scheduler | None = None
        self._ui_thread = threading.main_thread()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kiosk-worker")
        self._closed = False

    # -- UI side -------------------------------------------------------------------------------
    def attach(self, scheduler: Scheduler, ui_thread: threading.Thread | None = None) -> None:
        """Install the UI toolkit's "run this on the UI thread soon" function."""
        self._ui_thread = ui_thread or threading.current_thread()
        self._scheduler = scheduler
        self.drain()

    def on_ui_thread(self) -> bool:
        return threading.current_thread() is self._ui_thread

    def drain(self) -> int:
        """Run every call posted so far (UI thread only). Returns how many ran."""
        count = 0
        while True:
            try:
                fn = self._pending.get_nowait()
            except queue.Empty:
                return count
            self._call(fn)
            count += 1

    # -- any thread ----------------------------------------------------------------------------
    def post(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``fn(*args, **kwargs)`` on the UI thread, soon. Safe from any thread."""
        if self._closed:
            return

        def call() -> None:
            fn(*args, **kwargs)

        self._pending.put(call)
        scheduler = self._scheduler
        if scheduler is not None:
            scheduler(lambda: self.drain())

    def run_in_worker(
        self,
        fn: Callable[..., T],
        *args: Any,
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> Future[T]:
        """Run ``fn`` on a worker thread; ``on_done``/``on_error`` are called on the UI thread."""
        future = self._pool.submit(fn, *args)

        def finished(fut: Future[T]) -> None:
            exc = fut.exception()
            if exc is not None:
                if on_error is not None:
                    self.post(on_error, exc)
                else:
                    log.error("background task %s failed: %s", getattr(fn, "__name__", fn), exc)
            elif on_done is not None:
                self.post(on_done, fut.result())

        future.add_done_callback(finished)
        return future

    def close(self) -> None:
        """Stop accepting work and wait for running tasks (bounded by their own time-outs)."""
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _call(fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:
            log.exception("UI-thread callback failed")

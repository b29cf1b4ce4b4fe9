"""Live events for the display, the staff page and phone ticket pages (server-sent events).

``publish`` is safe from any thread (the routes run the engine in a thread pool); each
subscriber has its own bounded asyncio queue on its event loop. A subscriber that falls
behind by ``MAX_BACKLOG`` events loses the oldest ones and reloads its state (the display
replays calls from the log by ``Last-Event-ID``, so no call is lost).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

MAX_BACKLOG = 1000


class Hub:
    def __init__(self) -> None:
        self._subs: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any]]]] = set()
        self._lock = threading.Lock()

    @staticmethod
    def _put(queue: asyncio.Queue[dict[str, Any]], event: dict[str, Any]) -> None:
        if queue.full():
            queue.get_nowait()
        queue.put_nowait(event)

    def publish(self, event: dict[str, Any]) -> None:
        with self._lock:
            subs = list(self._subs)
        for loop, queue in subs:
            try:
                loop.call_soon_threadsafe(self._put, queue, event)
            except RuntimeError:  # the loop is closed: the subscriber is gone
                pass

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(MAX_BACKLOG)
        item = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._subs.add(item)
        try:
            yield queue
        finally:
            with self._lock:
                self._subs.discard(item)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

"""Build the kiosk's :class:`~kiosk.queue.service.QueueService` from the whole config.

``backends.queue.type = "embedded"``: the engine in this process on
``queue.db_path`` (default ``<storage.data_dir>/queue.sqlite``). ``"http"``: the hall server at
``backends.queue.url`` with ``backends.queue.timeout_s``, ``queue.retries`` and, when
``queue.offline_enabled``, this terminal's offline range. The opening hours and the time zone
are ``terminal.opening_hours`` and ``terminal.timezone``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.queue import QueueSettings
from kiosk.queue.client import HttpQueueService
from kiosk.queue.engine import QueueEngine
from kiosk.queue.hours import OpeningHours
from kiosk.queue.offline import OfflineStore
from kiosk.queue.service import EmbeddedQueueService, QueueService


def queue_settings(config: Any) -> QueueSettings:
    """``config.queue`` once the lead has mounted it, else the defaults."""
    settings = getattr(config, "queue", None)
    return settings if isinstance(settings, QueueSettings) else QueueSettings()


def build_queue_service(config: Any, *, settings: QueueSettings | None = None,
                        clock: Callable[[], float] = time.time) -> QueueService:
    settings = settings or queue_settings(config)
    hours = OpeningHours.from_terminal(config.terminal)
    backend = config.backends.queue
    data_dir = Path(config.storage.data_dir)
    terminal = config.terminal.id
    if backend.type == "embedded":
        engine = QueueEngine(settings.resolve_db_path(data_dir), settings, hours, clock=clock)
        return EmbeddedQueueService(engine, terminal=terminal)
    offline = None
    if settings.offline_enabled:
        offline = OfflineStore(settings.resolve_offline_path(data_dir), settings, terminal,
                               hours, clock=clock)
    return HttpQueueService(backend.url, timeout_s=backend.timeout_s, retries=settings.retries,
                            backoff_s=settings.retry_backoff_s, terminal=terminal,
                            settings=settings, hours=hours, offline=offline,
                            probe_s=settings.offline_probe_s)

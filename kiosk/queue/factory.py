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

from kiosk.queue.client import HttpQueueService
from kiosk.queue.engine import QueueEngine
from kiosk.queue.hours import OpeningHours
from kiosk.queue.offline import OfflineStore
from kiosk.queue.service import EmbeddedQueueService, QueueService
from kiosk.queue.settings import QueueSettings


def queue_settings(config: Any) -> QueueSettings:
    """``config.queue`` once the lead has mounted it, else the defaults."""
    settings = getattr(config, "queue", None)
    return settings if isinstance(settings, QueueSettings) else QueueSettings()


def read_api_key(settings: QueueSettings) -> str:
    """This kiosk's hall-server key from ``queue.api_key_file`` ("" when none is set).

    Raises ``ValueError`` naming the file when it cannot be read or others can read it."""
    if not settings.api_key_file:
        return ""
    path = Path(settings.api_key_file).expanduser()
    try:
        if path.stat().st_mode & 0o077:
            raise ValueError(f"queue.api_key_file {path} is readable by others: chmod 600 it")
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"queue.api_key_file {path}: {exc.strerror or exc} (write the key "
                         "from `kiosk queue terminal add ID` there)") from None
    if not key:
        raise ValueError(f"queue.api_key_file {path} is empty")
    return key


def ticket_page_url(config: Any, ticket_id: str, settings: QueueSettings | None = None) -> str:
    """The phone ticket page of a ticket: ``<queue.public_url>/t/<id>``, else the hall
    server's base URL from ``backends.queue.url``; "" for an embedded queue without one."""
    from urllib.parse import quote, urlsplit

    settings = settings or queue_settings(config)
    base = settings.public_url
    if not base and config.backends.queue.type == "http":
        parts = urlsplit(config.backends.queue.url)
        base = f"{parts.scheme}://{parts.netloc}"
    return f"{base.rstrip('/')}/t/{quote(ticket_id, safe='')}" if base else ""


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
                            api_key=read_api_key(settings),
                            backoff_s=settings.retry_backoff_s, terminal=terminal,
                            settings=settings, hours=hours, offline=offline,
                            probe_s=settings.offline_probe_s)

"""The queue (取号/叫号): engine, hall server and client, appointments, offline numbers.

- :class:`QueueService` is what the kiosk calls; :func:`build_queue_service` returns the
  embedded engine or the hall-server client as ``backends.queue.type`` says.
- :class:`QueueEngine` is the SQLite engine; :class:`QueueHttpServer` serves it
  (``kiosk queue serve``); :func:`add_cli` registers the ``kiosk queue`` commands.
- :class:`QueueSettings` is the ``[queue]`` config section.

Names are imported on first use (PEP 562). The ``[queue]`` section lives in ``config/queue.py``
(config owns every section schema; kiosk imports config, never the other way).
No Kivy here. Every call may block: run it on a worker thread. See docs/queue.md.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    **{name: "config.queue" for name in (
        "CategorySettings", "OfflineRange", "QueueSettings", "TideLine", "WindowSettings")},
    "HttpQueueService": "client",
    "QueueEngine": "engine",
    "build_queue_service": "factory",
    "queue_settings": "factory",
    "OpeningHours": "hours",
    "OfflineStore": "offline",
    "QueueHttpServer": "server",
    "EmbeddedQueueService": "service",
    "ticket_slip": "slip",
    "QueueService": "service",
    **{name: "errors" for name in (
        "AppointmentCancelled", "AppointmentNotFound", "BadTransition", "CapacityReached",
        "CheckInRefused", "InvalidRequest", "QueueClosed", "QueueError", "QueueUnavailable",
        "TicketNotFound", "TooEarly", "TooLate", "UnknownCategory", "UnknownWindow")},
    **{name: "models" for name in (
        "AppointmentIn", "CategoryStatus", "ImportResult", "Priority", "ReconcileResult",
        "Ticket", "TicketState", "WindowStatus")},
}

__all__ = sorted([*_EXPORTS, "add_cli"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kiosk.queue' has no attribute {name!r}")
    value = getattr(importlib.import_module(module if "." in module else f"kiosk.queue.{module}"),
                    name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


def add_cli(subparsers: Any) -> Any:
    """Register ``kiosk queue ...`` on the ``kiosk`` argparse sub-parsers."""
    from kiosk.queue.cli import add_cli as _add_cli

    return _add_cli(subparsers)

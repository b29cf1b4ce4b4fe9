"""The queue (取号/叫号): engine, hall server and client, appointments, offline numbers.

- :class:`QueueService` is what the kiosk calls; :func:`build_queue_service` returns the
  embedded engine or the hall-server client as ``backends.queue.type`` says.
- :class:`QueueEngine` is the SQLite engine; :class:`QueueHttpServer` serves it
  (``kiosk queue serve``); :func:`add_cli` registers the ``kiosk queue`` commands.
- :class:`QueueSettings` is the ``[queue]`` config section.

No Kivy here. Every call may block: run it on a worker thread. See docs/queue.md.
"""

from typing import Any

from kiosk.queue.client import HttpQueueService
from kiosk.queue.engine import QueueEngine
from kiosk.queue.errors import (
    AppointmentCancelled,
    AppointmentNotFound,
    BadTransition,
    CapacityReached,
    CheckInRefused,
    InvalidRequest,
    QueueClosed,
    QueueError,
    QueueUnavailable,
    TicketNotFound,
    TooEarly,
    TooLate,
    UnknownCategory,
    UnknownWindow,
)
from kiosk.queue.factory import build_queue_service, queue_settings
from kiosk.queue.hours import OpeningHours
from kiosk.queue.models import (
    AppointmentIn,
    CategoryStatus,
    ImportResult,
    Priority,
    ReconcileResult,
    Ticket,
    TicketState,
    WindowStatus,
)
from kiosk.queue.offline import OfflineStore
from kiosk.queue.server import QueueHttpServer
from kiosk.queue.service import EmbeddedQueueService, QueueService
from kiosk.queue.settings import (
    CategorySettings,
    OfflineRange,
    QueueSettings,
    TideLine,
    WindowSettings,
)


def add_cli(subparsers: Any) -> Any:
    """Register ``kiosk queue ...`` on the ``kiosk`` argparse sub-parsers (lazy import)."""
    from kiosk.queue.cli import add_cli as _add_cli

    return _add_cli(subparsers)


__all__ = [
    "AppointmentCancelled", "AppointmentIn", "AppointmentNotFound", "BadTransition",
    "CapacityReached", "CategorySettings", "CategoryStatus", "CheckInRefused",
    "EmbeddedQueueService", "HttpQueueService", "ImportResult", "InvalidRequest",
    "OfflineRange", "OfflineStore", "OpeningHours", "Priority", "QueueClosed", "QueueEngine",
    "QueueError", "QueueHttpServer", "QueueService", "QueueSettings", "QueueUnavailable",
    "ReconcileResult", "Ticket", "TicketNotFound", "TicketState", "TideLine", "TooEarly",
    "TooLate", "UnknownCategory", "UnknownWindow", "WindowSettings", "WindowStatus",
    "add_cli", "build_queue_service", "queue_settings",
]

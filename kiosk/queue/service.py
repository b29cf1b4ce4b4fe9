"""``QueueService``: what the kiosk, the staff CLI and the screens call, whatever is behind it.

Two implementations with the same methods: :class:`EmbeddedQueueService` (the engine in this
process, for a terminal that works alone) and :class:`kiosk.queue.client.HttpQueueService`
(the hall server). :func:`kiosk.queue.factory.build_queue_service` picks one from
``backends.queue.type``. Every method may block (disk or network): call it from a worker
thread (``MainThreadHandoff.run_in_worker``), never from the UI thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

from kiosk.queue.engine import QueueEngine
from kiosk.queue.models import (
    AppointmentIn,
    CategoryStatus,
    ImportResult,
    Priority,
    Ticket,
    WindowStatus,
)


@runtime_checkable
class QueueService(Protocol):
    def categories(self) -> list[CategoryStatus]:
        """All categories in tile order, with people waiting and the wait for a new ticket."""
        ...

    def category(self, code: str) -> CategoryStatus: ...

    def issue_ticket(self, category: str, *, priority: Priority | str = Priority.NORMAL,
                     holder_name: str = "", request_id: str | None = None) -> Ticket:
        """Take a number. ``priority`` NORMAL or GREEN (绿色通道); ``holder_name`` only when
        the resident identified (kept masked). Raises QueueClosed, CapacityReached,
        UnknownCategory, QueueUnavailable."""
        ...

    def check_in(self, *, id_number: str = "", code: str = "",
                 request_id: str | None = None) -> Ticket:
        """Appointment check-in by ID number or scanned booking code. Raises CheckInRefused
        (AppointmentNotFound, TooEarly, TooLate, AppointmentCancelled), QueueClosed."""
        ...

    def ticket(self, ticket_id: str) -> Ticket: ...

    def cancel(self, ticket_id: str) -> Ticket: ...

    def call_next(self, window: str, *, request_id: str | None = None) -> Ticket | None: ...

    def mark_served(self, ticket_id: str) -> Ticket: ...

    def mark_no_show(self, ticket_id: str) -> Ticket: ...

    def windows(self) -> list[WindowStatus]: ...

    def set_window_categories(self, window: str, categories: Sequence[str] | None
                              ) -> WindowStatus: ...

    def recent_calls(self, limit: int = 10) -> list[Ticket]: ...

    def import_appointments(self, items: Iterable[AppointmentIn]) -> ImportResult: ...

    def close(self) -> None: ...


class EmbeddedQueueService:
    """The engine in this process (one terminal on its own, the demo, tests)."""

    def __init__(self, engine: QueueEngine, terminal: str = "") -> None:
        self.engine = engine
        self.terminal = terminal

    def categories(self) -> list[CategoryStatus]:
        return self.engine.categories()

    def category(self, code: str) -> CategoryStatus:
        return self.engine.category(code)

    def issue_ticket(self, category: str, *, priority: Priority | str = Priority.NORMAL,
                     holder_name: str = "", request_id: str | None = None) -> Ticket:
        return self.engine.issue_ticket(category, priority=priority, holder_name=holder_name,
                                        terminal=self.terminal, request_id=request_id)

    def check_in(self, *, id_number: str = "", code: str = "",
                 request_id: str | None = None) -> Ticket:
        return self.engine.check_in(id_number=id_number, code=code, terminal=self.terminal,
                                    request_id=request_id)

    def ticket(self, ticket_id: str) -> Ticket:
        return self.engine.ticket(ticket_id)

    def cancel(self, ticket_id: str) -> Ticket:
        return self.engine.cancel(ticket_id)

    def call_next(self, window: str, *, request_id: str | None = None) -> Ticket | None:
        return self.engine.call_next(window, request_id=request_id)

    def mark_served(self, ticket_id: str) -> Ticket:
        return self.engine.mark_served(ticket_id)

    def mark_no_show(self, ticket_id: str) -> Ticket:
        return self.engine.mark_no_show(ticket_id)

    def windows(self) -> list[WindowStatus]:
        return self.engine.windows()

    def set_window_categories(self, window: str, categories: Sequence[str] | None
                              ) -> WindowStatus:
        return self.engine.set_window_categories(window, categories)

    def recent_calls(self, limit: int = 10) -> list[Ticket]:
        return self.engine.recent_calls(limit)

    def import_appointments(self, items: Iterable[AppointmentIn]) -> ImportResult:
        return self.engine.import_appointments(items)

    def close(self) -> None:
        self.engine.close()

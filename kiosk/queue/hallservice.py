"""The hall server's service layer: the engine, the hall records and the live events, with the
rules of who may do what. Knows nothing of HTTP; :mod:`kiosk.queue.app` is a thin web layer
over it and the CLI may call it directly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from kiosk.queue.engine import QueueEngine
from kiosk.queue.errors import (
    BadTransition,
    Forbidden,
    InvalidRequest,
    QueueError,
    RateLimited,
    TicketNotFound,
    WindowPaused,
)
from kiosk.queue.hall import Call, HallStore, Staff
from kiosk.queue.hub import Hub
from kiosk.queue.models import Ticket, TicketState, WindowStatus
from kiosk.speech import call_phrase, synthesize

log = logging.getLogger(__name__)


def _key_next_to_db(key: Path, db_path: Path) -> bool:
    return key.expanduser().resolve().parent == db_path.expanduser().resolve().parent


def check_key_location(key_path: Path, db_path: Path) -> None:
    """Refuse an ID-number key in the database's folder (a copied folder would carry both),
    or readable by others. Raises ``ValueError`` with the fix."""
    if _key_next_to_db(key_path, db_path):
        raise ValueError(f"the ID-number key {key_path} is in the database folder "
                         f"{db_path.parent}: a copy of that folder would carry both. Set "
                         "queue.key_file (or --key-file) to a path outside it, e.g. "
                         "/etc/aishandong-queue/id.key")
    if key_path.exists() and key_path.stat().st_mode & 0o077:
        raise ValueError(f"the ID-number key {key_path} is readable by others: chmod 600 it")


class HallService:
    """Everything the hall server does, for a caller that has already been identified."""

    def __init__(self, engine: QueueEngine, hall: HallStore, *, speech_dir: Path,
                 hub: Hub | None = None, clock: Callable[[], float] = time.monotonic,
                 fleet: Callable[..., bool] | None = None, hall_id: str = "hall") -> None:
        self.engine = engine
        self.hall = hall
        self.hub = hub or Hub()
        self.speech_dir = speech_dir
        self.settings = engine.settings
        self._clock = clock
        self.fleet = fleet  # Reporter.record_event: the durable outbox to the fleet
        self.hall_id = hall_id
        self._reported_day = ""
        self._checkins: dict[str, deque[float]] = {}
        self._rate_lock = threading.Lock()

    # -- events ----------------------------------------------------------------------------------
    def _changed(self, reason: str) -> None:
        self.hub.publish({"type": "queue", "reason": reason})

    def call_view(self, call: Call) -> dict[str, Any]:
        window = self.settings.window_map.get(call.window)
        return {"seq": call.seq, "number": call.number, "window": call.window,
                "window_name": window.name if window else call.window,
                "area": window.area if window else "", "kind": call.kind,
                "phrase": call.phrase, "at": call.at.isoformat(),
                "audio": f"/display/audio/{call.seq}.wav"}

    def _announce(self, ticket: Ticket, window: str, kind: str) -> None:
        phrase = call_phrase(ticket.number, window)
        call = self.hall.log_call(ticket.id, ticket.number, window, kind, phrase)
        self.hub.publish({"type": "call", **self.call_view(call)})
        self._changed(kind)
        threading.Thread(target=self._warm, args=(phrase,), daemon=True,
                         name="speech-warm").start()

    def _warm(self, phrase: str) -> None:
        try:
            synthesize(phrase, cache_dir=self.speech_dir)
        except Exception as exc:  # the display asks again and gets the error then
            log.warning("could not prepare the announcement audio: %s", exc)

    def audio(self, seq: int) -> Path:
        return synthesize(self.hall.call(seq).phrase, cache_dir=self.speech_dir)

    # -- kiosks ----------------------------------------------------------------------------------
    def issue(self, terminal: str, category: str, priority: str, holder_name: str,
              request_id: str | None) -> Ticket:
        ticket = self.engine.issue_ticket(category, priority=priority, holder_name=holder_name,
                                          terminal=terminal, request_id=request_id)
        self._changed("issued")
        return ticket

    def check_in(self, terminal: str, id_number: str, code: str,
                 request_id: str | None) -> Ticket:
        self._rate(terminal)
        try:
            ticket = self.engine.check_in(id_number=id_number, code=code, terminal=terminal,
                                          request_id=request_id)
        except QueueError as exc:
            exc.details.pop("ref", None)  # the kiosk shows the booked time, not the booking
            raise
        self._changed("checked_in")
        return ticket

    def _rate(self, terminal: str) -> None:
        now = self._clock()
        limit = self.settings.checkin_per_min
        with self._rate_lock:
            recent = self._checkins.setdefault(terminal, deque())
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if len(recent) >= limit:
                retry = max(1, int(recent[0] + 60 - now) + 1)
                raise RateLimited(f"签到过于频繁，请{retry}秒后再试", retry_after_s=retry,
                                  limit_per_min=limit)
            recent.append(now)

    def cancel(self, terminal: str, ticket_id: str) -> Ticket:
        ticket = self.engine.ticket(ticket_id)
        if ticket.terminal and ticket.terminal != terminal:
            raise Forbidden("这张号票由另一台终端发出", ticket=ticket_id)
        ticket = self.engine.cancel(ticket_id)
        self._changed("cancelled")
        return ticket

    def accept_offline(self, terminal: str, sender: str, tickets: list[dict[str, Any]]) -> Any:
        if terminal != sender:
            raise Forbidden("一台终端只能交回自己的备用号", terminal=terminal)
        result = self.engine.accept_offline(terminal, tickets)
        self._changed("offline")
        return result

    def request_help(self, sender: str, terminal: str, place: str, reason: str,
                     request_id: str) -> Any:
        if terminal != sender:
            raise Forbidden("帮办请求的终端号与凭证不符", terminal=terminal)
        request, new = self.hall.request_help(terminal, place, reason, request_id)
        if new:
            self.hub.publish({"type": "help", "id": request.id, "state": request.state})
        return request

    def help_status(self, sender: str, help_id: str) -> Any:
        request = self.hall.help(help_id)
        if request.terminal != sender:
            raise Forbidden("这个帮办请求属于另一台终端", help=help_id)
        return request

    # -- staff -----------------------------------------------------------------------------------
    def _may(self, staff: Staff, window: str) -> str:
        window = str(window)
        if window not in self.settings.window_map:  # unknown window: 404 before 403
            raise TicketNotFound(f"没有窗口 {window!r}", window=window,
                                 allowed=sorted(self.settings.window_map))
        if not staff.may_serve(window):
            raise Forbidden(f"您没有{window}号窗口的权限", window=window,
                            allowed=list(staff.windows))
        return window

    def _ticket_window(self, staff: Staff, ticket_id: str) -> Ticket:
        ticket = self.engine.ticket(ticket_id)
        if ticket.window:  # not called yet: the engine refuses the move itself
            self._may(staff, ticket.window)
        return ticket

    def category(self, code: str) -> Any:
        if code not in self.settings.category_map:
            raise TicketNotFound(f"没有业务类别 {code!r}", category=code,
                                 allowed=sorted(self.settings.category_map))
        return self.engine.category(code)

    def windows(self) -> list[WindowStatus]:
        return self.engine.windows()

    def call_next(self, staff: Staff, window: str, request_id: str | None) -> Ticket | None:
        window = self._may(staff, window)
        if window in self.hall.paused():
            raise WindowPaused(f"{window}号窗口已暂停，请先恢复", window=window)
        ticket = self.engine.call_next(window, request_id=request_id)
        if ticket is not None and ticket.called_at is not None:
            fresh = not self.hall.calls(limit=1) or self.hall.calls(limit=1)[0].ticket_id \
                != ticket.id
            if fresh:
                self._announce(ticket, window, "call")
        else:
            self._changed("call_next")
        return ticket

    def recall(self, staff: Staff, window: str) -> Ticket:
        window = self._may(staff, window)
        current = next((w.current for w in self.engine.windows() if w.id == window), None)
        if current is None:
            raise BadTransition(f"{window}号窗口现在没有叫号", window=window)
        self._announce(current, window, "recall")
        return current

    def served(self, staff: Staff, ticket_id: str) -> Ticket:
        self._ticket_window(staff, ticket_id)
        ticket = self.engine.mark_served(ticket_id)
        self._changed("served")
        return ticket

    def no_show(self, staff: Staff, ticket_id: str) -> Ticket:
        ticket = self._ticket_window(staff, ticket_id)
        need = self.settings.no_show_after_recalls
        if ticket.state is TicketState.CALLED and self.hall.recalls(ticket_id) < need:
            raise BadTransition(f"请先重呼{need}次再标记过号", ticket=ticket_id,
                                recalls=self.hall.recalls(ticket_id), needed=need)
        ticket = self.engine.mark_no_show(ticket_id)
        self._changed("no_show")
        return ticket

    def transfer(self, staff: Staff, ticket_id: str, category: str | None,
                 window: str | None) -> Ticket:
        """Another category's queue (place kept by issue time) or another window (its next
        call); staff of the ticket's current window only."""
        self._ticket_window(staff, ticket_id)
        if window is not None and window not in self.settings.window_map:
            raise InvalidRequest(f"没有窗口 {window!r}", field="window",
                                 allowed=sorted(self.settings.window_map))
        ticket = self.engine.transfer(ticket_id, category=category, window=window)
        self._changed("transfer")
        return ticket

    def park(self, staff: Staff, ticket_id: str) -> Ticket:
        self._ticket_window(staff, ticket_id)
        ticket = self.engine.park(ticket_id)
        self._changed("park")
        return ticket

    def resume(self, staff: Staff, ticket_id: str) -> Ticket:
        before = self._ticket_window(staff, ticket_id)
        ticket = self.engine.resume(ticket_id)
        if before.state is TicketState.PARKED:
            self._announce(ticket, ticket.window, "call")
        return ticket

    def parked(self, staff: Staff, window: str) -> list[Ticket]:
        return self.engine.parked(self._may(staff, window))

    def set_categories(self, staff: Staff, window: str, codes: list[str] | None
                       ) -> WindowStatus:
        window = self._may(staff, window)
        status = self.engine.set_window_categories(window, codes)
        self._changed("tide")
        return status

    def pause(self, staff: Staff, window: str, paused: bool) -> bool:
        window = self._may(staff, window)
        self.hall.set_paused(window, paused)
        self._changed("pause")
        return paused

    def next_tickets(self, staff: Staff, window: str, limit: int = 5) -> list[Ticket]:
        """The next tickets this window would call, in order."""
        window = self._may(staff, window)
        codes = next(w.categories for w in self.engine.windows() if w.id == window)
        return self.engine.waiting(codes, limit, window)

    def help_action(self, staff: Staff, help_id: str, action: str) -> Any:
        request = self.hall.help_action(help_id, action, staff.name)
        self.hub.publish({"type": "help", "id": request.id, "state": request.state})
        return request

    def import_appointments(self, staff: Staff, items: list[Any]) -> Any:
        if not staff.admin:
            raise Forbidden("导入预约需要管理员权限")
        return self.engine.import_appointments(items)

    def require_admin(self, staff: Staff) -> None:
        if not staff.admin:
            raise Forbidden("需要管理员权限")

    def purge(self) -> dict[str, int]:
        counts = self.hall.purge(self.settings.retention_days)
        if any(counts.values()):
            log.info("retention purge (%d days): %s", self.settings.retention_days, counts)
        return counts

    def report_day(self, day: str) -> bool:
        """Hand the day's counts to the fleet (``queue_daily`` event); False without one."""
        if self.fleet is None:
            return False
        from kiosk.queue.fleet import daily_counts, record_id

        return bool(self.fleet("queue_daily", daily_counts(self.hall, day),
                               record_id=record_id(self.hall_id, day)))

    def report_yesterday(self) -> None:
        """Once per day (the server's hourly task): yesterday's counts to the fleet."""
        yesterday = (self.engine.now().date() - timedelta(days=1)).isoformat()
        if self.fleet is not None and yesterday != self._reported_day:
            self.report_day(yesterday)
            self._reported_day = yesterday

    def validate_limit(self, limit: int, high: int = 100) -> int:
        if not 1 <= limit <= high:
            raise InvalidRequest(f"limit must be 1 to {high}", field="limit")
        return limit

"""``HttpQueueService``: the kiosk's client of the hall server (``backends.queue.type = "http"``).

- One keep-alive connection per thread; every request has the time-out ``timeout_s``.
- Failed requests (connection refused or dropped, time-out, 5xx) are retried ``retries`` times
  with doubling pauses. Every request that changes something carries a ``request_id``, so a
  retry after a lost answer never issues a second ticket or calls a second resident.
- When the server stays unreachable the error is :class:`QueueUnavailable` with a message for
  the resident. With an :class:`OfflineStore`, ``issue_ticket`` instead gives a number from the
  terminal's reserved range, ``categories`` answers from the settings (``online=False``), and
  for ``probe_s`` seconds further tickets go straight to the local range (no time-out per
  tap). A background thread hands the offline tickets to the server once it answers again.
- ID numbers are never sent in clear text over the network: plain ``http://`` is accepted only
  for a loopback server when a request carries one.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from config.checks import is_loopback_host
from drivers.privacy import mask_name
from kiosk.queue import windows as tide
from kiosk.queue.errors import (
    InvalidRequest,
    QueueClosed,
    QueueError,
    QueueUnavailable,
    error_from_dict,
)
from kiosk.queue.hours import OpeningHours, describe
from kiosk.queue.models import (
    AppointmentIn,
    CategoryStatus,
    ImportResult,
    Priority,
    ReconcileResult,
    Ticket,
    WindowStatus,
)
from kiosk.queue.offline import OfflineStore
from kiosk.queue.settings import QueueSettings

log = logging.getLogger(__name__)

def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


UNREACHABLE = "排队系统暂时无法连接，请稍后再试或联系工作人员"
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
          http.client.CannotSendRequest)


class HttpQueueService:
    """The hall server behind the :class:`~kiosk.queue.service.QueueService` methods."""

    def __init__(self, url: str, *, timeout_s: float = 5.0, retries: int = 2,
                 backoff_s: float = 0.2, max_backoff_s: float = 2.0, terminal: str = "",
                 settings: QueueSettings | None = None, hours: OpeningHours | None = None,
                 offline: OfflineStore | None = None, probe_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic, api_key: str = "") -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"queue server URL {url!r}: use http://host:port or https://host")
        if offline is not None and (settings is None or hours is None):
            raise ValueError("offline tickets need the queue settings and the opening hours")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        base = parts.path.rstrip("/")
        self._base = base if base.endswith("/api/v1") else base + "/api/v1"
        self._api_key = api_key.strip()
        self._session: tuple[str, str] | None = None
        self._clear_ok = self._https or is_loopback_host(self._host)
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.terminal = terminal
        self.settings = settings
        self.hours = hours
        self.offline = offline
        self.probe_s = probe_s
        self._clock = clock
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: set[http.client.HTTPConnection] = set()
        self._down_until = 0.0
        self._stop = threading.Event()
        self._sync_thread: threading.Thread | None = None
        if offline is not None and offline.pending_count():
            self._start_sync()

    # -- transport -------------------------------------------------------------------------------
    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, False
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=self.timeout_s)
        self._local.conn = conn
        with self._lock:
            self._connections.add(conn)
        return conn, True

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            conn.close()
            with self._lock:
                self._connections.discard(conn)

    def request(self, method: str, path: str, body: Any = None,
                query: dict[str, Any] | None = None, *, retries: int | None = None) -> Any:
        """One API call with retries; the decoded JSON answer, or the server's error raised."""
        if self._stop.is_set():
            raise QueueUnavailable(UNREACHABLE, reason="client closed")
        target = self._base + path + (f"?{urlencode(query)}" if query else "")
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["X-Api-Key"] = self._api_key
        if self._session:
            headers["Cookie"] = f"kq_session={self._session[0]}"
            headers["X-CSRF-Token"] = self._session[1]
        if payload is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        retries = self.retries if retries is None else retries
        problem = "no attempt"
        server_error: QueueError | None = None  # a 5xx answer: the server is there but broken
        attempt = 0
        while attempt <= retries:
            if attempt:
                time.sleep(min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)))
            conn, fresh = self._connection()
            try:
                conn.request(method, target, body=payload, headers=headers)
                response = conn.getresponse()
                raw = response.read()
            except _STALE as exc:
                self._drop()
                if not fresh:  # the server closed an idle keep-alive connection: free retry
                    continue
                problem = f"{type(exc).__name__}: {exc}"
                attempt += 1
                continue
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                problem = f"{type(exc).__name__}: {exc}"
                attempt += 1
                continue
            if response.will_close:
                self._drop()
            cookie = response.getheader("Set-Cookie") or ""
            if cookie.startswith("kq_session=") and isinstance(data := _json(raw), dict):
                self._session = (cookie.split(";", 1)[0].split("=", 1)[1], str(data.get("csrf")))
            try:
                data = json.loads(raw) if raw else None
            except ValueError:
                data = None
            if 200 <= response.status < 300:
                return data
            error = data.get("error") if isinstance(data, dict) else None
            if response.status >= 500:
                server_error = error_from_dict(error) if isinstance(error, dict) else None
                problem = f"HTTP {response.status}"
                attempt += 1
                continue
            if isinstance(error, dict):
                raise error_from_dict(error)
            raise QueueError(f"排队系统返回了错误（HTTP {response.status}）",
                             status=response.status)
        log.warning("queue server %s unreachable after %d attempts: %s", self._host,
                    retries + 1, problem)
        if server_error is not None:
            problem = f"{problem}: {server_error.message}"
        raise QueueUnavailable(UNREACHABLE, reason=problem)

    def _no_clear_ids(self) -> None:
        if not self._clear_ok:
            raise InvalidRequest("refusing to send ID numbers over plain http:// to "
                                 f"{self._host}: use an https:// URL for backends.queue.url",
                                 field="url")

    # -- offline ---------------------------------------------------------------------------------
    @property
    def offline_now(self) -> bool:
        """True while recent failures send tickets straight to the local range."""
        return self.offline is not None and self._clock() < self._down_until

    def _went_down(self) -> None:
        self._down_until = self._clock() + self.probe_s

    def _start_sync(self) -> None:
        """Start the hand-over thread unless it runs; it ends itself when nothing is left."""
        with self._lock:
            if self._stop.is_set() or self._sync_thread is not None:
                return
            self._sync_thread = threading.Thread(target=self._sync_loop, daemon=True,
                                                 name="queue-offline-sync")
            self._sync_thread.start()

    def _sync_loop(self) -> None:
        assert self.offline is not None
        while not self._stop.wait(self.probe_s):
            try:
                self.sync_offline()
            except QueueError as exc:
                log.info("offline tickets not handed over yet: %s", exc.message)
                continue
            except Exception:
                log.exception("handing over offline tickets failed")
                continue
            with self._lock:  # a ticket issued meanwhile finds the thread still registered
                if not self.offline.pending_count():
                    self._sync_thread = None
                    return

    def sync_offline(self) -> ReconcileResult:
        """Hand every pending offline ticket to the server (batches of 500); what it did."""
        if self.offline is None:
            return ReconcileResult()
        accepted: list[str] = []
        duplicates: list[str] = []
        rejected: list[tuple[str, str]] = []
        while True:
            batch = self.offline.pending()
            if not batch:
                break
            data = self.request("POST", "/offline/tickets",
                                {"terminal": self.terminal, "tickets": batch}, retries=0)
            result = ReconcileResult.from_dict(data)
            self.offline.mark_synced([*result.accepted, *result.duplicates])
            self.offline.mark_rejected(list(result.rejected))
            accepted += result.accepted
            duplicates += result.duplicates
            rejected += result.rejected
            handled = len(result.accepted) + len(result.duplicates) + len(result.rejected)
            if handled < len(batch):  # the server ignored some: try again later
                break
        self._down_until = 0.0
        if rejected:
            log.error("the queue server refused %d offline tickets: %s", len(rejected), rejected)
        if accepted:
            log.info("%d offline tickets handed to the queue server", len(accepted))
        return ReconcileResult(accepted=tuple(accepted), duplicates=tuple(duplicates),
                               rejected=tuple(rejected))

    def _local_categories(self) -> list[CategoryStatus]:
        assert self.settings is not None and self.hours is not None
        now = datetime.now(self.hours.tz)
        mapping = tide.assignments(self.settings, now)
        is_open = self.hours.is_open(now)
        result = []
        for cat in self.settings.categories:
            names, area = tide.where(cat.code, self.settings, mapping)
            result.append(CategoryStatus(
                code=cat.code, name=cat.name, waiting=None, estimated_wait_min=None,
                windows=names, area=area, capacity_left=None, open=is_open,
                next_open=None if is_open else self.hours.next_open(now), online=False))
        return result

    def _issue_offline(self, category: str, priority: Priority, holder_name: str,
                       request_id: str) -> Ticket:
        assert self.offline is not None and self.hours is not None
        now = datetime.now(self.hours.tz)
        if not self.hours.is_open(now):
            nxt = self.hours.next_open(now)
            when = f"，下次取号时间：{describe(nxt, now)}" if nxt else ""
            raise QueueClosed(f"现在不在取号时间{when}", next_open=nxt.isoformat() if nxt else None)
        ticket = self.offline.issue(category, priority, holder_name, request_id)
        self._start_sync()
        return ticket

    # -- the QueueService methods ----------------------------------------------------------------
    def categories(self) -> list[CategoryStatus]:
        if self.offline_now:
            return self._local_categories()
        try:
            return [CategoryStatus.from_dict(c) for c in self.request("GET", "/categories")]
        except QueueUnavailable:
            if self.offline is None:
                raise
            self._went_down()
            return self._local_categories()

    def category(self, code: str) -> CategoryStatus:
        return CategoryStatus.from_dict(self.request("GET", f"/categories/{quote(code, safe='')}"))

    def issue_ticket(self, category: str, *, priority: Priority | str = Priority.NORMAL,
                     holder_name: str = "", request_id: str | None = None) -> Ticket:
        try:
            prio = Priority.parse(priority)
        except ValueError as exc:
            raise InvalidRequest(str(exc), field="priority") from None
        request_id = request_id or uuid.uuid4().hex
        if self.offline_now:
            return self._issue_offline(category, prio, holder_name, request_id)
        body = {"category": category, "priority": prio.word, "holder_name": mask_name(holder_name),
                "terminal": self.terminal, "request_id": request_id}
        try:
            return Ticket.from_dict(self.request("POST", "/tickets", body))
        except QueueUnavailable:
            if self.offline is None:
                raise
            self._went_down()
            return self._issue_offline(category, prio, holder_name, request_id)

    def check_in(self, *, id_number: str = "", code: str = "",
                 request_id: str | None = None) -> Ticket:
        if id_number:
            self._no_clear_ids()
        body = {"terminal": self.terminal, "request_id": request_id or uuid.uuid4().hex}
        body.update({k: v for k, v in (("id_number", id_number), ("code", code)) if v})
        return Ticket.from_dict(self.request("POST", "/checkin", body))

    def ticket(self, ticket_id: str) -> Ticket:
        return Ticket.from_dict(self.request("GET", f"/tickets/{quote(ticket_id, safe='')}"))

    def _ticket_action(self, ticket_id: str, action: str) -> Ticket:
        return Ticket.from_dict(self.request("POST",
                                             f"/tickets/{quote(ticket_id, safe='')}/{action}", {}))

    def cancel(self, ticket_id: str) -> Ticket:
        return self._ticket_action(ticket_id, "cancel")

    def mark_served(self, ticket_id: str) -> Ticket:
        return self._ticket_action(ticket_id, "served")

    def mark_no_show(self, ticket_id: str) -> Ticket:
        return self._ticket_action(ticket_id, "no-show")

    def call_next(self, window: str, *, request_id: str | None = None) -> Ticket | None:
        data = self.request("POST", f"/windows/{quote(window, safe='')}/call-next",
                            {"request_id": request_id or uuid.uuid4().hex})
        return Ticket.from_dict(data["ticket"]) if data.get("ticket") else None

    def windows(self) -> list[WindowStatus]:
        return [WindowStatus.from_dict(w) for w in self.request("GET", "/windows")]

    def set_window_categories(self, window: str, categories: Sequence[str] | None
                              ) -> WindowStatus:
        body = {"categories": None if categories is None else list(categories)}
        return WindowStatus.from_dict(
            self.request("PUT", f"/windows/{quote(window, safe='')}/categories", body))

    def recent_calls(self, limit: int = 10) -> list[Ticket]:
        calls = self.request("GET", "/calls", query={"limit": limit})
        return [self.ticket(c["ticket_id"]) for c in calls if c.get("ticket_id")]

    def import_appointments(self, items: Iterable[AppointmentIn]) -> ImportResult:
        items = list(items)
        if any(item.id_number for item in items):
            self._no_clear_ids()
        body = {"appointments": [item.to_dict() for item in items]}
        return ImportResult.from_dict(self.request("POST", "/appointments", body))

    def login(self, name: str, password: str) -> dict[str, Any]:
        """Staff session for window commands (staff CLI); later requests carry its cookie and
        CSRF token."""
        return self.request("POST", "/session", {"name": name, "password": password},  # type: ignore[no-any-return]
                            retries=0)

    # -- help requests (帮办, issue #15) ----------------------------------------------------
    def request_help(self, place: str, reason: str = "", *, request_id: str | None = None
                     ) -> dict[str, Any]:
        """Ask the hall's staff to come to this kiosk. Returns ``{"id", "state": "pending",
        "created_at", ...}``; retries are safe (the same ``request_id`` gives the same request,
        one is made up when none is given)."""
        body = {"terminal": self.terminal, "place": place, "reason": reason,
                "request_id": request_id or uuid.uuid4().hex}
        return self.request("POST", "/help", body)  # type: ignore[no-any-return]

    def help_status(self, help_id: str) -> dict[str, Any]:
        """``state`` is ``pending``, ``acknowledged`` (with ``by`` and ``at``) or ``done``."""
        return self.request("GET", f"/help/{quote(help_id, safe='')}")  # type: ignore[no-any-return]

    def health(self) -> dict[str, Any]:
        return self.request("GET", "/health", retries=0)

    def close(self) -> None:
        self._stop.set()
        thread = self._sync_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.timeout_s * 2 + 1)
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            conn.close()
        if self.offline is not None:
            self.offline.close()

"""帮办 that reaches a person.

A call goes out on the first channel that **accepts** it:

1. :class:`HallHelpChannel`: the hall queue server (``POST /api/v1/help`` through the queue
   client's ``request_help``; staff see it on their page with terminal and place, acknowledge
   it, mark it done; the terminal polls ``help_status``);
2. :class:`FleetHelpChannel`: a ``help`` event to the fleet over MQTT, accepted only once the
   broker acknowledged it (PUBACK: the record left the outbox); the fleet raises an alarm when
   nobody acknowledges within ``help.unanswered_alarm_s`` (docs/mqtt.md).

The screen says "已通知工作人员" only in :attr:`HelpState.ACCEPTED`, "工作人员正在赶来" in
:attr:`HelpState.ACKNOWLEDGED`; :attr:`HelpState.UNREACHABLE` means no channel accepted it and
the screen offers the hall's phone number, the nearest window and a printed help slip.
Every network call runs on a worker; updates reach the UI through the handoff.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

log = logging.getLogger(__name__)


class HelpUnreachable(Exception):
    """The channel could not deliver the call (no server, network down, refused)."""


class HelpState(enum.Enum):
    CALLING = "calling"  # trying the channels
    ACCEPTED = "accepted"  # a server took the call: 已通知工作人员
    ACKNOWLEDGED = "acknowledged"  # a member of staff is coming: 工作人员正在赶来
    DONE = "done"  # staff marked it done
    UNREACHABLE = "unreachable"  # nothing could be reached: say so, offer what works


@dataclass(frozen=True)
class HelpCall:
    request_id: str
    state: HelpState = HelpState.CALLING
    channel: str = ""  # "hall" | "fleet" | ""
    server_id: str = ""  # the id the server gave the call
    by: str = ""  # who acknowledged (staff display name, not personal data of the resident)
    tried: tuple[str, ...] = ()  # channels that failed, with a short reason (logs, screen)


class HelpChannel(Protocol):
    name: str
    #: whether :meth:`status` can report an acknowledgement
    polls: bool

    def request(self, call: HelpCall, place: str, reason: str) -> str:
        """Deliver the call; return the server's id; raise :class:`HelpUnreachable`."""
        ...

    def status(self, server_id: str) -> tuple[HelpState, str]:
        """(state, acknowledged by) of a delivered call; raise :class:`HelpUnreachable`."""
        ...


class HallHelpChannel:
    """The hall queue server through the kiosk's queue client (``HttpQueueService``)."""

    name = "hall"
    polls = True

    def __init__(self, client: Any) -> None:
        self.client = client

    def request(self, call: HelpCall, place: str, reason: str) -> str:
        try:
            answer = self.client.request_help(place, reason, request_id=call.request_id)
            return str(answer["id"])
        except Exception as exc:  # the client's errors: network, HTTP, validation
            raise HelpUnreachable(f"hall server: {type(exc).__name__}: {exc}"[:200]) from exc

    def status(self, server_id: str) -> tuple[HelpState, str]:
        try:
            answer = self.client.help_status(server_id)
        except Exception as exc:
            raise HelpUnreachable(f"hall server: {type(exc).__name__}"[:200]) from exc
        state = {"pending": HelpState.ACCEPTED, "acknowledged": HelpState.ACKNOWLEDGED,
                 "done": HelpState.DONE}.get(str(answer.get("state")), HelpState.ACCEPTED)
        return state, str(answer.get("by") or "")


class FleetHelpChannel:
    """A ``help`` event over MQTT; accepted when the broker acknowledged it."""

    name = "fleet"
    polls = False

    def __init__(self, reporter: Any, terminal: str, unanswered_alarm_s: int,
                 accept_timeout_s: float = 5.0) -> None:
        self.reporter = reporter
        self.terminal = terminal
        self.unanswered_alarm_s = unanswered_alarm_s
        self.accept_timeout_s = accept_timeout_s

    def request(self, call: HelpCall, place: str, reason: str) -> str:
        reporter = self.reporter
        if reporter is None or not getattr(reporter, "mqtt_config", None) \
                or not reporter.mqtt_config.enabled:
            raise HelpUnreachable("fleet: MQTT is off on this terminal")
        if not reporter.connected:
            raise HelpUnreachable("fleet: not connected to the broker")
        record_id = f"help-{call.request_id}"
        stored = reporter.record_event("help", {
            "help_id": call.request_id, "state": "requested", "place": place,
            "reason": reason, "unanswered_alarm_s": self.unanswered_alarm_s},
            record_id=record_id)
        if not stored:
            raise HelpUnreachable("fleet: the outbox is full")
        deadline = time.monotonic() + self.accept_timeout_s
        while time.monotonic() < deadline:
            if not any(r.id == record_id for r in reporter.outbox.peek(limit=1000)):
                return call.request_id  # PUBACK: the broker has it
            time.sleep(0.05)
        raise HelpUnreachable("fleet: the broker did not acknowledge the call in time")

    def status(self, server_id: str) -> tuple[HelpState, str]:
        return HelpState.ACCEPTED, ""


class HelpService:
    """One call at a time; ``on_update(call)`` is posted to the UI thread on every change."""

    def __init__(self, channels: list[HelpChannel], place: str, poll_s: float,
                 run_in_worker: Callable[..., Any], post: Callable[[Callable[[], None]], None]
                 ) -> None:
        self.channels = channels
        self.place = place
        self.poll_s = poll_s
        self._run_in_worker = run_in_worker
        self._post = post
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self.call: HelpCall | None = None

    def start(self, reason: str, on_update: Callable[[HelpCall], None]) -> HelpCall:
        """Place a call (returns at once; the outcome comes through ``on_update``)."""
        self.cancel()
        self._stop = threading.Event()
        call = HelpCall(uuid.uuid4().hex)
        self.call = call
        self._run_in_worker(self._deliver, call, reason, self._stop, on_update)
        return call

    def cancel(self, wait: bool = False) -> None:
        """Stop following the call (the resident left the screen; staff still see it).

        Returns at once: called on the UI thread, it must not wait for a status request in
        flight (the poller sees ``stop`` and ends; nothing it learns is posted any more).
        ``wait`` joins the poller, for shutdown."""
        self._stop.set()
        poller = self._poller
        if wait and poller is not None and poller is not threading.current_thread():
            poller.join(timeout=5)
        self._poller = None
        self.call = None

    def _publish(self, call: HelpCall, stop: threading.Event,
                 on_update: Callable[[HelpCall], None]) -> None:
        def deliver() -> None:
            if not stop.is_set():
                self.call = call
                on_update(call)

        self._post(deliver)

    def _deliver(self, call: HelpCall, reason: str, stop: threading.Event,
                 on_update: Callable[[HelpCall], None]) -> None:
        tried: list[str] = []
        for channel in self.channels:
            if stop.is_set():
                return
            try:
                server_id = channel.request(call, self.place, reason)
            except HelpUnreachable as exc:
                log.warning("help call not delivered: %s", exc)
                tried.append(channel.name)
                continue
            log.info("help call %s accepted by the %s channel", call.request_id[:8],
                     channel.name)
            call = replace(call, state=HelpState.ACCEPTED, channel=channel.name,
                           server_id=server_id, tried=tuple(tried))
            self._publish(call, stop, on_update)
            if channel.polls and not stop.is_set():
                poller = threading.Thread(target=self._follow, name="help-poll", daemon=True,
                                          args=(channel, call, stop, on_update))
                poller.start()
                self._poller = poller  # started first: cancel(wait=True) may join it at once
            return
        log.warning("help call reached nobody (tried: %s)", ", ".join(tried) or "no channel")
        self._publish(replace(call, state=HelpState.UNREACHABLE, tried=tuple(tried)), stop,
                      on_update)

    def _follow(self, channel: HelpChannel, call: HelpCall, stop: threading.Event,
                on_update: Callable[[HelpCall], None]) -> None:
        """Poll (own thread) until done, or the resident leaves (``stop``)."""
        while not stop.wait(self.poll_s):
            try:
                state, by = channel.status(call.server_id)
            except HelpUnreachable as exc:
                log.info("help status not available now: %s", exc)
                continue
            if state is not call.state:
                call = replace(call, state=state, by=by)
                self._publish(call, stop, on_update)
            if state is HelpState.DONE:
                return

"""The resident session as a plain-Python state machine (no Kivy; unit-tested without a window).

Phases::

    ATTRACT --start--> HOME --open_flow--> FLOW --complete--> RATING --rate/skip/timeout--> END
       ^                 ^  <----back-----                                                   |
       |                 '-----------------------(rating service off)------------------------'
       '-------------------------------- finish (after the thank-you page) -------------------'

    any session phase --idle: "need more time?" + countdown--> end_session("idle") --> ATTRACT
    ATTRACT/END --required device unavailable--> OUT_OF_SERVICE --devices back--> ATTRACT
    any --PIN accepted--> MAINTENANCE --exit--> ATTRACT (or OUT_OF_SERVICE)

Every way out of a session goes through :meth:`SessionMachine.end_session`, which wipes the
session's personal data, replaces the :class:`Session` object and tells listeners
(:class:`SessionEnded`) so that screens clear their widgets.

The machine is driven by :meth:`SessionMachine.tick` (the UI calls it a few times a second)
and by user actions; time comes from an injectable monotonic clock.
"""

from __future__ import annotations

import enum
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.identity.person import Identity

log = logging.getLogger(__name__)


class Phase(enum.StrEnum):
    ATTRACT = "attract"
    HOME = "home"
    FLOW = "flow"
    RATING = "rating"
    END = "end"
    OUT_OF_SERVICE = "out_of_service"
    MAINTENANCE = "maintenance"


SESSION_PHASES = frozenset({Phase.HOME, Phase.FLOW, Phase.RATING, Phase.END})


class TransitionError(RuntimeError):
    """An action that is not allowed in the current phase (a programming error)."""


# -- events ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionEvent:
    at: float


@dataclass(frozen=True)
class PhaseChanged(SessionEvent):
    old: Phase
    new: Phase
    flow: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class IdlePromptShown(SessionEvent):
    seconds_left: int


@dataclass(frozen=True)
class IdleCountdown(SessionEvent):
    seconds_left: int


@dataclass(frozen=True)
class IdlePromptDismissed(SessionEvent):
    pass


@dataclass(frozen=True)
class IdentityChanged(SessionEvent):
    """The session gained or lost an identity (never carries the identity itself)."""

    identified: bool
    source: str = ""


@dataclass(frozen=True)
class SessionEnded(SessionEvent):
    session_id: str
    reason: str  # "completed" | "idle" | "user" | "maintenance" | "out_of_service" | ...
    duration_s: float
    flows: tuple[str, ...]


@dataclass(frozen=True)
class RatingTimedOut(SessionEvent):
    """The rating prompt expired: recorded as "not rated", never as a default level."""

    item: str


Listener = Callable[[SessionEvent], None]


@dataclass(eq=False)
class Session:
    """One resident's visit. Everything personal hangs off this object and nothing else."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started_at: float = 0.0
    identity: Identity | None = None
    #: flow-specific personal values (codes, phone numbers…); cleared with the session
    personal: dict[str, Any] = field(default_factory=dict)
    #: personal-data-free breadcrumbs: flows visited, for telemetry
    flows: list[str] = field(default_factory=list)
    completed_item: str = ""
    #: the 办件编号 of what was done (ticket number, document number), for the rating
    handling_number: str = ""
    #: when the handling number was first rated (set by the 评价 flow: a supplementary one)
    first_rated_at: Any = None

    def wipe(self) -> None:
        if self.identity is not None:
            self.identity.wipe()
        self.identity = None
        for value in self.personal.values():
            if isinstance(value, bytearray):
                value[:] = bytes(len(value))
        self.personal.clear()
        self.handling_number = ""
        self.first_rated_at = None

    def __repr__(self) -> str:
        return (f"Session(id={self.id!r}, identified={self.identity is not None}, "
                f"flows={self.flows!r})")


@dataclass(frozen=True)
class IdlePolicy:
    idle_timeout_s: float = 60.0  # no touch for this long → "need more time?"
    prompt_s: float = 20.0  # countdown on the prompt before the session ends
    rating_timeout_s: float = 30.0  # the rating prompt waits this long, then "not rated"
    thanks_s: float = 5.0  # the thank-you page, then back to attract


class SessionMachine:
    def __init__(self, policy: IdlePolicy | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 rating_enabled: bool = True) -> None:
        self.policy = policy or IdlePolicy()
        self._clock = clock
        self.rating_enabled = rating_enabled
        self.phase = Phase.ATTRACT
        self.flow: str | None = None
        self.session = Session()
        self._listeners: list[Listener] = []
        self._last_activity = clock()
        self._phase_since = clock()
        self._prompt_deadline: float | None = None
        self._last_countdown: int | None = None
        self._out_of_service_pending = False
        self._out_of_service_reason = ""

    # -- observers -----------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: SessionEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    # -- queries -------------------------------------------------------------------------------
    @property
    def in_session(self) -> bool:
        return self.phase in SESSION_PHASES

    @property
    def prompting(self) -> bool:
        return self._prompt_deadline is not None

    @property
    def identity(self) -> Identity | None:
        return self.session.identity

    # -- transitions ---------------------------------------------------------------------------
    def _go(self, new: Phase, reason: str = "") -> None:
        old = self.phase
        self.phase = new
        self._phase_since = self._last_activity = self._clock()
        self._cancel_prompt(silent=True)
        log.info("phase %s -> %s%s%s", old.value, new.value,
                 f" ({self.flow})" if new is Phase.FLOW else "", f": {reason}" if reason else "")
        self._emit(PhaseChanged(self._clock(), old, new, self.flow, reason))

    def _require(self, *allowed: Phase) -> None:
        if self.phase not in allowed:
            names = ", ".join(p.value for p in allowed)
            raise TransitionError(f"not allowed in phase {self.phase.value} (needs {names})")

    def start(self) -> None:
        """A touch on the attract screen starts a session."""
        self._require(Phase.ATTRACT)
        self.session = Session(started_at=self._clock())
        self._go(Phase.HOME)

    def open_flow(self, name: str) -> None:
        self._require(Phase.HOME, Phase.FLOW)
        self.flow = name
        self.session.flows.append(name)
        self._go(Phase.FLOW)

    def back_home(self) -> None:
        self._require(Phase.FLOW, Phase.HOME)
        self.flow = None
        self._go(Phase.HOME)

    def complete(self, item: str) -> None:
        """The flow finished an item (ticket taken, proof printed): evaluation comes next."""
        self._require(Phase.FLOW)
        self.session.completed_item = item
        if self.rating_enabled:
            self._go(Phase.RATING, reason=item)
        else:
            self._go(Phase.END, reason="completed")

    def rated(self) -> None:
        """The rating was submitted (the rating service records it; the machine moves on)."""
        self._require(Phase.RATING)
        self._go(Phase.END, reason="rated")

    def skip_rating(self) -> None:
        self._require(Phase.RATING)
        self._go(Phase.END, reason="not rated")

    def finish(self) -> None:
        """After the thank-you page."""
        self._require(Phase.END)
        self.end_session("completed")

    def end_session(self, reason: str = "user") -> None:
        """End the session from any session phase: wipe personal data, back to attract."""
        if not self.in_session:
            return
        ended = self.session
        duration = self._clock() - ended.started_at
        had_identity = ended.identity is not None
        ended.wipe()
        self.session = Session()
        self.flow = None
        target = Phase.OUT_OF_SERVICE if self._out_of_service_pending else Phase.ATTRACT
        self._go(target, reason=reason if target is Phase.ATTRACT else self._out_of_service_reason)
        if had_identity:
            self._emit(IdentityChanged(self._clock(), identified=False))
        self._emit(SessionEnded(self._clock(), ended.id, reason, duration, tuple(ended.flows)))

    # -- identity ------------------------------------------------------------------------------
    def identify(self, identity: Identity) -> None:
        """Attach an identity to the running session (replacing and wiping any previous one)."""
        if not self.in_session:
            identity.wipe()
            raise TransitionError("an identity arrived outside a session")
        if self.session.identity is not None:
            self.session.identity.wipe()
        self.session.identity = identity
        self.activity()
        self._emit(IdentityChanged(self._clock(), identified=True, source=identity.source))

    def forget_identity(self) -> None:
        """Card lifted or identity step timed out: the identity ends, the session goes on."""
        if self.session.identity is None:
            return
        self.session.identity.wipe()
        self.session.identity = None
        self._emit(IdentityChanged(self._clock(), identified=False))

    # -- terminal modes ------------------------------------------------------------------------
    def set_out_of_service(self, out: bool, reason: str = "") -> None:
        """Health says a required device is (or is no longer) unavailable.

        A running session is not cut short: the terminal goes out of service when it ends.
        """
        self._out_of_service_pending = out
        self._out_of_service_reason = reason
        if out and self.phase is Phase.ATTRACT:
            self._go(Phase.OUT_OF_SERVICE, reason)
        elif not out and self.phase is Phase.OUT_OF_SERVICE:
            self._go(Phase.ATTRACT, "devices back")

    def enter_maintenance(self) -> None:
        self.end_session("maintenance")
        if self.phase is not Phase.MAINTENANCE:
            self._go(Phase.MAINTENANCE)

    def exit_maintenance(self) -> None:
        self._require(Phase.MAINTENANCE)
        target = Phase.OUT_OF_SERVICE if self._out_of_service_pending else Phase.ATTRACT
        self._go(target, "maintenance done")

    # -- time ----------------------------------------------------------------------------------
    def activity(self) -> None:
        """The resident touched the screen or a device reported something for this session."""
        self._last_activity = self._clock()

    def extend(self) -> None:
        """"Need more time?" → yes."""
        self._last_activity = self._clock()
        self._cancel_prompt(silent=False)

    def _cancel_prompt(self, silent: bool) -> None:
        if self._prompt_deadline is None:
            return
        self._prompt_deadline = None
        self._last_countdown = None
        if not silent:
            self._emit(IdlePromptDismissed(self._clock()))

    def tick(self) -> None:
        """Advance timers; call a few times a second from the UI thread."""
        now = self._clock()
        if self.phase is Phase.END:
            if now - self._phase_since >= self.policy.thanks_s:
                self.finish()
            return
        if self.phase is Phase.RATING:
            if now - self._last_activity >= self.policy.rating_timeout_s:
                item = self.session.completed_item
                self._emit(RatingTimedOut(now, item))
                self._go(Phase.END, reason="not rated")
            return
        if self.phase not in (Phase.HOME, Phase.FLOW):
            return
        if self._prompt_deadline is None:
            if now - self._last_activity >= self.policy.idle_timeout_s:
                self._prompt_deadline = now + self.policy.prompt_s
                self._last_countdown = round(self.policy.prompt_s)
                self._emit(IdlePromptShown(now, self._last_countdown))
            return
        left = self._prompt_deadline - now
        if left <= 0:
            self.end_session("idle")
            return
        seconds = math.ceil(left)
        if seconds != self._last_countdown:
            self._last_countdown = seconds
            self._emit(IdleCountdown(now, seconds))

"""The contract every peripheral driver follows.

A driver is a plain Python object (no Kivy) with a small lifecycle:

    device = SomeDriver(url="socket://127.0.0.1:9100", options={...})
    device.subscribe(callback)      # callback(event) is called from the driver's own thread
    device.start()                  # non-blocking: opens the port in the background, starts polling
    device.health()                 # DeviceHealth snapshot, safe from any thread
    device.stop()                   # stops and joins every thread the driver started

State changes (ready/unavailable/...) are published as :class:`DeviceStateChanged` events and
mirrored in :meth:`Device.health`. A driver never raises out of its own thread: failures become
``UNAVAILABLE`` with a reason, and the driver retries with back-off.

Subscribers must not block: the kiosk hands events over to the UI thread through
``kiosk.mainthread.MainThreadHandoff``.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

log = logging.getLogger(__name__)


class DeviceState(enum.StrEnum):
    """Life of a device as the kiosk sees it."""

    STOPPED = "stopped"  # not started, or stopped on purpose
    STARTING = "starting"  # opening the port / first contact
    READY = "ready"  # working
    UNAVAILABLE = "unavailable"  # unplugged, not answering, or failing; the driver keeps retrying
    DISABLED = "disabled"  # not configured on this terminal


@dataclass(frozen=True)
class DeviceHealth:
    """A snapshot of one device's health for the UI, telemetry and the maintenance screen.

    ``detail`` holds kind-specific, personal-data-free facts (paper state, SAM id, firmware).
    """

    kind: str
    type: str
    state: DeviceState
    reason: str = ""
    since: float = field(default_factory=time.time)
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.state is DeviceState.READY


@dataclass(frozen=True)
class DeviceEvent:
    """Base class of everything a driver publishes."""

    kind: str
    at: float = field(default_factory=time.time, kw_only=True)


@dataclass(frozen=True)
class DeviceStateChanged(DeviceEvent):
    state: DeviceState
    reason: str = ""


Listener = Callable[[DeviceEvent], None]


class DeviceError(Exception):
    """A driver-level failure with a plain-language message for technicians."""


class Device:
    """Base class: listener list, state bookkeeping, lifecycle hooks.

    Subclasses set ``kind`` (``"idcard"``, ``"printer"``…) and ``type_name`` and override
    :meth:`_on_start` / :meth:`_on_stop`. They call :meth:`_set_state` and :meth:`_emit`.
    """

    kind: ClassVar[str] = "device"
    type_name: ClassVar[str] = "base"
    #: the backend's option schema (``drivers.options``); ``{}`` = it takes no options
    OPTIONS: ClassVar[Mapping[str, Any]] = {}

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``options`` against :attr:`OPTIONS` (strict types, no unknown keys) and return
        them merged over the defaults; backends with cross-option rules extend this."""
        from drivers.options import check_options

        return check_options(options, cls.OPTIONS, f"{cls.kind}/{cls.type_name}")

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None) -> None:
        self.url = url
        self.options: dict[str, Any] = dict(options or {})
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()
        self._state = DeviceState.STOPPED
        self._reason = ""
        self._since = time.time()
        self._detail: dict[str, Any] = {}

    # -- listeners ---------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Register ``listener``; returns a function that unsubscribes it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, event: DeviceEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a broken subscriber must not kill the device thread
                log.exception("%s listener failed on %s", self.kind, type(event).__name__)

    # -- state -------------------------------------------------------------------------------
    @property
    def state(self) -> DeviceState:
        return self._state

    def _set_state(self, state: DeviceState, reason: str = "") -> None:
        with self._lock:
            if state == self._state and reason == self._reason:
                return
            self._state, self._reason, self._since = state, reason, time.time()
        log.info("%s (%s) is %s%s", self.kind, self.type_name, state.value,
                 f": {reason}" if reason else "")
        self._emit(DeviceStateChanged(self.kind, state=state, reason=reason))

    def _set_detail(self, **detail: Any) -> None:
        with self._lock:
            self._detail.update(detail)

    def health(self) -> DeviceHealth:
        with self._lock:
            return DeviceHealth(self.kind, self.type_name, self._state, self._reason,
                                self._since, dict(self._detail))

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the device. Must not block: slow opening happens in the driver's thread."""
        self._set_state(DeviceState.STARTING)
        self._on_start()

    def stop(self) -> None:
        """Stop the device and join every thread it started."""
        self._on_stop()
        self._set_state(DeviceState.STOPPED)

    def _on_start(self) -> None:  # pragma: no cover - overridden
        self._set_state(DeviceState.READY)

    def _on_stop(self) -> None:  # pragma: no cover - overridden
        pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}/{self.type_name} {self._state.value}>"

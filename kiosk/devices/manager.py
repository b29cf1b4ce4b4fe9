"""Builds the configured peripherals, starts and stops them, and routes their events.

Driver events arrive on driver threads; :class:`DeviceManager` posts them through the
:class:`~kiosk.mainthread.MainThreadHandoff` so every listener registered here runs on the
UI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from drivers.base import Device, DeviceEvent, DeviceHealth, DeviceState
from drivers.registry import KINDS, open_device
from kiosk.mainthread import MainThreadHandoff

log = logging.getLogger(__name__)

UiListener = Callable[[DeviceEvent], None]


class DeviceManager:
    def __init__(self, devices_config: Any, handoff: MainThreadHandoff) -> None:
        self._handoff = handoff
        self._devices: dict[str, Device] = {}
        self._disabled: dict[str, DeviceHealth] = {}
        self._listeners: list[UiListener] = []
        for kind in KINDS:
            entry = getattr(devices_config, kind, None)
            if entry is None or not entry.enabled:
                self._disabled[kind] = DeviceHealth(kind, getattr(entry, "type", "-"),
                                                    DeviceState.DISABLED, "not configured")
                continue
            device = open_device(kind, entry.type, entry.url, entry.options)
            device.subscribe(self._on_driver_event)
            self._devices[kind] = device

    # -- lifecycle -----------------------------------------------------------------------------
    def start_all(self) -> None:
        for kind, device in self._devices.items():
            try:
                device.start()
            except Exception as exc:  # a device that fails must not stop the kiosk
                log.error("starting %s failed: %s", kind, exc)

    def stop_all(self) -> None:
        for kind, device in self._devices.items():
            try:
                device.stop()
            except Exception as exc:
                log.error("stopping %s failed: %s", kind, exc)

    # -- access --------------------------------------------------------------------------------
    def get(self, kind: str) -> Device | None:
        return self._devices.get(kind)

    def __iter__(self) -> Iterator[Device]:
        return iter(self._devices.values())

    def health(self) -> dict[str, DeviceHealth]:
        result = dict(self._disabled)
        result.update({kind: device.health() for kind, device in self._devices.items()})
        return {kind: result[kind] for kind in KINDS if kind in result}

    # -- events --------------------------------------------------------------------------------
    def subscribe(self, listener: UiListener) -> None:
        """``listener(event)`` is called on the UI thread for every event of every device."""
        self._listeners.append(listener)

    def _on_driver_event(self, event: DeviceEvent) -> None:  # driver thread
        self._handoff.post(self._dispatch, event)

    def _dispatch(self, event: DeviceEvent) -> None:  # UI thread
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("device event listener failed on %s", type(event).__name__)

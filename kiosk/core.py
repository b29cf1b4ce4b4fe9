"""Composition root: builds every service and device from the config, and nothing else.

The Kivy app (``screens.app.KioskApp``) receives a ready :class:`Kiosk`; tests build one
without a window. Nothing here imports Kivy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from config.schema import KioskConfig
from kiosk.devices import DeviceManager
from kiosk.flows import FlowSpec, enabled_flows
from kiosk.health import HealthMonitor
from kiosk.identify import IdentifyService
from kiosk.mainthread import MainThreadHandoff
from kiosk.printing_service import PrintService
from kiosk.proofs import EmbeddedProofProvider, ProofProvider
from kiosk.ratings import MemoryRatingRecorder, RatingRecorder
from kiosk.session import IdlePolicy, SessionMachine
from kiosk.simulation import Simulation

log = logging.getLogger(__name__)


@dataclass
class Kiosk:
    config: KioskConfig
    handoff: MainThreadHandoff
    devices: DeviceManager
    machine: SessionMachine
    health: HealthMonitor
    identify: IdentifyService
    ratings: RatingRecorder
    flows: list[FlowSpec]
    printing: PrintService
    proofs: ProofProvider
    simulation: Simulation | None = None
    out_of_service: tuple[bool, str] = field(default=(False, ""))

    def start(self) -> None:
        log.info("kiosk %s starting (profile %s, config %s)", self.config.terminal.id,
                 self.config.profile, self.config.config_hash())
        self.devices.start_all()

    def tick(self) -> None:
        """Timers and health; called a few times a second on the UI thread."""
        self.machine.tick()
        verdict = self.health.evaluate(self.devices.health())
        if verdict != self.out_of_service:
            self.out_of_service = verdict
            self.machine.set_out_of_service(*verdict)

    def stop(self) -> None:
        self.machine.end_session("shutdown")
        self.devices.stop_all()
        self.handoff.close()
        if self.simulation is not None:
            self.simulation.stop()


def build_kiosk(config: KioskConfig, handoff: MainThreadHandoff | None = None,
                clock: Callable[[], float] = time.monotonic,
                emulate: frozenset[str] = frozenset()) -> Kiosk:
    """Everything the terminal needs, from its config. ``emulate`` names devices to run on
    their wire-protocol emulators (see :mod:`kiosk.simulation`); the simulator exists when
    ``ui.simulator`` is on or something is emulated."""
    simulation = Simulation(emulate) if (emulate or config.ui.simulator) else None
    if simulation is not None:
        config = simulation.start(config)
    handoff = handoff or MainThreadHandoff()
    ui = config.ui
    flows = enabled_flows(config.services.enabled)
    machine = SessionMachine(
        IdlePolicy(idle_timeout_s=ui.idle_timeout_s, prompt_s=ui.idle_prompt_s,
                   rating_timeout_s=ui.rating_timeout_s),
        clock=clock,
        rating_enabled="rating" in config.services.enabled,
    )
    devices = DeviceManager(config.devices, handoff)
    identify = IdentifyService(machine)
    devices.subscribe(identify.on_device_event)
    health = HealthMonitor(config.health.required_devices, config.health.grace_s, clock=clock)
    printing = PrintService(devices.get("printer"), handoff)  # type: ignore[arg-type]
    terminal = config.terminal
    platform_url = config.backends.platform.url or "https://platform.example/verify"
    proofs = EmbeddedProofProvider(issuer=terminal.site, terminal_id=terminal.id,
                                   verify_base_url=platform_url)
    kiosk = Kiosk(config=config, handoff=handoff, devices=devices, machine=machine,
                  health=health, identify=identify, ratings=MemoryRatingRecorder(), flows=flows,
                  printing=printing, proofs=proofs, simulation=simulation)
    if simulation is not None:
        simulation.bind(kiosk)
    return kiosk


def paper_width_mm(config: KioskConfig) -> int:
    """The printer's paper width from its options (80 mm unless configured)."""
    try:
        return int(config.devices.printer.options.get("paper_width_mm", 80))
    except (TypeError, ValueError):
        return 80

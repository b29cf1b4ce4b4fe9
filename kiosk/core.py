"""Composition root: builds every service and device from the config, and nothing else.

The Kivy app (``screens.app.KioskApp``) receives a ready :class:`Kiosk`; tests build one
without a window. Nothing here imports Kivy.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.schema import KioskConfig
from kiosk.devices.health import HealthMonitor
from kiosk.devices.manager import DeviceManager
from kiosk.devices.simulation import Simulation
from kiosk.help.service import FleetHelpChannel, HallHelpChannel, HelpService
from kiosk.identity.identify import IdentifyService
from kiosk.mainthread import MainThreadHandoff
from kiosk.printing.proofs import PlatformProofProvider, ProofProvider
from kiosk.printing.service import PrintService
from kiosk.ratings.service import FirstRatings, RatingService
from kiosk.session.flows import FlowSpec, enabled_flows
from kiosk.session.machine import (
    IdlePolicy,
    PhaseChanged,
    SessionEnded,
    SessionEvent,
    SessionMachine,
)
from kiosk.telemetry.payloads import session_outcome
from kiosk.telemetry.remote import RemoteCommands
from kiosk.telemetry.screenshots import ScreenshotStore
from kiosk.voice.settings import build_voice

log = logging.getLogger(__name__)


@dataclass
class Kiosk:
    config: KioskConfig
    handoff: MainThreadHandoff
    devices: DeviceManager
    machine: SessionMachine
    health: HealthMonitor
    identify: IdentifyService
    ratings: RatingService
    flows: list[FlowSpec]
    printing: PrintService
    proofs: ProofProvider
    reporter: Any = None  # kiosk.telemetry.Reporter: outbox + MQTT
    queue: Any = None  # kiosk.queue.QueueService: embedded engine or hall-server client
    catalogue: Any = None  # kiosk.catalogue.CatalogueRuntime: signed, synced, searchable
    codes: Any = None  # kiosk.codes.CodePlatform: resident and enterprise codes
    remote: RemoteCommands | None = None
    voice: Any = None  # kiosk.voice.VoicePlayer, None when silent
    help: Any = None  # kiosk.help.HelpService: 帮办 through the hall server or the fleet
    simulation: Simulation | None = None
    screenshots: ScreenshotStore | None = None  # remote screenshots, deleted after retention
    out_of_service: tuple[bool, str] = field(default=(False, ""))
    #: set when everything, the deferred part included, has started
    started: threading.Event = field(default_factory=threading.Event)

    def start(self, defer: bool = False) -> None:
        """Start devices, telemetry and the catalogue. With ``defer`` the catalogue (verifying
        the bundle, building its pinyin search index: seconds on a terminal's CPU) waits for
        :meth:`start_deferred`, which the app calls once the attract screen is up."""
        log.info("kiosk %s starting (profile %s, config %s)", self.config.terminal.id,
                 self.config.profile, self.config.config_hash())
        self.devices.start_all()
        if self.screenshots is not None:
            self.screenshots.prune()
        if self.reporter is not None:
            self.reporter.start()
        if not defer:
            self._start_catalogue()

    def start_deferred(self) -> None:
        """What the attract screen does not need, on a worker thread (the guide service
        shows as unavailable until its catalogue is loaded)."""
        self.handoff.run_in_worker(self._start_catalogue)

    def _start_catalogue(self) -> None:
        try:
            if self.catalogue is not None:
                self.catalogue.start()  # never raises: a bad bundle leaves "guide" unavailable
            self._warm_up_printing()
        finally:
            self.started.set()

    def _warm_up_printing(self) -> None:
        """Read the printer font's tables and PIL's image plugins now, on the worker: ~30 MB
        read once, which the soak saw arriving with the first slip (and in its frame)."""
        if self.devices.get("printer") is None:
            return
        try:
            from PIL import Image

            from drivers.printer.fonts import CELL_HEIGHT, default_glyphs

            Image.init()
            glyphs = default_glyphs()
            for size in range(1, 5):  # every text magnification a slip may use (1..4): each
                for ch in "证明打印号01":  # size is a font face of its own, opened once
                    glyphs.cell(ch, CELL_HEIGHT * size)
        except Exception as exc:  # a missing font is reported when printing, not here
            log.warning("printer fonts not preloaded: %s", exc)

    def tick(self) -> None:
        """Timers and health; called a few times a second on the UI thread."""
        self.machine.tick()
        if self.catalogue is not None and not self.machine.in_session:
            self.catalogue.between_sessions()  # a new catalogue only between residents
        verdict = self.health.evaluate(self.devices.health())
        if verdict != self.out_of_service:
            self.out_of_service = verdict
            self.machine.set_out_of_service(*verdict)

    def stop(self) -> None:
        self.machine.end_session("shutdown")
        if self.help is not None:
            self.help.cancel(wait=True)  # shutdown: join the poller
        if self.voice is not None:
            self.voice.close()
        self.devices.stop_all()
        if self.reporter is not None:
            self.reporter.stop()
        if self.catalogue is not None:
            self.catalogue.stop()
        if self.queue is not None:
            self.queue.close()
        self.handoff.close()
        if self.simulation is not None:
            self.simulation.stop()


def build_kiosk(config: KioskConfig, handoff: MainThreadHandoff | None = None,
                clock: Callable[[], float] = time.monotonic,
                emulate: frozenset[str] = frozenset()) -> Kiosk:
    """Everything the terminal needs, from its config. ``emulate`` names devices to run on
    their wire-protocol emulators (see :mod:`kiosk.devices.simulation`); the simulator exists when
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
    remote = RemoteCommands(machine, handoff)
    queue, catalogue, codes = _build_backends(config, devices, identify, handoff)
    reporter = _build_reporter(config, devices, remote, flows, catalogue)
    proofs = PlatformProofProvider(codes)
    kiosk = Kiosk(config=config, handoff=handoff, devices=devices, machine=machine,
                  health=health, identify=identify,
                  ratings=RatingService(reporter, FirstRatings(
                      Path(config.storage.data_dir).expanduser() / "first-ratings.db")),
                  flows=flows, printing=printing, proofs=proofs, reporter=reporter,
                  remote=remote, simulation=simulation, queue=queue, catalogue=catalogue,
                  codes=codes, screenshots=ScreenshotStore(
                      Path(config.storage.data_dir).expanduser() / "screenshots",
                      config.fleet.screenshot_retention_days))
    kiosk.voice = build_voice(config.voice, Path(config.storage.data_dir).expanduser())
    kiosk.help = _build_help(config, queue, reporter, handoff)
    machine.subscribe(lambda event: _report_session(reporter, event))
    if simulation is not None:
        simulation.bind(kiosk)
    return kiosk


def _build_backends(config: KioskConfig, devices: DeviceManager, identify: IdentifyService,
                    handoff: MainThreadHandoff) -> tuple[Any, Any, Any]:
    """The queue, the catalogue and the code platform, embedded or over the network as
    ``backends.*`` say; a scanned resident code becomes an identity at the identify step."""
    from kiosk.catalogue import build_catalogue
    from kiosk.codes.factory import build_code_platform, scan_gate
    from kiosk.codes.identify import ScanIdentifier
    from kiosk.queue import build_queue_service

    queue = build_queue_service(config)
    catalogue = build_catalogue(config.catalogue, Path(config.storage.data_dir).expanduser())
    codes = build_code_platform(config.codes, config.backends.platform, config.terminal.id,
                                data_dir=Path(config.storage.data_dir).expanduser())
    scan = ScanIdentifier(scan_gate(config.codes), codes, handoff.run_in_worker,
                          on_identity=identify.code_identified, on_refusal=identify.code_refused,
                          camera=devices.get("camera"))
    identify.attach_scanner(scan)
    devices.subscribe(scan.on_device_event)
    return queue, catalogue, codes


def _build_reporter(config: KioskConfig, devices: DeviceManager, remote: RemoteCommands,
                    flows: list[FlowSpec], catalogue: Any = None) -> Any:
    """The durable outbox and the MQTT reporter (records wait in the outbox while the broker
    is away or ``mqtt.enabled`` is false)."""
    from kiosk.telemetry import Reporter

    data_dir = Path(config.storage.data_dir).expanduser()
    data_dir.mkdir(parents=True, exist_ok=True)
    capabilities: dict[str, Any] = {
        "devices": {kind: h.type for kind, h in devices.health().items()},
        "services": [flow.id for flow in flows]}
    if catalogue is not None:
        capabilities["catalogue"] = catalogue.birth_record()
    reporter = Reporter(config, devices.health, data_dir / "outbox.db",
                        command_handler=remote.handle, capabilities=capabilities)
    if catalogue is not None:
        from kiosk.catalogue.notice import notice_topic, parse_notice

        def new_catalogue(payload: bytes) -> None:
            notice = parse_notice(payload)
            catalogue.notify_new_version(notice.serial, notice.version)

        reporter.subscribe(notice_topic(config.mqtt.topic_prefix), new_catalogue)
    return reporter


def _build_help(config: KioskConfig, queue: Any, reporter: Any,
                handoff: MainThreadHandoff) -> HelpService:
    """帮办 channels in order: the hall queue server (when the queue is a hall server that
    takes help calls), then the fleet over MQTT."""
    settings = config.help
    channels: list[Any] = []
    if callable(getattr(queue, "request_help", None)):
        channels.append(HallHelpChannel(queue))
    channels.append(FleetHelpChannel(reporter, config.terminal.id, settings.unanswered_alarm_s,
                                     settings.accept_timeout_s))
    place = settings.place or f"{config.terminal.site} {config.terminal.name}"
    return HelpService(channels, place, settings.poll_s, handoff.run_in_worker, handoff.post)


def _report_session(reporter: Any, event: SessionEvent) -> None:
    """Session counts per flow and "call staff" presses, for the fleet (no personal data)."""
    if isinstance(event, SessionEnded):
        reporter.record_session(",".join(event.flows), session_outcome(event.reason),
                                round(event.duration_s, 1), reason=event.reason)
    elif isinstance(event, PhaseChanged) and event.flow == "help" and event.new.value == "flow":
        reporter.record_call_staff(screen="home", flow="help")


def paper_width_mm(config: KioskConfig) -> int:
    """The printer's paper width from its options (80 mm unless configured)."""
    try:
        return int(config.devices.printer.options.get("paper_width_mm", 80))
    except (TypeError, ValueError):
        return 80

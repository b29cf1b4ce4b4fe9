"""One object for the composition root: service + syncer built from ``[catalogue]``.

Wiring (kiosk/core.py)::

    catalogue = build_catalogue(config.catalogue, config.storage.data_dir)
    catalogue.start()                                   # loads, starts polling if url is set
    machine.subscribe(lambda e: isinstance(e, SessionEnded) and catalogue.between_sessions())
    # Kiosk.tick():  if not machine.in_session: catalogue.between_sessions()
    # MQTT notice:   catalogue.notify_new_version(serial=payload["serial"])
    # birth record:  {"catalogue": catalogue.birth_record(), ...}
    # Kiosk.stop():  catalogue.stop()
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.catalogue import CatalogueSettings
from kiosk.catalogue.bundle import EMBEDDED_BUNDLE, trust
from kiosk.catalogue.service import CatalogueService, Listener, SyncResult
from kiosk.catalogue.store import CatalogueStore
from kiosk.catalogue.sync import CatalogueSyncer
from kiosk.catalogue.view import CatalogueView, OfferFilter

log = logging.getLogger(__name__)


@dataclass
class CatalogueRuntime:
    service: CatalogueService
    syncer: CatalogueSyncer | None
    uses_demo_key: bool = False

    @property
    def view(self) -> CatalogueView:
        return self.service.view

    def subscribe(self, listener: Listener) -> None:
        self.service.subscribe(listener)

    @property
    def available(self) -> bool:
        """False until a catalogue this terminal trusts is active (hide the guide service)."""
        return self.service.available

    def start(self) -> bool:
        """Load the active catalogue and start polling; never raises. Returns
        :attr:`available`."""
        if self.uses_demo_key:
            log.warning("catalogue: the DEMO signing key is trusted (catalogue.public_keys); "
                        "set the platform's key on a real terminal")
        self.service.start()
        if self.syncer is not None:
            self.syncer.start()
        return self.available

    def stop(self, timeout: float = 5.0) -> None:
        if self.syncer is not None:
            self.syncer.stop(timeout)

    def between_sessions(self) -> bool:
        """Swap in a verified new version, if one waits. Call only with no session running."""
        return self.service.apply_pending()

    def notify_new_version(self, serial: int | None = None, version: str = "") -> bool:
        """The platform announced a new version (retained MQTT notice)."""
        if self.syncer is None:
            log.info("catalogue notice ignored: catalogue.url is not set")
            return False
        return self.syncer.notify_new_version(serial, version)

    def sync_now(self) -> SyncResult:
        if self.syncer is None:
            return SyncResult("skipped", detail="catalogue.url is not set")
        return self.syncer.sync_now()

    def rollback(self) -> SyncResult:
        return self.service.rollback()

    def birth_record(self) -> dict[str, Any]:
        """The catalogue part of the MQTT birth record and of health (no personal data)."""
        status = self.service.status()
        return {key: status[key] for key in ("available", "version", "serial", "offered",
                                             "sample_data", "pending")}


def build_catalogue(settings: CatalogueSettings, data_dir: str | Path, *,
                    auto_apply: bool = False, embedded: Path | None = EMBEDDED_BUNDLE
                    ) -> CatalogueRuntime:
    store = CatalogueStore(settings.cache_path(data_dir), trust(settings.public_keys),
                           keep=settings.keep_versions, max_bytes=settings.max_bundle_bytes,
                           embedded=embedded)
    service = CatalogueService(store, OfferFilter.from_settings(settings), auto_apply=auto_apply)
    syncer = None
    if settings.url:
        syncer = CatalogueSyncer(service, settings.url, interval_s=settings.poll_interval_s,
                                 timeout_s=settings.timeout_s,
                                 max_bytes=settings.max_bundle_bytes)
    return CatalogueRuntime(service, syncer, settings.uses_demo_key)

"""The kiosk's catalogue: the active view, a verified new version waiting, the swap.

Threading and the "no half-loaded catalogue" rule:

* :meth:`CatalogueService.install` (sync thread) verifies, stores and fully builds a new
  :class:`CatalogueView` (filter + search index) before anyone can see it, then *stages* it.
* :meth:`CatalogueService.apply_pending` swaps the staged view in with one reference
  assignment. The composition root calls it between sessions (on ``SessionEnded`` and from
  ``Kiosk.tick`` while no session is running), so a resident never sees the catalogue change
  under their fingers; with ``auto_apply=True`` (command line, a terminal with no UI) the swap
  happens at once.
* :attr:`CatalogueService.view` is read by screens on the UI thread: it is always a complete,
  immutable view.

Listeners receive :class:`CatalogueEvent` on the thread that caused it (the sync thread for
downloads): hand them to the UI with ``MainThreadHandoff.post``. The catalogue holds no
personal data, so events and logs may carry versions, codes and reasons freely.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from kiosk.catalogue.bundle import BundleError, VerifiedBundle
from kiosk.catalogue.store import CatalogueStore
from kiosk.catalogue.view import CatalogueView, OfferFilter

log = logging.getLogger(__name__)

Outcome = Literal["updated", "unchanged", "refused", "error", "skipped", "rolled_back"]


@dataclass(frozen=True)
class SyncResult:
    """What one sync attempt (or install, or rollback) did."""

    outcome: Outcome
    version: str = ""  # the version concerned (new, refused or active)
    serial: int = 0
    reason: str = ""  # BundleError.reason or "http"/"io" for errors
    detail: str = ""  # plain words for the log and the maintenance screen
    http_status: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "version": self.version, "serial": self.serial,
                "reason": self.reason, "detail": self.detail, "http_status": self.http_status}


@dataclass(frozen=True)
class CatalogueEvent:
    """``kind``: staged (verified, waits for the session to end), activated, refused,
    rolled_back, sync_failed."""

    kind: str
    version: str
    serial: int
    previous_version: str = ""
    detail: str = ""


Listener = Callable[[CatalogueEvent], None]


class CatalogueService:
    def __init__(self, store: CatalogueStore, offer: OfferFilter | None = None, *,
                 auto_apply: bool = False) -> None:
        self.store = store
        self.offer = offer or OfferFilter()
        self.auto_apply = auto_apply
        self._lock = threading.Lock()
        self._view: CatalogueView | None = None
        self._pending: CatalogueView | None = None
        self._listeners: list[Listener] = []
        self.last_result: SyncResult | None = None

    # -- listeners -----------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: CatalogueEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not stop a sync
                log.exception("catalogue listener failed on %s", event.kind)

    # -- loading -------------------------------------------------------------------------------
    def load(self) -> CatalogueView:
        """Load the active bundle from the store (start-up); raises BundleError if none."""
        bundle = self.store.load()
        view = CatalogueView.build(bundle.catalogue, self.offer)
        with self._lock:
            self._view, self._pending = view, None
        log.info("catalogue %s (#%d) active from %s: %d of %d items offered", view.version,
                 view.serial, self.store.active_source, len(view), len(view.catalogue.items))
        return view

    def start(self) -> bool:
        """:meth:`load` for the kiosk: never raises. False = no usable catalogue yet (the
        guide service is unavailable until the first bundle arrives and is swapped in)."""
        try:
            self.load()
        except BundleError as exc:
            log.error("no catalogue to offer: %s; waiting for the first sync", exc)
            return False
        if not len(self.view):
            log.warning("catalogue.levels/categories offer none of the %d items",
                        len(self.view.catalogue.items))
        return True

    @property
    def available(self) -> bool:
        return self._view is not None

    @property
    def view(self) -> CatalogueView:
        """The active catalogue as this terminal offers it (complete and immutable).
        BundleError when there is none (check :attr:`available`)."""
        view = self._view
        if view is None:
            return self.load()
        return view

    def _active_version(self) -> str:
        view = self._view
        return view.version if view is not None else ""

    @property
    def pending(self) -> CatalogueView | None:
        return self._pending

    # -- new versions --------------------------------------------------------------------------
    def install(self, raw: bytes, *, etag: str = "", url: str = "") -> SyncResult:
        """Verify and store ``raw``; stage its view (or swap it in with ``auto_apply``)."""
        try:
            installed = self.store.install(raw, etag=etag, url=url)
        except BundleError as exc:
            result = SyncResult("refused", reason=exc.reason, detail=str(exc))
            log.warning("catalogue bundle refused (%s); %s stays active", exc,
                        self._active_version() or "no catalogue")
            self._emit(CatalogueEvent("refused", "", 0, self._active_version(), str(exc)))
            self.last_result = result
            return result
        except OSError as exc:
            result = SyncResult("error", reason="io", detail=f"cannot store the bundle: {exc}")
            log.error("catalogue bundle not stored: %s", exc)
            self.last_result = result
            return result
        bundle = installed.bundle
        if not installed.changed:
            result = SyncResult("unchanged", bundle.version, bundle.serial)
        else:
            self._stage(bundle, "staged")
            result = SyncResult("updated", bundle.version, bundle.serial)
        self.last_result = result
        return result

    def _stage(self, bundle: VerifiedBundle, kind: str) -> None:
        view = CatalogueView.build(bundle.catalogue, self.offer)  # complete before visible
        previous = self._active_version()
        with self._lock:
            self._pending = view
        log.info("catalogue %s (#%d) verified and %s; active: %s", view.version, view.serial,
                 kind, previous)
        self._emit(CatalogueEvent(kind, view.version, view.serial, previous))
        if self.auto_apply:
            self.apply_pending()

    def apply_pending(self) -> bool:
        """Swap in the staged version; call between sessions. True if something changed."""
        with self._lock:
            pending = self._pending
            if pending is None:
                return False
            previous = self._view
            self._view, self._pending = pending, None
        old = previous.version if previous is not None else ""
        log.info("catalogue %s (#%d) now active (was %s)", pending.version, pending.serial, old)
        self._emit(CatalogueEvent("activated", pending.version, pending.serial, old))
        return True

    def rollback(self) -> SyncResult:
        """Return to the previous verified version (swapped in between sessions like a new
        one). A remote command or the maintenance screen calls this."""
        try:
            installed = self.store.rollback()
        except BundleError as exc:
            return SyncResult("refused", reason=exc.reason, detail=str(exc))
        bundle = installed.bundle
        previous = installed.previous.version if installed.previous else ""
        self._stage(bundle, "rolled_back")
        return SyncResult("rolled_back", bundle.version, bundle.serial,
                          detail=f"rolled back from {previous}")

    def report_failure(self, result: SyncResult) -> None:
        """A download that never reached :meth:`install` (network, truncated, too large)."""
        self.last_result = result
        kind = "refused" if result.outcome == "refused" else "sync_failed"
        self._emit(CatalogueEvent(kind, "", 0, self._active_version(), result.detail))

    # -- reporting -----------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """For the birth record, health and the maintenance screen (no personal data)."""
        view = self._view
        status: dict[str, Any] = {
            "available": view is not None,
            "version": view.version if view else None,
            "serial": view.serial if view else None,
            "offered": len(view) if view else 0,
            "items": len(view.catalogue.items) if view else 0,
            "sample_data": view.sample_data if view else False,
            "pending": self._pending.version if self._pending else None,
            "stored": self.store.status(),  # on disk: the pending version once one is staged
        }
        if self.last_result is not None:
            status["last_sync"] = self.last_result.as_dict()
        return status

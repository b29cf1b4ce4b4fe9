"""Identify a resident by a scanned code: the glue between code events, the gate, the platform
and the session, with the threading done right.

:class:`ScanIdentifier` is driven on the UI thread: ``on_device_event`` receives every device
event (from ``DeviceManager.subscribe``), ``arm()`` / ``disarm()`` follow the identify step.
While armed it holds the camera (so the camera is open only while a flow waits for a code),
passes each :class:`CodeScanned` through the :class:`ScanGate`, verifies it on a worker thread
(``run_in_worker``, e.g. ``MainThreadHandoff.run_in_worker``) and calls back on the UI thread
with an :class:`~kiosk.identity.person.Identity` or a :class:`CodeRefusal`. A result that
arrives after the step was left, or after a newer scan, is dropped.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from drivers.base import DeviceError, DeviceEvent
from drivers.scanner.interface import CodeScanned
from kiosk.codes.classify import Classifier
from kiosk.codes.gate import Scan, ScanGate
from kiosk.codes.platform import CodePlatform
from kiosk.codes.refusals import RefusalReason
from kiosk.codes.resolve import CodeIdentity, CodeRefusal, resolve_scan
from kiosk.codes.tokens import TokenKind
from kiosk.identity.person import Identity

log = logging.getLogger(__name__)

RunInWorker = Callable[..., "Future[Any]"]


class ScanIdentifier:
    def __init__(self, gate: ScanGate, platform: CodePlatform, run_in_worker: RunInWorker, *,
                 on_identity: Callable[[Identity], None],
                 on_refusal: Callable[[CodeRefusal], None],
                 camera: Any = None, classifier: Classifier | None = None,
                 expect: TokenKind | None = TokenKind.RESIDENT) -> None:
        self.gate = gate
        self.platform = platform
        self._run = run_in_worker
        self._on_identity = on_identity
        self._on_refusal = on_refusal
        self._camera = camera
        self._classifier = classifier or gate.classifier
        self._expect = expect
        self._armed = False
        self._holding_camera = False
        self._generation = 0
        self.pending = False  # a scan is being verified

    @property
    def armed(self) -> bool:
        return self._armed

    def arm(self) -> None:
        """The identify step is showing: accept codes, and open the camera."""
        if self._armed:
            return
        self._armed = True
        self._generation += 1
        if self._camera is not None and not self._holding_camera:
            try:
                self._camera.acquire()
                self._holding_camera = True
            except DeviceError as exc:
                log.warning("camera not available for scanning codes: %s", exc)

    def disarm(self) -> None:
        """The step is over: ignore codes, drop pending results, release the camera."""
        self._armed = False
        self._generation += 1
        self.pending = False
        self.gate.duplicates.forget()
        if self._holding_camera:
            self._holding_camera = False
            self._camera.release()

    def on_device_event(self, event: DeviceEvent) -> None:
        if not isinstance(event, CodeScanned) or not self._armed:
            return
        admitted = self.gate.admit(event.payload, event.source)
        if not isinstance(admitted, Scan):
            if admitted.reason == "too_long":
                self._on_refusal(CodeRefusal(RefusalReason.INVALID, "the code is too long"))
            return
        self._generation += 1
        generation = self._generation
        self.pending = True
        log.info("verifying a scanned %s from the %s", admitted.cls, admitted.source)
        verify = functools.partial(resolve_scan, classifier=self._classifier, expect=self._expect)
        self._run(verify, admitted.payload, self.platform,
                  on_done=lambda result: self._done(generation, result),
                  on_error=lambda exc: self._failed(generation, exc))

    def _done(self, generation: int, result: CodeIdentity | CodeRefusal) -> None:
        if generation != self._generation or not self._armed:
            log.info("a code result arrived after the identify step moved on: dropped")
            return
        self.pending = False
        if isinstance(result, CodeIdentity):
            self._on_identity(result.to_identity())
        else:
            self._on_refusal(result)

    def _failed(self, generation: int, exc: BaseException) -> None:
        log.error("verifying a code failed unexpectedly: %s", type(exc).__name__)
        self._done(generation, CodeRefusal(RefusalReason.UNAVAILABLE, type(exc).__name__))

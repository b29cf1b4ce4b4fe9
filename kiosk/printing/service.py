"""Printing for the flows: off the UI thread, with retries on transient errors.

A flow asks :meth:`PrintService.submit` to print a :class:`~drivers.printer.document.Document`;
the job runs on a worker thread and the outcome comes back on the UI thread. A refusal
(paper out, cover open, printer not answering) is final and carries the plain reason, so the
screen can offer another way (a QR code to take the result to the phone); a transient
:class:`~drivers.printer.interface.PrinterError` (connection dropped mid-job) is retried with a
short back-off. Nothing personal is logged: only the document's title and the job id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from drivers.printer.document import Document
from drivers.printer.interface import Printer, PrinterError, PrintRefused
from kiosk.mainthread import MainThreadHandoff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrintOutcome:
    ok: bool
    job_id: str = ""
    reason: str = ""  # plain Chinese, for the screen
    refused: bool = False  # nothing was printed; retrying now will not help
    attempts: int = 0
    preview: bytes = b""  # PNG of the slip when the printer renders previews (demo), in memory

    def __repr__(self) -> str:
        return (f"PrintOutcome(ok={self.ok}, job_id={self.job_id!r}, reason={self.reason!r}, "
                f"refused={self.refused}, attempts={self.attempts}, "
                f"preview={len(self.preview)} bytes)")


class PrintService:
    def __init__(self, printer: Printer | None, handoff: MainThreadHandoff,
                 retries: int = 2, backoff_s: float = 0.5) -> None:
        self._printer = printer
        self._handoff = handoff
        self.retries = retries
        self.backoff_s = backoff_s

    @property
    def available(self) -> bool:
        """A printer is configured and says it can print now (unknown is not "can")."""
        return self._printer is not None and self._printer.status().can_print

    def unavailable_reason(self) -> str:
        if self._printer is None:
            return "本终端未配置打印机"
        status = self._printer.status()
        return "" if status.can_print else (status.reason or "打印机暂时无法使用")

    def submit(self, doc: Document, on_done: Callable[[PrintOutcome], None],
               preview_doc: Document | None = None) -> None:
        """Print in the background; ``on_done(outcome)`` runs on the UI thread.
        ``preview_doc``: what the screen's preview shows instead of the paper (masked)."""
        self._handoff.run_in_worker(self.print_now, doc, preview_doc, on_done=on_done,
                                    on_error=lambda exc: on_done(PrintOutcome(
                                        False, reason=f"打印失败：{exc}", attempts=1)))

    def print_now(self, doc: Document, preview_doc: Document | None = None) -> PrintOutcome:
        """Blocking: for worker threads and command-line tools only."""
        if self._printer is None:
            return PrintOutcome(False, reason="本终端未配置打印机", refused=True)
        attempts = 0
        while True:
            attempts += 1
            try:
                job_id = self._printer.print_document(doc)
            except PrintRefused as exc:
                log.warning("print of %r refused: %s", doc.title, exc.reason)
                return PrintOutcome(False, reason=exc.reason, refused=True, attempts=attempts)
            except PrinterError as exc:
                if attempts > self.retries:
                    log.error("print of %r failed after %d attempts: %s", doc.title,
                              attempts, exc)
                    return PrintOutcome(False, reason=str(exc) or "打印失败", attempts=attempts)
                log.warning("print of %r failed (attempt %d), retrying: %s", doc.title,
                            attempts, exc)
                time.sleep(self.backoff_s * attempts)
                continue
            take_preview = getattr(self._printer, "take_preview", None)
            preview = take_preview(job_id) if callable(take_preview) else b""
            if preview and preview_doc is not None:
                preview = _render_png(preview_doc, self._printer)
            log.info("printed %r as job %s", doc.title, job_id)
            return PrintOutcome(True, job_id=job_id, attempts=attempts, preview=preview)


def _render_png(doc: Document, printer: Printer) -> bytes:
    """A preview PNG of ``doc`` as ``printer`` would print it (same encoder and paper)."""
    from drivers.printer.encoder import EncoderOptions, EscposEncoder
    from drivers.printer.interpreter import render_job

    options = getattr(printer, "options", None) or {}
    width = int(options.get("paper_width_mm", 80))
    data = EscposEncoder(EncoderOptions(paper_width_mm=width)).encode(doc)
    return render_job(data, paper_width_mm=width).png()

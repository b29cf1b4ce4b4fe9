"""In-process fake printer for fast unit tests and the demo terminal.

Options: ``paper`` ("ok", "near_end", "out", "unknown") for the initial state, ``delay``
(seconds a job takes, default 0). Tests call :meth:`FakePrinter.set_status` to simulate paper
out, cover open or an offline printer and :meth:`FakePrinter.fail_next` for a transient error.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from drivers.base import DeviceState
from drivers.options import opt
from drivers.printer.document import Barcode, Cut, Document, Feed, Image, QrCode, Rule, Text
from drivers.printer.encoder import ENCODER_OPTIONS
from drivers.printer.interface import (
    PaperLevel,
    Printer,
    PrinterError,
    PrinterStatus,
    PrinterStatusChanged,
    PrintJobFinished,
    PrintRefused,
)


def render_text(doc: Document, width: int = 32) -> str:
    """Plain-text rendering of ``doc`` (one line per text line), for assertions in tests.

    ``width`` is in half-width columns (a CJK character counts two), 32 for 58 mm paper.
    """
    lines: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Text):
            for line in block.text.split("\n"):
                cols = _columns(line) * block.size
                pad = max(0, width - cols)
                if block.align == "center":
                    line = " " * (pad // 2 // block.size) + line
                elif block.align == "right":
                    line = " " * (pad // block.size) + line
                lines.append(line.rstrip())
        elif isinstance(block, QrCode):
            lines.append(f"[QR {block.data}]")
        elif isinstance(block, Barcode):
            lines.append(f"[{block.symbology} {block.data}]")
        elif isinstance(block, Image):
            lines.append("[IMAGE]")
        elif isinstance(block, Rule):
            lines.append((block.char or "-") * (width // max(1, _columns(block.char or "-"))))
        elif isinstance(block, Feed):
            lines.extend([""] * block.lines)
        elif isinstance(block, Cut):
            lines.append("[CUT]")
    return "\n".join(lines)


def _columns(text: str) -> int:
    return sum(1 if ord(ch) < 0x2E80 else 2 for ch in text)


class FakePrinter(Printer):
    """Records printed documents in :attr:`jobs`."""

    type_name: ClassVar[str] = "fake"
    #: the fake renders through the real encoder, so it takes the encoder's options too
    OPTIONS: ClassVar[Mapping[str, Any]] = {
        **ENCODER_OPTIONS,
        "paper": opt("ok", "paper level at start", choices=tuple(p.value for p in PaperLevel)),
        "delay": opt(0.0, "seconds a job takes", min=0),
        "preview": opt(False, "render every slip for the screen (demo)"),
    }

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)
        paper = PaperLevel(str(self.options.get("paper", "ok")))
        base = PrinterStatus.ok()
        self._status = PrinterStatus(base.online, paper, base.cover_open, base.cutter_error,
                                     base.error)
        if paper is PaperLevel.UNKNOWN:
            self._status = PrinterStatus.unknown()
        self._delay = float(self.options.get("delay", 0.0))
        self._failures = 0
        self._print_lock = threading.Lock()
        self.jobs: list[Document] = []
        self.job_ids: list[str] = []
        #: ``preview`` option: every printed job is also rendered, through the real ESC/POS
        #: encoder and interpreter, to a PNG kept in memory until it is taken once (the demo
        #: shows these slips). Never written to disk: a slip may carry personal data.
        self.preview = bool(self.options.get("preview", False))
        self._previews: dict[str, bytes] = {}

    # -- simulation --------------------------------------------------------------------------
    def set_status(self, status: PrinterStatus) -> None:
        """Simulate a new printer condition (emits PrinterStatusChanged when it changed)."""
        with self._lock:
            changed = status != self._status
            self._status = status
        if changed:
            self._emit(PrinterStatusChanged(self.kind, status=status))
        self._sync_state()

    def fail_next(self, count: int = 1) -> None:
        """Make the next ``count`` jobs fail with :class:`PrinterError` (connection dropped)."""
        with self._lock:
            self._failures = count

    # -- Printer -----------------------------------------------------------------------------
    def status(self) -> PrinterStatus:
        with self._lock:
            return self._status

    def print_document(self, doc: Document) -> str:
        job_id = uuid.uuid4().hex[:12]
        with self._print_lock:
            status = self.status()
            if self.state in (DeviceState.STOPPED, DeviceState.DISABLED):
                reason = "打印机未启动"
            elif not status.can_print:
                reason = status.reason or "打印机不可用"
            else:
                reason = ""
            if reason:
                self._emit(PrintJobFinished(self.kind, job_id=job_id, ok=False, reason=reason))
                raise PrintRefused(reason)
            with self._lock:
                fail = self._failures > 0
                self._failures = max(0, self._failures - 1)
            if fail:
                self._emit(PrintJobFinished(self.kind, job_id=job_id, ok=False,
                                            reason="与打印机的连接中断"))
                raise PrinterError("与打印机的连接中断")
            if self._delay:
                time.sleep(self._delay)
            with self._lock:
                self.jobs.append(doc)
                self.job_ids.append(job_id)
            if self.preview:
                self._render_preview(job_id, doc)
        self._emit(PrintJobFinished(self.kind, job_id=job_id, ok=True))
        return job_id

    def take_preview(self, job_id: str) -> bytes:
        """The PNG of a printed job, handed out once and then forgotten (b"" when off)."""
        with self._lock:
            return self._previews.pop(job_id, b"")

    def _render_preview(self, job_id: str, doc: Document) -> None:
        from drivers.printer.encoder import EncoderOptions, EscposEncoder
        from drivers.printer.interpreter import render_job

        width = int(self.options.get("paper_width_mm", 58))
        data = EscposEncoder(EncoderOptions(paper_width_mm=width)).encode(doc)
        png = render_job(data, paper_width_mm=width).png()
        with self._lock:
            self._previews = {job_id: png}  # only the latest: nothing accumulates

    # -- lifecycle ---------------------------------------------------------------------------
    def _on_start(self) -> None:
        self._emit(PrinterStatusChanged(self.kind, status=self.status()))
        self._sync_state()

    def _on_stop(self) -> None:
        pass

    def _sync_state(self) -> None:
        if self.state in (DeviceState.STOPPED, DeviceState.DISABLED):
            return
        status = self.status()
        self._set_detail(**status.as_detail())
        if status.can_print:
            self._set_state(DeviceState.READY, status.reason)
        else:
            self._set_state(DeviceState.UNAVAILABLE, status.reason)

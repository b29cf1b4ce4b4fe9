"""ESC/POS thermal printers on serial, USB or TCP 9100 (config ``type = "escpos"``).

Options (all optional): ``paper_width_mm`` 58|80, ``encoding`` gb18030|gbk|gbk_fs|utf8,
``font_coverage`` gb2312|gbk|all, ``raster_chars``, ``qr`` native|raster, ``cut``
partial|full, ``init`` (hex), ``baudrate``, ``rtscts``/``dsrdtr``/``xonxoff``,
``poll_interval`` (s, 2), ``status_timeout`` (s, 0.5), ``status_query`` (True; False for a
printer that cannot answer: then nothing is known and jobs are sent blind),
``check_before_print`` (True), ``connect_timeout`` (3), ``write_timeout`` (10),
``backoff_max`` (30), ``silent_polls_before_reconnect`` (3).

Threading: one thread per printer connects (with back-off), then polls ``DLE EOT 1..4``
between jobs. :meth:`EscposPrinter.print_document` runs on the caller's worker thread; both
share the connection under one lock, so a status query never lands in the middle of a job.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from drivers.base import DeviceState
from drivers.options import Opt, opt
from drivers.printer import status as status_codec
from drivers.printer.document import Document
from drivers.printer.encoder import ENCODER_OPTIONS, EncoderOptions, EscposEncoder
from drivers.printer.interface import (
    Printer,
    PrinterError,
    PrinterStatus,
    PrinterStatusChanged,
    PrintJobFinished,
    PrintRefused,
)
from drivers.printer.transport import Transport, TransportError, open_transport

log = logging.getLogger(__name__)

NOT_CONNECTED = "无法连接打印机"
NO_ANSWER = "打印机无响应"


OPTIONS: dict[str, Opt] = {
    **ENCODER_OPTIONS,
    # transport (serial / TCP / USB)
    "baudrate": opt(9600, "serial line speed", min=300, max=921600),
    "rtscts": opt(False), "dsrdtr": opt(False), "xonxoff": opt(False),
    "write_timeout": opt(10.0, min=0.1), "connect_timeout": opt(3.0, min=0.1),
    "in_ep": opt(0x82, "USB endpoint in"), "out_ep": opt(0x01, "USB endpoint out"),
    # status polling and reconnection
    "poll_interval": opt(2.0, min=0.01), "status_timeout": opt(0.5, min=0.01),
    "status_query": opt(True), "check_before_print": opt(True),
    "backoff_initial": opt(0.5, min=0.01), "backoff_max": opt(30.0, min=0.01),
    "silent_polls_before_reconnect": opt(3, min=1),
}


class EscposPrinter(Printer):
    type_name: ClassVar[str] = "escpos"
    OPTIONS: ClassVar[Mapping[str, Any]] = OPTIONS

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)
        self.validate_options(self.options)
        opts = self.options
        self.encoder = EscposEncoder(EncoderOptions.from_options(opts))
        self.poll_interval = float(opts.get("poll_interval", 2.0))
        self.status_timeout = float(opts.get("status_timeout", 0.5))
        self.status_query = bool(opts.get("status_query", True))
        self.check_before_print = bool(opts.get("check_before_print", True))
        self.backoff_initial = float(opts.get("backoff_initial", 0.5))
        self.backoff_max = float(opts.get("backoff_max", 30.0))
        self.silent_limit = int(opts.get("silent_polls_before_reconnect", 3))
        self._transport: Transport = open_transport(url, opts)  # fails early on a bad URL
        self._connected = False
        self._down_reason = NOT_CONNECTED  # why we are not connected, for the state reason
        self._io = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = PrinterStatus.unknown()
        self._silent = 0
        self._connect_failures = 0
        self._set_detail(url=self._transport.description, paper_width_mm=self.encoder.options
                         .paper_width_mm, encoding=self.encoder.options.encoding,
                         **self._status.as_detail())

    # -- Printer -----------------------------------------------------------------------------
    def status(self) -> PrinterStatus:
        with self._lock:
            return self._status

    def print_document(self, doc: Document) -> str:
        job_id = uuid.uuid4().hex[:12]
        if self.state in (DeviceState.STOPPED, DeviceState.DISABLED):
            self._refuse(job_id, "打印机未启动")
        try:
            data = self.encoder.encode(doc)
        except ValueError as exc:
            self._refuse(job_id, f"无法排版：{exc}")
        started = time.monotonic()
        with self._io:
            if not self._connected:
                self._refuse(job_id, self._down_reason)
            if self.status_query:
                current = self._query_locked() if self.check_before_print else self.status()
                if not current.can_print:
                    self._refuse(job_id, current.reason or "打印机不可用")
            try:
                self._transport.write(data)
            except TransportError as exc:
                log.warning("printer: job %s (%s) failed: %s", job_id, doc.title, exc)
                self._down_reason = NOT_CONNECTED
                self._disconnect_locked()
                self._emit(PrintJobFinished(self.kind, job_id=job_id, ok=False,
                                            reason="打印数据发送失败"))
                raise PrinterError("打印数据发送失败") from exc
        log.info("printer: job %s (%s) sent, %d bytes in %.0f ms", job_id, doc.title or "-",
                 len(data), (time.monotonic() - started) * 1000)
        self._emit(PrintJobFinished(self.kind, job_id=job_id, ok=True))
        return job_id

    def _refuse(self, job_id: str, reason: str) -> None:
        self._emit(PrintJobFinished(self.kind, job_id=job_id, ok=False, reason=reason))
        raise PrintRefused(reason)

    def query_status(self) -> PrinterStatus:
        """Ask the printer now (blocking up to ``status_timeout``); for the technician check."""
        with self._io:
            if not self._connected:
                return self.status()
            return self._query_locked()

    # -- lifecycle ---------------------------------------------------------------------------
    def _on_start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="printer-escpos", daemon=True)
        self._thread.start()

    def _on_stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.status_timeout + 10)
            self._thread = None
        with self._io:
            self._disconnect_locked()

    def wait_until(self, predicate: Any, timeout: float) -> bool:
        """Poll ``predicate(self)`` until true or ``timeout`` (for tests and the check tool)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.01)
        return bool(predicate(self))

    # -- the driver's thread -----------------------------------------------------------------
    def _run(self) -> None:
        backoff = self.backoff_initial
        while not self._stop.is_set():
            if not self._connected:
                if not self._connect():
                    self._sleep(backoff)
                    backoff = min(backoff * 2, self.backoff_max)
                    continue
            if not self.status_query:
                self._sleep(self.poll_interval)
                continue
            with self._io:
                status = self._query_locked() if self._connected else None
            if status is not None and status.online is not None:
                backoff = self.backoff_initial
            elif self._silent >= self.silent_limit:
                log.warning("printer: %d status queries unanswered, reconnecting", self._silent)
                with self._io:
                    self._down_reason = NO_ANSWER
                    self._disconnect_locked()
                self._sleep(backoff)
                backoff = min(backoff * 2, self.backoff_max)
                continue
            self._sleep(self.poll_interval)

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _connect(self) -> bool:
        with self._io:
            try:
                self._transport.open()
            except TransportError as exc:
                # log when it becomes unreachable, not on every retry
                log.log(logging.WARNING if self._connect_failures == 0 else logging.DEBUG,
                        "printer: %s (retrying with back-off)", exc)
                self._connect_failures += 1
                self._connected = False
                self._down_reason = NOT_CONNECTED
                self._apply(PrinterStatus.unknown())
                return False
            self._connected = True
            self._silent = 0
            self._connect_failures = 0
            log.info("printer: connected to %s", self._transport.description)
        if not self.status_query:
            self._sync_state()
        return True

    def _disconnect_locked(self) -> None:
        self._transport.close()
        if self._connected:
            self._connected = False
            self._apply(PrinterStatus.unknown())

    def _query_locked(self) -> PrinterStatus:
        """Send ``DLE EOT 1..4`` and decode the replies; caller holds ``_io``."""
        try:
            self._transport.discard_input()
            self._transport.write(status_codec.QUERY)
            replies = self._transport.read(4, self.status_timeout)
        except TransportError as exc:
            log.warning("printer: status query failed: %s", exc)
            self._down_reason = NOT_CONNECTED
            self._disconnect_locked()
            return self.status()
        status = status_codec.decode(replies)
        self._silent = 0 if status.online is not None else self._silent + 1
        self._apply(status)
        return status

    def _apply(self, status: PrinterStatus) -> None:
        with self._lock:
            changed = status != self._status
            self._status = status
        self._set_detail(**status.as_detail())
        if changed:
            self._emit(PrinterStatusChanged(self.kind, status=status))
        self._sync_state()

    def _sync_state(self) -> None:
        if self._stop.is_set() or self.state in (DeviceState.STOPPED, DeviceState.DISABLED):
            return
        status = self.status()
        if not self._connected:
            self._set_state(DeviceState.UNAVAILABLE, self._down_reason)
        elif not self.status_query or status.can_print:
            self._set_state(DeviceState.READY, status.reason if self.status_query else "")
        else:
            self._set_state(DeviceState.UNAVAILABLE, status.reason)

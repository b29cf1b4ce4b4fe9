"""Serial QR / barcode scanners (backend type ``serial``): one code per line.

Config::

    [devices.scanner]
    type = "serial"
    url = "/dev/ttyACM0"             # or socket://127.0.0.1:7010, or a pty path
    options = {baudrate = 9600, suffix = "auto", encoding = "auto"}

One reader thread owns the port (opened with pyserial ``serial_for_url``, 8N1). Bytes go
through :class:`drivers.scanner.framing.LineFramer`, which cuts them into payloads and
resynchronises after noise; each payload is published as :class:`CodeScanned`
(``source="scanner"``). A port that cannot be opened, disappears or fails makes the scanner
UNAVAILABLE; the thread reopens it with exponential back-off and the scanner is READY again
once the port is open. Payloads are never logged (only their length).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

import serial

from drivers.base import DeviceError, DeviceState
from drivers.options import check_options, opt, schema_from_defaults
from drivers.scanner.framing import ENCODINGS, LineFramer, parse_suffix
from drivers.scanner.interface import CodeScanned, Scanner, mask_payload

log = logging.getLogger(__name__)

DEFAULT_OPTIONS: dict[str, Any] = {
    "baudrate": 9600,
    "suffix": "auto",  # auto (CR, LF, CRLF), cr, lf, crlf, tab, etx, none, or a literal
    "encoding": "auto",  # auto (UTF-8, then GB18030), utf-8, gb18030, latin-1
    "max_length": 4096,  # longer lines are dropped as noise
    "gap_s": 0.3,  # a silence this long inside a line discards it (and ends it with "none")
    "aim": False,  # strip an AIM symbology identifier (]Q1...) at the start of each code
    "backoff_initial_s": 0.5,
    "backoff_max_s": 10.0,
    "port_timeout_s": 0.05,  # granularity of the waits inside the thread
}


class PortLike(Protocol):
    def read(self, size: int = 1) -> bytes: ...
    def close(self) -> None: ...
    @property
    def in_waiting(self) -> int: ...


PortFactory = Callable[[str, Mapping[str, Any]], PortLike]


def open_serial(url: str, options: Mapping[str, Any]) -> PortLike:
    """The default port factory: pyserial ``serial_for_url`` at 8N1."""
    return serial.serial_for_url(url, baudrate=int(options["baudrate"]),
                                 timeout=float(options["port_timeout_s"]))


def validated_options(options: Mapping[str, Any], defaults: Mapping[str, Any],
                      who: str) -> dict[str, Any]:
    """Merge ``options`` over ``defaults``, refusing unknown keys and badly typed values
    (strictly: see :mod:`drivers.options`)."""
    return check_options(options, schema_from_defaults(defaults), who)


def framer_from_options(settings: Mapping[str, Any], who: str) -> LineFramer:
    """Build the framer, turning option mistakes into a :class:`DeviceError` that says why."""
    if settings["encoding"] not in ENCODINGS:
        raise DeviceError(f"{who}: encoding must be one of {', '.join(ENCODINGS)}, "
                          f"not {settings['encoding']!r}")
    try:
        return LineFramer(parse_suffix(settings["suffix"]),
                          max_length=int(settings["max_length"]),
                          gap_s=float(settings["gap_s"]), encoding=settings["encoding"],
                          aim=bool(settings["aim"]))
    except ValueError as exc:
        raise DeviceError(f"{who}: {exc}") from exc


class SerialScanner(Scanner):
    """A scanner on a serial line (or any pyserial URL)."""

    type_name: ClassVar[str] = "serial"
    OPTIONS: ClassVar[Mapping[str, Any]] = schema_from_defaults(
        DEFAULT_OPTIONS, baudrate=opt(9600, min=300, max=921600),
        encoding=opt("auto", choices=ENCODINGS), max_length=opt(4096, min=1))

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None,
                 port_factory: PortFactory | None = None) -> None:
        super().__init__(url, options)
        if not url:
            raise DeviceError("scanner/serial needs a url such as /dev/ttyACM0, a pty path or "
                              "socket://host:port")
        self.settings = validated_options(self.options, DEFAULT_OPTIONS, "scanner/serial")
        if self.settings["baudrate"] <= 0 or self.settings["max_length"] < 1:
            raise DeviceError("scanner/serial: baudrate must be > 0 and max_length >= 1")
        self._framer = framer_from_options(self.settings, "scanner/serial")
        self._port_factory = port_factory or open_serial
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: PortLike | None = None
        self._counters = {"scans": 0, "reconnects": 0}
        self._set_detail(url=url, baudrate=self.settings["baudrate"], **self._counters,
                         **self._framer.stats.as_dict())

    # -- lifecycle -----------------------------------------------------------------------------
    def _on_start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scanner-serial", daemon=True)
        self._thread.start()

    def _on_stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)
            if thread.is_alive():  # pragma: no cover - a stuck OS call; reported, not hidden
                log.error("scanner reader thread did not stop within its time-out")
        self._close_port()

    # -- the reader thread ---------------------------------------------------------------------
    def _run(self) -> None:
        backoff = float(self.settings["backoff_initial_s"])
        while not self._stop.is_set():
            try:
                if self._port is None:
                    self._connect()
                    backoff = float(self.settings["backoff_initial_s"])
                self._read_once()
            except (OSError, ValueError) as exc:  # SerialException is an OSError
                self._lost(f"the scanner's port failed: {exc}")
                if self._stop.wait(backoff):
                    break
                backoff = min(backoff * 2, float(self.settings["backoff_max_s"]))
            except Exception:  # a bug must not kill the thread silently; no payload in messages
                log.exception("scanner reader failed unexpectedly")
                self._lost("internal error in the scanner driver")
                if self._stop.wait(backoff):
                    break
        self._close_port()

    def _connect(self) -> None:
        self._close_port()
        self._port = self._port_factory(self.url, self.settings)
        self._framer.reset()
        log.info("scanner connected on %s", self.url)
        self._set_state(DeviceState.READY)

    def _read_once(self) -> None:
        port = self._port
        if port is None:
            return
        waiting = port.in_waiting
        data = port.read(waiting if waiting > 0 else 1)
        now = time.monotonic()
        payloads = self._framer.feed(data, now) if data else self._framer.flush_idle(now)
        if data or payloads:
            self._set_detail(**self._framer.stats.as_dict())
        for payload in payloads:
            self._counters["scans"] += 1
            self._set_detail(scans=self._counters["scans"], last_scan_at=time.time())
            log.debug("scanner read %s", mask_payload(payload))
            self._emit(CodeScanned(self.kind, payload=payload, source="scanner"))

    def _lost(self, reason: str) -> None:
        was_ready = self.state is DeviceState.READY
        self._close_port()
        if was_ready:
            self._counters["reconnects"] += 1
            self._set_detail(reconnects=self._counters["reconnects"])
        self._set_state(DeviceState.UNAVAILABLE, reason)

    def _close_port(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (OSError, ValueError):
                pass

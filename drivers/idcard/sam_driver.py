"""The real reader: a SAM module on a serial line (or anything pyserial opens by URL).

Config::

    idcard:
      type: sam
      url: /dev/ttyUSB0            # or socket://127.0.0.1:7001, or a pty path
      options: {baudrate: 115200, poll_hz: 4, address: true, fingerprint: false}

One polling thread owns the port. Each tick sends FIND; a new card is selected and read once
(text + photo, then the appended address), decoded and published as :class:`IdCardRead`. The
same card is not read again: the presentation ends when FIND stops finding it, which publishes
:class:`IdCardRemoved`. (A real SAM module halts a card it has read, so FIND reports "no card"
right after a read even if the card still lies there; a new presentation means lifting the card
and placing it again.) A card that cannot be read after ``read_attempts`` tries is reported
once with :class:`IdCardReadFailed`.

Port errors, a reader that does not answer and security-module faults make the device
UNAVAILABLE; the thread closes the port and reopens it with exponential back-off, and the device
becomes READY again when the module answers its status command. The SAM id is published in the
health detail. No personal data is ever logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import serial

from drivers.base import DeviceError, DeviceState
from drivers.idcard.client import (
    Cancelled,
    CardError,
    LinkError,
    PortLike,
    ReaderError,
    SamClient,
    SamFault,
)
from drivers.idcard.frames import FrameError, ReplyDataError, Status
from drivers.idcard.interface import IdCardReader
from drivers.options import check_options, opt, schema_from_defaults

log = logging.getLogger(__name__)

DEFAULT_OPTIONS: dict[str, Any] = {
    "baudrate": 115200,
    "poll_hz": 4.0,
    "read_timeout_s": 1.0,  # short commands
    "card_read_timeout_s": 3.0,  # reading a card
    "retries": 2,  # resends of a command whose reply was lost or corrupted
    "read_attempts": 3,  # tries per card presentation before IdCardReadFailed
    "address": True,  # also read the latest appended address (30 03)
    "fingerprint": False,  # read with 30 10 (fingerprint data is not published)
    "validate": True,  # reject data whose ID number fails its check digit
    "backoff_initial_s": 0.5,
    "backoff_max_s": 10.0,
    "port_timeout_s": 0.05,  # granularity of the waits inside the thread
}

PortFactory = Callable[[str, Mapping[str, Any]], PortLike]

_MOVED_AWAY = "the card was moved away before it could be read; place it again and hold it still"
_BAD_DATA = "the card's data failed verification; place it again"


def open_serial(url: str, options: Mapping[str, Any]) -> PortLike:
    """The default port factory: pyserial ``serial_for_url`` at 8N1."""
    return serial.serial_for_url(url, baudrate=int(options["baudrate"]),
                                 timeout=float(options["port_timeout_s"]),
                                 write_timeout=float(options["read_timeout_s"]))


#: the option schema: strict types (a boolean is true or false, never 1 or "yes")
OPTIONS = schema_from_defaults(
    DEFAULT_OPTIONS, baudrate=opt(115200, "the reader's line speed",
                                  choices=(115200, 57600, 38400, 19200, 9600)))


def _validated(options: Mapping[str, Any]) -> dict[str, Any]:
    merged = check_options(options, OPTIONS, "idcard/sam")
    merged = {key: float(value) if isinstance(DEFAULT_OPTIONS[key], float) else value
              for key, value in merged.items()}
    if merged["poll_hz"] <= 0 or merged["read_attempts"] < 1:
        raise DeviceError("idcard/sam: poll_hz must be > 0 and read_attempts >= 1")
    return merged


class SamIdCardReader(IdCardReader):
    """ID card reader speaking the SAM serial protocol (backend type ``sam``)."""

    type_name: ClassVar[str] = "sam"
    OPTIONS: ClassVar[Mapping[str, Any]] = OPTIONS

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        return _validated(options)

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None,
                 port_factory: PortFactory | None = None) -> None:
        super().__init__(url, options)
        if not url:
            raise DeviceError("idcard/sam needs a url such as /dev/ttyUSB0 or socket://host:port")
        self.settings = _validated(self.options)
        self._port_factory = port_factory or open_serial
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: PortLike | None = None
        self._client: SamClient | None = None
        # presentation state, touched only by the polling thread
        self._presented = False
        self._failures = 0
        self._last_failure = ""
        self._counters = {"reads": 0, "read_failures": 0, "reconnects": 0}
        self._set_detail(url=url, baudrate=self.settings["baudrate"], sam_id="", **self._counters)

    # -- lifecycle ---------------------------------------------------------------------------
    def _on_start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="idcard-sam", daemon=True)
        self._thread.start()

    def _on_stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5 + float(self.settings["card_read_timeout_s"]))
            if thread.is_alive():  # pragma: no cover - a stuck OS call; reported, not hidden
                log.error("idcard polling thread did not stop within its time-out")
        self._close_port()
        self._presented = False
        self._failures = 0

    # -- the polling thread ------------------------------------------------------------------
    def _run(self) -> None:
        backoff = float(self.settings["backoff_initial_s"])
        interval = 1.0 / float(self.settings["poll_hz"])
        while not self._stop.is_set():
            try:
                if self._client is None:
                    self._connect()
                    backoff = float(self.settings["backoff_initial_s"])
                self._poll(self._client)
            except Cancelled:
                break
            except (ReaderError, FrameError, OSError, ValueError) as exc:
                self._lost(_reason(exc))
                if self._stop.wait(backoff):
                    break
                backoff = min(backoff * 2, float(self.settings["backoff_max_s"]))
                continue
            except Exception:  # a bug must not kill the thread silently; messages hold no PII
                log.exception("idcard polling failed unexpectedly")
                self._lost("internal error in the ID card driver")
                if self._stop.wait(backoff):
                    break
                continue
            self._stop.wait(interval)
        self._close_port()

    def _connect(self) -> None:
        settings = self.settings
        self._close_port()
        self._port = port = self._port_factory(self.url, settings)
        client = SamClient(port, timeout_s=float(settings["read_timeout_s"]),
                           card_timeout_s=float(settings["card_read_timeout_s"]),
                           retries=int(settings["retries"]), cancel=self._stop)
        try:
            client.status()
        except SamFault:
            client.reset()  # one reset, then the module must report OK
            client.status()
        sam_id = client.sam_id()
        self._client = client
        self._set_detail(sam_id=sam_id)
        log.info("idcard reader connected on %s", self.url)
        self._set_state(DeviceState.READY)

    def _lost(self, reason: str) -> None:
        """The reader went away: close, end any presentation, report UNAVAILABLE."""
        was_ready = self.state is DeviceState.READY
        self._close_port()
        self._end_presentation("the reader stopped working while reading the card")
        if was_ready:
            self._counters["reconnects"] += 1
            self._set_detail(**self._counters)
        self._set_state(DeviceState.UNAVAILABLE, reason)

    def _close_port(self) -> None:
        port, self._port, self._client = self._port, None, None
        if port is not None:
            try:
                port.close()
            except (OSError, ValueError):
                pass

    def _poll(self, client: SamClient | None) -> None:
        if client is None:
            return
        started = time.perf_counter()
        try:
            found = client.find()
        except CardError:
            return  # an odd answer to FIND: try again on the next tick
        if not found:
            self._end_presentation()
            return
        if self._presented:
            return  # this presentation was reported already; wait for the card to leave
        try:
            client.select()
            data = client.read_selected(address=bool(self.settings["address"]),
                                        fingerprint=bool(self.settings["fingerprint"]))
        except CardError as exc:
            final = exc.status is Status.UNKNOWN_CARD_TYPE
            self._attempt_failed(str(exc), final)
            return
        except ReplyDataError as exc:
            # the module did read the card (and has halted it), so a retry cannot succeed
            self._attempt_failed(exc.advice, final=True)
            return
        if self.settings["validate"] and not data.id_number_valid:
            self._attempt_failed(_BAD_DATA, final=True)
            return
        self._presented = True
        self._failures = 0
        self._counters["reads"] += 1
        self._set_detail(last_read_ms=round((time.perf_counter() - started) * 1000, 1),
                         last_card_type=data.card_type.value, **self._counters)
        log.debug("idcard read a %s card", data.card_type.value)
        self._publish_read(data)

    def _attempt_failed(self, reason: str, final: bool) -> None:
        self._failures += 1
        self._last_failure = reason
        log.debug("idcard read attempt %d failed: %s", self._failures, reason)
        if final or self._failures >= int(self.settings["read_attempts"]):
            self._report_failure(reason)

    def _report_failure(self, reason: str) -> None:
        self._presented = True
        self._failures = 0
        self._counters["read_failures"] += 1
        self._set_detail(**self._counters)
        self._publish_failed(reason)

    def _end_presentation(self, failure_reason: str = _MOVED_AWAY) -> None:
        """The card is gone (or the reader is): close the presentation with IdCardRemoved.

        A card that was tried but not yet reported is reported as failed first, so that every
        presentation the UI heard of ends with exactly one IdCardRemoved.
        """
        if not self._presented and self._failures:
            self._report_failure(failure_reason)
        if self._presented:
            self._presented = False
            self._publish_removed()
        self._failures = 0


def _reason(exc: BaseException) -> str:
    """A plain-language reason for the health screen (no personal data reaches here)."""
    if isinstance(exc, LinkError | SamFault):
        return str(exc)
    if isinstance(exc, CardError):
        return f"the reader answered: {exc}"
    if isinstance(exc, OSError | ValueError):
        return f"cannot open the reader's port: {exc}"
    return str(exc) or type(exc).__name__

"""Keyboard-wedge USB scanners read from their Linux input device (backend type ``wedge``).

Config::

    [devices.scanner]
    type = "wedge"
    url = "/dev/input/by-id/usb-Newland_HR22-event-kbd"    # or /dev/input/eventN, evdev:///...
    options = {grab = true, suffix = "enter", alt_codes = "unicode"}

The driver reads ``input_event`` structs in its own thread (never Kivy key events, so a scan
never types into a text field) and, with ``grab`` on, takes the device exclusively
(``EVIOCGRAB``) so that the desktop does not see the keys either. The kiosk user needs read
access to the device (udev rule ``GROUP="input"`` or a dedicated rule for the scanner's
USB id). A device that is missing, unplugged or unreadable makes the scanner UNAVAILABLE; the
thread reopens it with back-off.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import select
import threading
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from drivers.base import DeviceError, DeviceState
from drivers.options import opt, schema_from_defaults
from drivers.scanner import evdev
from drivers.scanner.interface import CodeScanned, Scanner, mask_payload
from drivers.scanner.serial_driver import validated_options

log = logging.getLogger(__name__)

DEFAULT_OPTIONS: dict[str, Any] = {
    "grab": True,  # take the device exclusively so its keys reach nothing else
    "suffix": "enter",  # enter, tab or none (a silence of gap_s ends a code)
    "alt_codes": "unicode",  # Alt+keypad numbers: unicode, gb18030 or off
    "max_length": 4096,
    "gap_s": 0.3,
    "backoff_initial_s": 0.5,
    "backoff_max_s": 10.0,
    "poll_s": 0.05,
}


def device_path(url: str) -> str:
    """``evdev:///dev/input/event3`` or a plain path → the path."""
    if url.startswith("evdev://"):
        return url[len("evdev://"):]
    return url


class WedgeScanner(Scanner):
    """A keyboard-wedge scanner read from ``/dev/input/eventN``."""

    type_name: ClassVar[str] = "wedge"
    OPTIONS: ClassVar[Mapping[str, Any]] = schema_from_defaults(
        DEFAULT_OPTIONS, suffix=opt("enter", choices=("enter", "tab", "none")),
        alt_codes=opt("unicode", choices=("unicode", "gb18030", "off")))

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)
        self.path = device_path(url)
        if not self.path.startswith("/"):
            raise DeviceError("scanner/wedge needs the input device's path, e.g. "
                              "/dev/input/by-id/usb-...-event-kbd or evdev:///dev/input/event3 "
                              "(kiosk-provision lists the keyboards it sees)")
        self.settings = validated_options(self.options, DEFAULT_OPTIONS, "scanner/wedge")
        try:
            self._decoder = evdev.KeyDecoder(
                self.settings["suffix"], max_length=int(self.settings["max_length"]),
                gap_s=float(self.settings["gap_s"]), alt_codes=self.settings["alt_codes"])
        except ValueError as exc:
            raise DeviceError(f"scanner/wedge: {exc}") from exc
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fd: int | None = None
        self._buffer = bytearray()
        self._counters = {"scans": 0, "reconnects": 0}
        self._set_detail(url=self.path, grabbed=False, **self._counters)

    # -- lifecycle -----------------------------------------------------------------------------
    def _on_start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scanner-wedge", daemon=True)
        self._thread.start()

    def _on_stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)
            if thread.is_alive():  # pragma: no cover
                log.error("wedge scanner thread did not stop within its time-out")
        self._close()

    # -- the reader thread ---------------------------------------------------------------------
    def _run(self) -> None:
        backoff = float(self.settings["backoff_initial_s"])
        while not self._stop.is_set():
            try:
                if self._fd is None:
                    self._open()
                    backoff = float(self.settings["backoff_initial_s"])
                self._read_once()
            except OSError as exc:
                self._lost(_reason(exc, self.path))
                if self._stop.wait(backoff):
                    break
                backoff = min(backoff * 2, float(self.settings["backoff_max_s"]))
            except Exception:  # pragma: no cover - a bug must not kill the thread silently
                log.exception("wedge scanner reader failed unexpectedly")
                self._lost("internal error in the wedge scanner driver")
                if self._stop.wait(backoff):
                    break
        self._close()

    def _open(self) -> None:
        self._close()
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        grabbed = False
        if self.settings["grab"]:
            try:
                fcntl.ioctl(fd, evdev.EVIOCGRAB, 1)
                grabbed = True
            except OSError as exc:
                if exc.errno == errno.EBUSY:
                    os.close(fd)
                    raise OSError(errno.EBUSY, "another program holds the scanner "
                                  "exclusively") from exc
                log.warning("cannot grab %s (%s): its keys may also reach the desktop",
                            self.path, exc.strerror)
        self._fd = fd
        self._buffer.clear()
        self._decoder.reset()
        self._set_detail(grabbed=grabbed)
        log.info("wedge scanner opened %s%s", self.path, " (grabbed)" if grabbed else "")
        self._set_state(DeviceState.READY)

    def _read_once(self) -> None:
        fd = self._fd
        if fd is None:
            return
        ready, _, _ = select.select([fd], [], [], float(self.settings["poll_s"]))
        now = time.monotonic()
        if not ready:
            self._publish(self._decoder.flush_idle(now))
            return
        try:
            data = os.read(fd, evdev.EVENT_SIZE * 64)
        except BlockingIOError:
            return
        if not data:
            raise OSError(errno.ENODEV, "the input device was closed")
        self._buffer += data
        self._publish(self._decoder.feed(evdev.parse_events(self._buffer), now))

    def _publish(self, payloads: list[str]) -> None:
        for payload in payloads:
            self._counters["scans"] += 1
            self._set_detail(scans=self._counters["scans"], last_scan_at=time.time(),
                             noise=self._decoder.stats.noise,
                             overlong=self._decoder.stats.overlong)
            log.debug("wedge scanner read %s", mask_payload(payload))
            self._emit(CodeScanned(self.kind, payload=payload, source="scanner"))

    def _lost(self, reason: str) -> None:
        was_ready = self.state is DeviceState.READY
        self._close()
        if was_ready:
            self._counters["reconnects"] += 1
            self._set_detail(reconnects=self._counters["reconnects"])
        self._set_state(DeviceState.UNAVAILABLE, reason)

    def _close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)  # closing also ends the grab
            self._set_detail(grabbed=False)


def _reason(exc: OSError, path: str) -> str:
    if exc.errno == errno.ENOENT:
        return f"no input device at {path}: is the scanner plugged in?"
    if exc.errno == errno.EACCES:
        return (f"no permission to read {path}: add the kiosk user to the 'input' group or "
                "install the udev rule for the scanner")
    if exc.errno == errno.ENODEV:
        return "the scanner was unplugged"
    return f"reading {path} failed: {exc.strerror or exc}"

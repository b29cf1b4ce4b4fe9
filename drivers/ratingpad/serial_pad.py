"""The serial rating pad (backend type ``serial``): reference protocol or a vendor adapter.

Config::

    ratingpad:
      type: serial
      url: /dev/ttyUSB1                  # or socket://127.0.0.1:7002, or a pty path
      options: {vendor: reference}       # or legacy4, five, or a full adapter:
      # options: {protocol: bytes, baudrate: 9600, address: 1,
      #           keymap: {"0x01": very_satisfied, ..., "0x00": none}}
      # options: {protocol: lines, keymap: {"K1": very_satisfied, ...}}

One thread owns the port: it decodes presses (published only while armed: the base class
gate), sends the prompt light on/off of reference pads, and pings a reference pad every
``heartbeat_s`` (no PONG within ``reply_timeout_s`` = UNAVAILABLE). Port errors make the pad
UNAVAILABLE; the thread reopens it with exponential back-off. A repeated KEY frame (same
sequence number) and a bounce of the same key within ``debounce_s`` count once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

from drivers.base import DeviceError, DeviceState
from drivers.options import Opt, check_options, opt, schema_from_defaults
from drivers.ratingpad import protocol as rp
from drivers.ratingpad.interface import RatingPad

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "vendor": "",
    "protocol": "reference",
    "baudrate": 9600,
    "bytesize": 8,
    "parity": "N",
    "stopbits": 1,
    "address": None,
    "keymap": None,
    "debounce_s": 0.3,
    "heartbeat_s": 5.0,
    "reply_timeout_s": 1.0,
    "backoff_initial_s": 0.5,
    "backoff_max_s": 10.0,
    "port_timeout_s": 0.05,
}


class PortLike(Protocol):
    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes) -> int | None: ...
    def close(self) -> None: ...


PortFactory = Callable[[str, Mapping[str, Any]], PortLike]


def open_serial(url: str, settings: Mapping[str, Any]) -> PortLike:
    import serial  # the [serial] extra

    return serial.serial_for_url(url, baudrate=int(settings["baudrate"]),
                                 bytesize=int(settings["bytesize"]),
                                 parity=str(settings["parity"]).upper(),
                                 stopbits=settings["stopbits"],
                                 timeout=float(settings["port_timeout_s"]), write_timeout=1.0)


#: the option schema (keymap and address are checked further by :func:`resolve_options`)
OPTIONS = schema_from_defaults(
    DEFAULTS, vendor=opt("", "a vendor preset"), protocol=opt("reference", choices=(
        "reference", "bytes", "lines")), baudrate=opt(9600, min=300, max=921600),
    bytesize=opt(8, choices=(5, 6, 7, 8)), parity=opt("N", choices=("N", "E", "O")),
    stopbits=Opt((int, float), 1, choices=(1, 1.5, 2)),
    address=Opt((int, str), None, "pad address (number or hex text)", nullable=True),
    keymap=Opt((dict,), None, "key byte or line → level", nullable=True))


def resolve_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Merge defaults, the vendor preset and explicit options; check everything."""
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise DeviceError(f"unknown ratingpad/serial option(s) {', '.join(unknown)}; known: "
                          f"{', '.join(DEFAULTS)}")
    vendor = str(options.get("vendor") or "")
    if vendor and vendor not in rp.VENDOR_PRESETS:
        raise DeviceError(f"ratingpad vendor {vendor!r} unknown; presets: "
                          f"{', '.join(rp.VENDOR_PRESETS)} (or give protocol and keymap)")
    merged = {**DEFAULTS, **(rp.VENDOR_PRESETS.get(vendor, {})), **options}
    if merged["protocol"] not in ("reference", "bytes", "lines"):
        raise DeviceError(f"ratingpad protocol {merged['protocol']!r}: reference, bytes or lines")
    if str(merged["parity"]).upper() not in ("N", "E", "O"):
        raise DeviceError("ratingpad parity: N, E or O")
    try:
        for key in ("debounce_s", "heartbeat_s", "reply_timeout_s", "backoff_initial_s",
                    "backoff_max_s", "port_timeout_s"):
            merged[key] = float(merged[key])
        merged["baudrate"] = int(merged["baudrate"])
        if merged["address"] is not None:
            merged["address"] = rp.parse_key(merged["address"])
        if merged["protocol"] == "bytes":
            merged["keymap"] = rp.parse_keymap(merged["keymap"] or {})
        elif merged["protocol"] == "lines":
            merged["keymap"] = rp.parse_line_keymap(merged["keymap"] or {})
    except (rp.ProtocolError, TypeError, ValueError) as exc:
        raise DeviceError(f"ratingpad/serial: {exc}") from exc
    if merged["protocol"] == "reference" and merged["address"] is None:
        merged["address"] = 1
    return merged


class SerialRatingPad(RatingPad):
    type_name: ClassVar[str] = "serial"
    OPTIONS: ClassVar[Mapping[str, Any]] = OPTIONS

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        check_options(options, OPTIONS, "ratingpad/serial")
        return resolve_options(options)

    def __init__(self, url: str = "", options: Mapping[str, Any] | None = None,
                 port_factory: PortFactory | None = None) -> None:
        super().__init__(url, options)
        if not url:
            raise DeviceError("ratingpad/serial needs a url such as /dev/ttyUSB1")
        self.settings = resolve_options(self.options)
        self._port_factory = port_factory or open_serial
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._outgoing: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._counters = {"presses": 0, "ignored": 0, "bad_bytes": 0, "reconnects": 0}
        self._set_detail(url=url, protocol=self.settings["protocol"], firmware="",
                         **self._counters)

    # -- lifecycle -------------------------------------------------------------------------------
    def _on_start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ratingpad-serial", daemon=True)
        self._thread.start()

    def _on_stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(5.0)
            if thread.is_alive():  # pragma: no cover - a stuck OS call
                log.error("rating pad thread did not stop within 5 s")

    def _on_arm(self, armed: bool) -> None:
        if self.settings["protocol"] == "reference":
            cmd = rp.Cmd.PROMPT_ON if armed else rp.Cmd.PROMPT_OFF
            self._outgoing.put(rp.encode(self.settings["address"], cmd))

    # -- the port thread -------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = self.settings["backoff_initial_s"]
        while not self._stop.is_set():
            port = None
            try:
                port = self._port_factory(self.url, self.settings)
                self._serve(port)
                backoff = self.settings["backoff_initial_s"]
            except (OSError, ValueError, TimeoutError) as exc:
                was_ready = self.state is DeviceState.READY
                self._set_state(DeviceState.UNAVAILABLE, f"rating pad: {exc}")
                if was_ready:
                    self._counters["reconnects"] += 1
                    self._set_detail(**self._counters)
            except Exception as exc:  # a bug must not kill the thread silently
                log.exception("rating pad thread failed")
                self._set_state(DeviceState.UNAVAILABLE, f"internal error: {exc}")
            finally:
                if port is not None:
                    try:
                        port.close()
                    except (OSError, ValueError):
                        pass
            if self._stop.wait(backoff):
                break
            backoff = min(backoff * 2, self.settings["backoff_max_s"])

    def _serve(self, port: PortLike) -> None:
        """Talk to an open port until stopped (returns) or it fails (raises)."""
        reference = self.settings["protocol"] == "reference"
        addr = self.settings["address"]
        decoder: Any
        if reference:
            decoder = rp.FrameParser()
        elif self.settings["protocol"] == "bytes":
            decoder = rp.ByteDecoder(self.settings["keymap"], addr)
        else:
            decoder = rp.LineDecoder(self.settings["keymap"])
        last_seq: int | None = None
        last_press: tuple[str, float] | None = None
        ping_due = 0.0
        pong_deadline: float | None = None
        if reference:
            port.write(rp.encode(addr, rp.Cmd.PING))
            pong_deadline = time.monotonic() + self.settings["reply_timeout_s"]
            if self.armed:  # re-arm after a reconnect
                self._outgoing.put(rp.encode(addr, rp.Cmd.PROMPT_ON))
        else:
            self._set_state(DeviceState.READY)
        while not self._stop.is_set():
            while True:
                try:
                    port.write(self._outgoing.get_nowait())
                except queue.Empty:
                    break
            data = port.read(64)
            now = time.monotonic()
            if data:
                items = decoder.feed(data)
                for item in items:
                    if isinstance(item, rp.Frame):
                        if item.addr not in (addr, rp.BROADCAST):
                            continue
                        if item.cmd == rp.Cmd.PONG:
                            pong_deadline = None
                            ping_due = now + self.settings["heartbeat_s"]
                            self._set_detail(firmware=item.data.decode("ascii", "replace"))
                            self._set_state(DeviceState.READY)
                        elif item.cmd == rp.Cmd.KEY and len(item.data) == 2:
                            seq = item.data[1]
                            port.write(rp.encode(addr, rp.Cmd.KEY_ACK, bytes((seq,))))
                            level = rp.REFERENCE_KEYS.get(item.data[0])
                            if seq == last_seq or level is None:
                                continue
                            last_seq = seq
                            last_press = self._press(level, now, last_press)
                    else:
                        last_press = self._press(item.level, now, last_press)
                bad = getattr(decoder, "dropped", 0) + getattr(decoder, "unknown", 0)
                if bad != self._counters["bad_bytes"]:
                    self._counters["bad_bytes"] = bad
                    self._set_detail(**self._counters)
            if reference:
                if pong_deadline is not None and now > pong_deadline:
                    raise TimeoutError("no answer to PING (unplugged or wrong port/baud rate)")
                if pong_deadline is None and now >= ping_due:
                    port.write(rp.encode(addr, rp.Cmd.PING))
                    pong_deadline = now + self.settings["reply_timeout_s"]

    def _press(self, level: str, now: float, last: tuple[str, float] | None
               ) -> tuple[str, float]:
        if last is not None and last[0] == level and now - last[1] < self.settings["debounce_s"]:
            return last  # a bounce of the same key
        if self._key_pressed(level):
            self._counters["presses"] += 1
        else:
            self._counters["ignored"] += 1  # no prompt open
        self._set_detail(**self._counters)
        return level, now

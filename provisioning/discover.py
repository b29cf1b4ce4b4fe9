"""``kiosk-provision discover``: what is attached to this terminal, found safely.

Lists serial ports (plus the paths given with ``--port``, so a pseudo-terminal or a TCP bridge
can be probed), PC/SC readers, V4L2 cameras and USB printers, and probes each serial port with
the drivers' own detection, printer first because its probe is harmless to everything:

1. the printer's real-time status ``DLE EOT 1..4`` (:data:`drivers.printer.status.QUERY`): four
   valid status bytes back mean an ESC/POS printer (random noise passes with odds of 1 in 65536);
2. the ID card reader's SAM status command ``11 FF`` (:class:`drivers.idcard.client.SamClient`)
   at each of its baud rates: a well-formed, checksummed reply means a SAM reader.

A port that answers neither is an "unknown serial device" (scanners and rating pads talk only
when used). Each port has a time limit; a port is opened exclusively (a port in use by the
kiosk is skipped, not disturbed) and its terminal settings are put back afterwards.
"""

from __future__ import annotations

import contextlib
import glob
import os
import sys
import termios
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: the SAM module's baud rates, most common first (PROTOCOLS.md §1)
SAM_BAUDRATES = (115200, 57600, 38400, 19200, 9600)
#: receipt printers' usual serial speeds
PRINTER_BAUDRATES = (9600, 19200, 38400, 115200)
ATTEMPT_TIMEOUT_S = 0.25


@dataclass
class Found:
    """One thing found: where, what, and how the config should address it."""

    port: str
    kind: str  # idcard, printer, smartcard, camera, unknown, unavailable
    type: str = ""  # the backend type for devices.<kind>.type ("" when unknown)
    baudrate: int | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Progress = Callable[[str], None]


def _url(port: str) -> str:
    """A pyserial URL: tcp:// (a printer's 9100) is pyserial's socket://."""
    return "socket://" + port[len("tcp://"):] if port.startswith("tcp://") else port


@contextlib.contextmanager
def _settings_kept(port: str) -> Iterator[None]:
    """Put a tty's termios settings back after the probe (pyserial leaves them changed)."""
    fd = -1
    saved = None
    if port.startswith("/"):
        try:
            fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            saved = termios.tcgetattr(fd)
        except (OSError, termios.error):
            saved = None
    try:
        yield
    finally:
        if fd >= 0:
            if saved is not None:
                with contextlib.suppress(OSError, termios.error):
                    termios.tcsetattr(fd, termios.TCSANOW, saved)
            os.close(fd)


def _open(port: str, baudrate: int) -> Any:
    import serial

    kwargs: dict[str, Any] = {"baudrate": baudrate, "timeout": 0.02, "write_timeout": 0.5}
    if port.startswith("/"):
        kwargs["exclusive"] = True
    return serial.serial_for_url(_url(port), **kwargs)


def _read_for(link: Any, seconds: float, enough: int) -> bytes:
    data = bytearray()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(data) < enough:
        data += link.read(max(1, enough - len(data)))
    return bytes(data)


def _probe_printer(link: Any) -> tuple[bool, int]:
    """(is a printer, bytes heard) after ``DLE EOT 1..4``."""
    from drivers.printer import status

    link.reset_input_buffer()
    link.write(status.QUERY)
    link.flush()
    replies = _read_for(link, ATTEMPT_TIMEOUT_S, 4)
    extra = _read_for(link, 0.05, 64)  # a printer says exactly four bytes, noise goes on
    ok = len(replies) == 4 and not extra and all(status.is_status_byte(b) for b in replies)
    return ok, len(replies) + len(extra)


def _printer_detail(link: Any) -> str:
    from drivers.printer import status

    link.reset_input_buffer()
    link.write(status.QUERY)
    link.flush()
    state = status.decode(_read_for(link, ATTEMPT_TIMEOUT_S, 4))
    paper = getattr(state.paper, "value", str(state.paper))
    return f"ESC/POS status answered: paper {paper}, {'online' if state.online else 'offline'}"


def _probe_sam(link: Any) -> str | None:
    """The SAM id when a reader answers the status command, else None."""
    from drivers.idcard.client import LinkError, ReaderError, SamClient
    from drivers.idcard.frames import Command

    client = SamClient(link, timeout_s=ATTEMPT_TIMEOUT_S, retries=0)
    try:
        reply = client.transact(Command.STATUS)
    except LinkError:
        return None
    try:
        sam_id = client.sam_id()
    except ReaderError:
        sam_id = "?"
    return f"SAM status {reply.sw3:02X}, SAM id {sam_id}"


def probe_port(port: str, time_limit_s: float = 4.0, progress: Progress | None = None) -> Found:
    """Find out what answers on one serial port (path or URL), within ``time_limit_s``."""
    say = progress or (lambda _text: None)
    deadline = time.monotonic() + time_limit_s
    heard = 0
    is_socket = port.startswith(("socket://", "tcp://"))
    printer_rates = (PRINTER_BAUDRATES[0],) if is_socket else PRINTER_BAUDRATES
    sam_rates = (SAM_BAUDRATES[0],) if is_socket else SAM_BAUDRATES
    attempts = [("printer", rate) for rate in printer_rates] + \
               [("idcard", rate) for rate in sam_rates]
    with _settings_kept(port):
        for kind, rate in attempts:
            if time.monotonic() > deadline:
                return Found(port, "unknown", detail="time limit reached before every probe "
                             f"was tried (heard {heard} bytes)")
            say(f"{port}: {'printer status' if kind == 'printer' else 'SAM status'} at {rate}")
            try:
                link = _open(port, rate)
            except Exception as exc:  # serial.SerialException, OSError, ValueError
                reason = str(exc)
                if "lock" in reason.lower() or "busy" in reason.lower():
                    reason = f"in use by another program (is the kiosk running?): {reason}"
                return Found(port, "unavailable", detail=reason)
            try:
                if kind == "printer":
                    ok, count = _probe_printer(link)
                    heard += count
                    if ok:
                        return Found(port, "printer", "escpos",
                                     None if is_socket else rate, _printer_detail(link))
                else:
                    detail = _probe_sam(link)
                    if detail is not None:
                        return Found(port, "idcard", "sam", None if is_socket else rate,
                                     detail)
                    heard += len(_read_for(link, 0.0, 1))
            except OSError as exc:
                return Found(port, "unavailable", detail=f"port error: {exc}")
            finally:
                link.close()
    if heard:
        return Found(port, "unknown", detail=f"unknown serial device: answers, but neither as "
                     f"an ID card reader nor as a printer ({heard} bytes not understood)")
    return Found(port, "unknown", detail="unknown serial device: no answer (a scanner or a "
                 "rating pad only talks when it is used: try `kiosk-provision test scanner`)")


# -- inventories without probing ---------------------------------------------------------------
def serial_ports() -> list[str]:
    try:
        from serial.tools import list_ports
    except ImportError:
        return []
    return sorted(port.device for port in list_ports.comports())


def pcsc_readers() -> list[Found]:
    try:
        from smartcard.System import readers
    except ImportError:
        return [Found("pcsc", "unavailable", detail="pyscard is not installed")]
    try:
        names = [str(reader) for reader in readers()]
    except Exception as exc:  # pcscd not running
        return [Found("pcsc", "unavailable", detail=f"cannot ask pcscd: {exc}")]
    return [Found(name, "smartcard", "pcsc", detail="PC/SC reader") for name in names]


def cameras(root: str = "/dev") -> list[Found]:
    found = []
    for path in sorted(glob.glob(os.path.join(root, "video*"))):
        name_file = Path("/sys/class/video4linux") / Path(path).name / "name"
        try:
            name = name_file.read_text(encoding="utf-8").strip()
        except OSError:
            name = ""
        found.append(Found(path, "camera", "opencv", detail=name or "V4L2 device"))
    return found


def usb_printers() -> list[Found]:
    found = [Found(path, "printer", "escpos", detail="USB printer class device (usblp)")
             for path in sorted(glob.glob("/dev/usb/lp*"))]
    try:
        import usb.core

        for device in usb.core.find(find_all=True) or []:
            classes = {intf.bInterfaceClass for cfg in device for intf in cfg}
            if 7 in classes:  # USB printer class
                found.append(Found(f"usb://0x{device.idVendor:04x}:0x{device.idProduct:04x}",
                                   "printer", "escpos", detail="USB printer class interface"))
    except Exception:  # pyusb or libusb missing, no permission: the usblp list stands
        pass
    return found


def discover(ports: list[str], scan_system: bool = True, time_limit_s: float = 4.0,
             progress: Progress | None = None) -> list[Found]:
    """Everything found: probed serial ports first, then readers, cameras, USB printers."""
    wanted = list(dict.fromkeys([*(serial_ports() if scan_system else []), *ports]))
    results = [probe_port(port, time_limit_s, progress) for port in wanted]
    if scan_system:
        results += pcsc_readers() + cameras() + usb_printers()
    return results


def run(ports: list[str], as_json: bool, scan_system: bool = True,
        time_limit_s: float = 4.0) -> int:
    import json

    def progress(text: str) -> None:
        print(f"… {text}", file=sys.stderr, flush=True)

    results = discover(ports, scan_system, time_limit_s, progress)
    if as_json:
        print(json.dumps([item.as_dict() for item in results], ensure_ascii=False, indent=1))
        return 0
    if not results:
        print("nothing found")
    for item in results:
        rate = f" @{item.baudrate}" if item.baudrate else ""
        print(f"{item.port:28} {item.kind:11} {item.type or '-':7}{rate:8} {item.detail}")
    return 0

"""Byte pipes to a printer, chosen by URL.

- ``tcp://host:9100``: a network printer (raw port 9100), plain sockets.
- ``usb://0x0416:0x5011``: a USB printer through python-escpos' ``Usb`` class (needs pyusb).
- anything else is a pyserial URL: ``/dev/ttyUSB0``, a pty path, ``socket://``, ``rfc2217://``,
  ``loop://``; options ``baudrate`` (9600), ``rtscts``, ``dsrdtr``, ``xonxoff``.

Every transport reads with a deadline, so that a printer that never answers a status query
costs ``timeout`` seconds and nothing more.
"""

from __future__ import annotations

import importlib.util
import socket
import time
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from drivers.base import DeviceError


class TransportError(Exception):
    """The connection failed or dropped (the driver reconnects with back-off)."""


class Transport(Protocol):
    description: str

    def open(self) -> None: ...

    def write(self, data: bytes) -> None: ...

    def read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes, returning early when they arrived, at the deadline otherwise."""
        ...

    def discard_input(self) -> None: ...

    def close(self) -> None: ...


class TcpTransport:
    def __init__(self, host: str, port: int, connect_timeout: float = 3.0,
                 write_timeout: float = 10.0) -> None:
        self.host, self.port = host, port
        self.connect_timeout, self.write_timeout = connect_timeout, write_timeout
        self.description = f"tcp://{host}:{port}"
        self._sock: socket.socket | None = None

    def open(self) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), self.connect_timeout)
        except OSError as exc:
            raise TransportError(f"cannot connect to {self.description}: {exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self._sock = sock

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise TransportError("not connected")
        return self._sock

    def write(self, data: bytes) -> None:
        sock = self._socket()
        try:
            sock.settimeout(self.write_timeout)
            sock.sendall(data)
        except OSError as exc:
            raise TransportError(f"write to {self.description} failed: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        sock = self._socket()
        out = bytearray()
        deadline = time.monotonic() + timeout
        try:
            while len(out) < size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                sock.settimeout(remaining)
                try:
                    chunk = sock.recv(size - len(out))
                except TimeoutError:
                    break
                if not chunk:
                    raise TransportError(f"{self.description} closed the connection")
                out += chunk
        except OSError as exc:
            raise TransportError(f"read from {self.description} failed: {exc}") from exc
        return bytes(out)

    def discard_input(self) -> None:
        sock = self._socket()
        try:
            sock.setblocking(False)
            while True:
                try:
                    chunk = sock.recv(4096)
                except BlockingIOError:
                    return
                if not chunk:
                    raise TransportError(f"{self.description} closed the connection")
        except OSError as exc:
            raise TransportError(f"read from {self.description} failed: {exc}") from exc
        finally:
            if self._sock is not None:
                self._sock.setblocking(True)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class SerialTransport:
    def __init__(self, url: str, baudrate: int = 9600, rtscts: bool = False,
                 dsrdtr: bool = False, xonxoff: bool = False, write_timeout: float = 10.0) -> None:
        self.url = url
        self.settings = {"baudrate": baudrate, "rtscts": rtscts, "dsrdtr": dsrdtr,
                         "xonxoff": xonxoff, "write_timeout": write_timeout}
        self.description = url
        self._port: Any = None

    def open(self) -> None:
        import serial  # lazily: only serial printers need pyserial

        try:
            self._port = serial.serial_for_url(self.url, timeout=0, **self.settings)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportError(f"cannot open {self.url}: {exc}") from exc

    def _serial(self) -> Any:
        if self._port is None:
            raise TransportError("not connected")
        return self._port

    def write(self, data: bytes) -> None:
        import serial

        port = self._serial()
        try:
            port.write(data)
            port.flush()
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f"write to {self.url} failed: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        import serial

        port = self._serial()
        out = bytearray()
        deadline = time.monotonic() + timeout
        try:
            while len(out) < size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                port.timeout = remaining
                out += port.read(size - len(out))
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f"read from {self.url} failed: {exc}") from exc
        return bytes(out)

    def discard_input(self) -> None:
        import serial

        try:
            self._serial().reset_input_buffer()
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f"{self.url}: {exc}") from exc

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:  # closing a vanished device must not raise
                pass


class UsbTransport:
    """USB printer class devices through python-escpos (bulk endpoints, pyusb)."""

    def __init__(self, vendor: int, product: int, in_ep: int = 0x82, out_ep: int = 0x01,
                 timeout_ms: int = 10000, backend: Any = None) -> None:
        """``backend``: a pyusb backend (default: libusb found by pyusb; tests pass
        :class:`drivers.printer.usb_emulator.EmulatedUsbBackend`)."""
        if importlib.util.find_spec("usb") is None:
            raise DeviceError("USB printers need pyusb: pip install 'aishandong-kiosk[printer]' "
                              "(and the system's libusb-1.0)")
        self.vendor, self.product, self.in_ep, self.out_ep = vendor, product, in_ep, out_ep
        self.timeout_ms = timeout_ms
        self.backend = backend
        self.description = f"usb://{vendor:#06x}:{product:#06x}"
        self._printer: Any = None

    def open(self) -> None:
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Usb

        printer = Usb(self.vendor, self.product, timeout=self.timeout_ms, in_ep=self.in_ep,
                      out_ep=self.out_ep,
                      usb_args={"backend": self.backend} if self.backend is not None else {})
        try:
            printer.open()
        except DeviceNotFoundError as exc:
            raise TransportError(f"{self.description} not found") from exc
        self._printer = printer

    def _device(self) -> Any:
        if self._printer is None or not self._printer.device:
            raise TransportError("not connected")
        return self._printer.device

    def write(self, data: bytes) -> None:
        import usb.core

        try:
            self._device().write(self.out_ep, data, self.timeout_ms)
        except usb.core.USBError as exc:
            raise TransportError(f"write to {self.description} failed: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        import usb.core

        try:
            return bytes(self._device().read(self.in_ep, size, max(1, int(timeout * 1000))))
        except usb.core.USBTimeoutError:
            return b""
        except usb.core.USBError as exc:
            raise TransportError(f"read from {self.description} failed: {exc}") from exc

    def discard_input(self) -> None:
        while self.read(64, 0.001):
            pass

    def close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            try:
                printer.close()
            except Exception:  # the device may be gone already
                pass


def open_transport(url: str, options: Mapping[str, Any] | None = None) -> Transport:
    """Build (not open) the transport for ``url``."""
    options = options or {}
    write_timeout = float(options.get("write_timeout", 10.0))
    parts = urlsplit(url)
    if parts.scheme == "tcp":
        if not parts.hostname:
            raise DeviceError(f"printer URL {url!r} has no host")
        return TcpTransport(parts.hostname, parts.port or 9100,
                            float(options.get("connect_timeout", 3.0)), write_timeout)
    if parts.scheme == "usb":
        vendor, _, product = parts.netloc.partition(":")
        try:
            ids = int(vendor, 16), int(product, 16)
        except ValueError:
            raise DeviceError(f"printer URL {url!r}: expected usb://0xVVVV:0xPPPP") from None
        return UsbTransport(*ids, in_ep=int(options.get("in_ep", 0x82)),
                            out_ep=int(options.get("out_ep", 0x01)),
                            timeout_ms=int(write_timeout * 1000))
    if not url:
        raise DeviceError("the escpos printer needs a url (tcp://…, usb://…, or a serial port)")
    return SerialTransport(url, int(options.get("baudrate", 9600)),
                           bool(options.get("rtscts", False)), bool(options.get("dsrdtr", False)),
                           bool(options.get("xonxoff", False)), write_timeout)

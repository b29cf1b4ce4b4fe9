"""Scanner emulators: a serial scanner on a pseudo-terminal or TCP, and a keyboard-wedge scanner
feeding ``input_event`` structs into a FIFO.

:class:`PtyScannerEmulator` opens a pty (raw, so every byte arrives as sent) and publishes it
under a stable symlink (:attr:`url`), as udev does for ``/dev/serial/by-id/...``. ``unplug()``
closes the pty and removes the link (the driver's reads fail and reopening fails until
``plug()`` makes a new pty behind the same link). :class:`TcpScannerEmulator` serves the same
bytes to every client of a 127.0.0.1 port (pyserial ``socket://`` URL).

:class:`WedgeEmulator` writes Linux ``input_event`` structs for a text into a FIFO that the
wedge driver opens like ``/dev/input/eventN``.

From a shell (for technicians)::

    python -m drivers.scanner.emulator --pty            # prints the path to configure
    python -m drivers.scanner.emulator --tcp 127.0.0.1:7010

then type a code per line (it is sent with CR LF), or ``noise``, ``quit``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import socket
import sys
import tempfile
import termios
import threading
import time
import tty

from drivers.base import DeviceEvent, DeviceState, DeviceStateChanged
from drivers.scanner import evdev
from drivers.scanner.interface import CodeScanned

CRLF = b"\r\n"


def encode_scan(payload: str, suffix: bytes = CRLF, encoding: str = "utf-8") -> bytes:
    return payload.encode(encoding) + suffix


class PtyScannerEmulator:
    """A serial scanner behind a pseudo-terminal. ``send()`` writes raw bytes, ``scan()`` a code."""

    def __init__(self, link_dir: str | None = None, name: str = "ttyScanner") -> None:
        self._own_dir = link_dir is None
        self._dir = link_dir or tempfile.mkdtemp(prefix="kiosk-scanner-")
        self.url = os.path.join(self._dir, name)
        self._lock = threading.Lock()
        self._master: int | None = None
        self._slave: int | None = None
        self.slave_path = ""

    def start(self) -> PtyScannerEmulator:
        self.plug()
        return self

    def plug(self) -> None:
        """Attach a new pty behind :attr:`url` (the scanner is plugged in)."""
        with self._lock:
            if self._master is not None:
                return
            master, slave = os.openpty()
            tty.setraw(slave)
            attrs = termios.tcgetattr(slave)
            attrs[4] = attrs[5] = termios.B9600
            termios.tcsetattr(slave, termios.TCSANOW, attrs)
            self._master, self._slave = master, slave
            self.slave_path = os.ttyname(slave)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.url)
            os.symlink(self.slave_path, self.url)

    def unplug(self) -> None:
        """Close the pty and remove the link, as when the USB cable is pulled."""
        with self._lock:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.url)
            for fd in (self._master, self._slave):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._master = self._slave = None

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def send(self, data: bytes, chunk: int = 0, gap_s: float = 0.0) -> None:
        """Write raw bytes, optionally in ``chunk``-byte pieces ``gap_s`` apart."""
        with self._lock:
            master = self._master
        if master is None:
            raise OSError("the emulated scanner is unplugged")
        pieces = [data] if chunk <= 0 else [data[i:i + chunk] for i in range(0, len(data), chunk)]
        for i, piece in enumerate(pieces):
            view = memoryview(piece)
            deadline = time.monotonic() + 2.0
            while view:
                try:
                    written = os.write(master, view)
                except BlockingIOError:  # pragma: no cover - the pty buffer is full
                    written = 0
                if written == 0 and time.monotonic() > deadline:  # pragma: no cover
                    raise TimeoutError("nobody reads the emulated scanner's pty")
                view = view[written:]
            if gap_s and i < len(pieces) - 1:
                time.sleep(gap_s)

    def scan(self, payload: str, suffix: bytes = CRLF, encoding: str = "utf-8") -> None:
        self.send(encode_scan(payload, suffix, encoding))

    def stop(self) -> None:
        self.unplug()
        if self._own_dir:
            with contextlib.suppress(OSError):
                os.rmdir(self._dir)

    def __enter__(self) -> PtyScannerEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TcpScannerEmulator:
    """A serial-over-TCP scanner (``socket://127.0.0.1:PORT``): bytes go to every client."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = socket.create_server((host, port))
        self._server.settimeout(0.1)
        self.host, self.port = self._server.getsockname()[:2]
        self.url = f"socket://{self.host}:{self.port}"
        self._clients: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="scanner-emu-tcp", daemon=True)
        self.connected = threading.Event()

    def start(self) -> TcpScannerEmulator:
        self._thread.start()
        return self

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._clients.append(conn)
            self.connected.set()

    def send(self, data: bytes) -> int:
        """Send to every connected client; returns how many received it."""
        sent = 0
        with self._lock:
            for conn in list(self._clients):
                try:
                    conn.sendall(data)
                    sent += 1
                except OSError:
                    self._clients.remove(conn)
                    conn.close()
        return sent

    def scan(self, payload: str, suffix: bytes = CRLF, encoding: str = "utf-8") -> int:
        return self.send(encode_scan(payload, suffix, encoding))

    def stop(self) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=2)
        with self._lock:
            for conn in self._clients:
                conn.close()
            self._clients.clear()

    def __enter__(self) -> TcpScannerEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class WedgeEmulator:
    """A keyboard-wedge scanner: ``input_event`` structs written into a FIFO at :attr:`path`.

    The FIFO is held open for writing (O_RDWR) so that the driver's reads block instead of
    seeing end-of-file; ``unplug()`` removes it, ``plug()`` creates it again.
    """

    def __init__(self, directory: str | None = None, name: str = "event-scanner") -> None:
        self._own_dir = directory is None
        self._dir = directory or tempfile.mkdtemp(prefix="kiosk-wedge-")
        self.path = os.path.join(self._dir, name)
        self._fd: int | None = None
        self._lock = threading.Lock()

    def start(self) -> WedgeEmulator:
        self.plug()
        return self

    def plug(self) -> None:
        with self._lock:
            if self._fd is not None:
                return
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            os.mkfifo(self.path, 0o600)
            self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)

    def unplug(self) -> None:
        with self._lock:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._fd)
            self._fd = None

    def send(self, data: bytes) -> None:
        with self._lock:
            fd = self._fd
            if fd is None:
                raise OSError("the emulated wedge scanner is unplugged")
            view = memoryview(data)
            deadline = time.monotonic() + 2.0
            while view:
                try:
                    view = view[os.write(fd, view):]
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError("nobody reads the emulated wedge FIFO") from None
                    time.sleep(0.001)

    def type_text(self, text: str, suffix: str = "enter", *, alt_codes: str = "") -> None:
        """Type ``text`` as the scanner would (characters outside the US layout need
        ``alt_codes="unicode"`` or ``"gb18030"``), then the suffix key."""
        self.send(evdev.encode_text(text, suffix=suffix, alt_codes=alt_codes))

    def stop(self) -> None:
        self.unplug()
        if self._own_dir:
            with contextlib.suppress(OSError):
                os.rmdir(self._dir)

    def __enter__(self) -> WedgeEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class EventCollector:
    """A subscriber for tests and tools: queues codes and state changes, with bounded waits."""

    def __init__(self) -> None:
        self.codes: queue.Queue[CodeScanned] = queue.Queue()
        self.states: queue.Queue[DeviceStateChanged] = queue.Queue()

    def __call__(self, event: DeviceEvent) -> None:
        if isinstance(event, CodeScanned):
            self.codes.put(event)
        elif isinstance(event, DeviceStateChanged):
            self.states.put(event)

    def code(self, timeout: float = 3.0) -> CodeScanned:
        """The next code; raises ``queue.Empty`` after ``timeout``."""
        return self.codes.get(timeout=timeout)

    def no_code(self, wait: float = 0.3) -> bool:
        """True if no code arrives within ``wait`` seconds."""
        try:
            self.codes.get(timeout=wait)
        except queue.Empty:
            return True
        return False

    def wait_state(self, state: DeviceState, timeout: float = 5.0) -> DeviceStateChanged:
        """The next change to ``state``; raises ``AssertionError`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the device did not become {state.value} "
                                     f"within {timeout:g} s")
            try:
                event = self.states.get(timeout=left)
            except queue.Empty:
                continue
            if event.state is state:
                return event


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drivers.scanner.emulator",
                                     description="Emulate a serial QR scanner.")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal")
    group.add_argument("--tcp", metavar="HOST:PORT", help="serve on TCP (socket:// URL)")
    args = parser.parse_args(argv)
    if args.pty:
        emulator: PtyScannerEmulator | TcpScannerEmulator = PtyScannerEmulator().start()
    else:
        host, _, port = args.tcp.rpartition(":")
        emulator = TcpScannerEmulator(host or "127.0.0.1", int(port)).start()
    print(f"scanner emulator on {emulator.url}; type a code per line, 'noise' or 'quit'",
          flush=True)
    try:
        for line in sys.stdin:
            line = line.rstrip("\n")
            if line == "quit":
                break
            if line == "noise":
                emulator.send(b"\xff\x00\x13garbage")
            else:
                emulator.scan(line)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A SAM ID card reader emulator that speaks the exact serial bytes.

It serves on a pseudo-terminal (``os.openpty``; the slave path is what the driver opens, set to
115200 8N1 raw through termios) or on TCP 127.0.0.1 (pyserial ``socket://`` URL), answers every
command of :mod:`drivers.idcard.frames` like a real module, and injects faults on request:

==========================  ===========================================================
no card                     ``lift_card()``; FIND answers 80
a read card stays halted    after a read, FIND answers 80 until the card is lifted and
                            put back (``halt_after_read``, as on real modules)
card lifted mid-read        ``faults.lift_mid_read = True``: the next read answers 41 and
                            the card is gone
status codes                ``fail(Command.READ_TEXT_PHOTO, 0x41, times=2)``
checksum errors             ``faults.corrupt_replies = n``: the next n replies have a bad CHK
split frames                ``faults.split_chunk = 7``: replies go out in 7-byte pieces
merged frames               ``faults.merge_stale = n``: the next n replies come glued behind
                            a copy of the previous reply, in one write
garbage                     ``faults.garbage = b"..."``: noise before the next reply
slow replies                ``faults.delay_s = 0.5``
unplugged                   ``unplug()``: a pty stops answering; TCP closes the connection
                            and refuses new ones; ``plug()`` brings it back
==========================  ===========================================================

From a shell (for technicians)::

    python -m drivers.idcard.emulator --tcp 127.0.0.1:7001 --card resident
    python -m drivers.idcard.emulator --pty --card hmt

then type ``put expired``, ``lift``, ``unplug``, ``plug``, ``fail 30 01 41``, ``quit``.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import logging
import os
import select
import socket
import sys
import termios
import threading
import time
import tty
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.idcard import decode, samples
from drivers.idcard.frames import (
    MIN_COMMAND_LEN,
    ChecksumError,
    Command,
    CommandFrame,
    FrameParser,
    LengthError,
    Status,
    build_reply,
)
from drivers.idcard.interface import IdCardData

log = logging.getLogger(__name__)

DEFAULT_SAM_ID = decode.encode_sam_id(5, 1, 20240101, 1001, 370102)
_SELECT_DATA = bytes(8)
_FIND_DATA = bytes(4)
_WRITE_TIMEOUT_S = 1.0


@dataclass
class Faults:
    """Faults to inject; change the attributes at any time (see the module docstring)."""

    corrupt_replies: int = 0
    split_chunk: int = 0
    split_gap_s: float = 0.001
    merge_stale: int = 0
    garbage: bytes = b""
    delay_s: float = 0.0
    lift_mid_read: bool = False


@dataclass
class _Forced:
    sw3: int
    times: int  # -1: until cleared


@dataclass
class EmulatorStats:
    commands: Counter[Command] = field(default_factory=Counter)
    bad_frames: int = 0
    replies: int = 0


class SamEmulator:
    """The reader's behaviour, independent of the transport (see :class:`PtyEmulator`,
    :class:`TcpEmulator`). Thread-safe: tests change cards and faults while it serves."""

    def __init__(self, card: IdCardData | None = None, *, halt_after_read: bool = True,
                 sam_id: bytes = DEFAULT_SAM_ID, fingerprint: bytes = b"") -> None:
        self.faults = Faults()
        self.halt_after_read = halt_after_read
        self.sam_id = sam_id
        self.fingerprint = fingerprint
        self.stats = EmulatorStats()
        #: called with (command, time.perf_counter()) just before the last byte of each reply
        #: is written (benchmarks measure from there)
        self.on_reply_sent: Callable[[Command | None, float], None] | None = None
        self._lock = threading.Lock()
        self._card: IdCardData | None = None
        self._found = self._selected = self._halted = False
        self._forced: dict[Command, _Forced] = {}
        self._previous_reply = b""
        self._cached: tuple[IdCardData, bytes] | None = None
        if card is not None:
            self.put_card(card)

    # -- scripting ---------------------------------------------------------------------------
    def put_card(self, card: IdCardData) -> None:
        """Place ``card`` on the reader (replacing any card there)."""
        with self._lock:
            self._card = card
            self._found = self._selected = self._halted = False

    def lift_card(self) -> None:
        with self._lock:
            self._card = None
            self._found = self._selected = self._halted = False

    @property
    def card_present(self) -> bool:
        with self._lock:
            return self._card is not None

    def fail(self, command: Command, sw3: int, times: int = 1) -> None:
        """Answer ``command`` with ``sw3`` the next ``times`` times (-1: until cleared)."""
        with self._lock:
            self._forced[command] = _Forced(sw3, times)

    def clear_faults(self) -> None:
        with self._lock:
            self._forced.clear()
            self.faults = Faults()

    # -- protocol ----------------------------------------------------------------------------
    def handle(self, frame: CommandFrame) -> tuple[Command | None, int, bytes]:
        """The reply to one host frame as (command, sw3, data), before transport faults."""
        command = frame.command
        with self._lock:
            if command is not None:
                self.stats.commands[command] += 1
            if command is None:
                return None, Status.COMMAND_ERROR, b""
            forced = self._forced.get(command)
            if forced is not None:
                if forced.times > 0:
                    forced.times -= 1
                    if forced.times == 0:
                        del self._forced[command]
                return command, forced.sw3, b""
            sw3, data = self._respond(command)
            return command, sw3, data

    def _respond(self, command: Command) -> tuple[int, bytes]:
        card = self._card
        if command in (Command.RESET, Command.STATUS) or command.cmd == 0x60:
            if command is Command.RESET:
                self._found = self._selected = False
            return Status.OK, b""
        if command is Command.SAM_ID:
            return Status.OK, self.sam_id
        if command is Command.FIND:
            if card is None or self._halted:
                self._found = self._selected = False
                return Status.NO_CARD, b""
            self._found = True
            return Status.FIND_OK, _FIND_DATA
        if command is Command.SELECT:
            if card is None or not self._found:
                return Status.SELECT_FAILED, b""
            self._selected = True
            return Status.OK, _SELECT_DATA
        if card is None or not self._selected:
            return Status.READ_FAILED, b""
        if command is Command.READ_APPENDED_ADDRESS:
            if not card.appended_address:
                return Status.ITEM_EMPTY, b""
            return Status.OK, decode.encode_appended_address(card.appended_address)
        if self.faults.lift_mid_read:
            self.faults.lift_mid_read = False
            self._card = None
            self._found = self._selected = False
            return Status.READ_FAILED, b""
        text = self._text_of(card)
        if command is Command.READ_WITH_FINGERPRINT:
            data = decode.encode_read_data(text, card.photo_wlt, self.fingerprint)
        else:
            data = decode.encode_read_data(text, card.photo_wlt)
        if self.halt_after_read:
            self._halted = True
        return Status.OK, data

    def _text_of(self, card: IdCardData) -> bytes:
        cached = self._cached
        if cached is not None and cached[0] is card:
            return cached[1]
        text = decode.encode_text(card)
        self._cached = (card, text)
        return text

    def replies_for(self, data: bytes, parser: FrameParser) -> list[tuple[Command | None, bytes]]:
        """Feed host bytes; return the reply frames to send (with faults applied)."""
        out: list[tuple[Command | None, bytes]] = []
        frames = parser.feed(data)
        for error in parser.pop_errors():
            self.stats.bad_frames += 1
            if isinstance(error, ChecksumError):
                out.append((None, build_reply(Status.CHECKSUM_ERROR)))
            elif isinstance(error, LengthError):
                out.append((None, build_reply(Status.LENGTH_ERROR)))
        for frame in frames:
            command, sw3, payload = self.handle(frame.as_command())
            out.append((command, self._apply_faults(build_reply(sw3, payload))))
        return out

    def _apply_faults(self, reply: bytes) -> bytes:
        faults = self.faults
        previous, self._previous_reply = self._previous_reply, reply
        if faults.corrupt_replies > 0:
            faults.corrupt_replies -= 1
            reply = reply[:-1] + bytes([reply[-1] ^ 0x5A])
        if faults.merge_stale > 0 and previous:
            faults.merge_stale -= 1
            reply = previous + reply
        if faults.garbage:
            reply, faults.garbage = faults.garbage + reply, b""
        return reply


class _Server:
    """The serving thread shared by the pty and TCP transports."""

    def __init__(self, emulator: SamEmulator) -> None:
        self.emulator = emulator
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._plugged = True
        self._parser = FrameParser(min_len=MIN_COMMAND_LEN)

    # subclass hooks
    def _read_fds(self) -> list[int]:
        raise NotImplementedError

    def _on_readable(self, fd: int) -> bytes | None:
        raise NotImplementedError

    def _send(self, data: bytes) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    # lifecycle
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._close()

    def __enter__(self) -> _Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def plugged(self) -> bool:
        return self._plugged

    def unplug(self) -> None:
        self._plugged = False

    def plug(self) -> None:
        self._plugged = True

    def _run(self) -> None:
        while not self._stop.is_set():
            fds = self._read_fds()
            if not fds:
                self._stop.wait(0.02)
                continue
            try:
                ready, _, _ = select.select(fds, [], [], 0.05)
            except (OSError, ValueError):
                self._stop.wait(0.02)
                continue
            for fd in ready:
                data = self._on_readable(fd)
                if not data or not self._plugged:
                    continue
                for command, reply in self.emulator.replies_for(data, self._parser):
                    self._deliver(command, reply)

    def _deliver(self, command: Command | None, reply: bytes) -> None:
        faults = self.emulator.faults
        if faults.delay_s > 0 and self._stop.wait(faults.delay_s):
            return
        chunk = faults.split_chunk if faults.split_chunk > 0 else len(reply)
        pieces = [reply[i:i + chunk] for i in range(0, len(reply), chunk)]
        for piece in pieces[:-1]:
            self._send(piece)
            if faults.split_gap_s > 0:
                time.sleep(faults.split_gap_s)
        callback = self.emulator.on_reply_sent
        if callback is not None:  # stamped before the write, so the reader cannot be earlier
            callback(command, time.perf_counter())
        self._send(pieces[-1])
        self.emulator.stats.replies += 1


def _write_all(fd: int, data: bytes) -> None:
    """Write to a non-blocking fd; give up (drop the rest) after a second of back-pressure."""
    view = memoryview(data)
    deadline = time.monotonic() + _WRITE_TIMEOUT_S
    while view:
        try:
            sent = os.write(fd, view)
            view = view[sent:]
        except BlockingIOError:
            if time.monotonic() > deadline:
                return
            select.select([], [fd], [], 0.05)
        except OSError:
            return


class PtyEmulator(_Server):
    """Serves the emulator on a pseudo-terminal; open :attr:`path` at 115200 8N1.

    Unplugging makes it stop answering (a pty cannot vanish and come back at the same path).
    """

    def __init__(self, emulator: SamEmulator, baudrate: int = 115200) -> None:
        super().__init__(emulator)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        attrs = termios.tcgetattr(self._slave)
        speed = getattr(termios, f"B{baudrate}")
        attrs[4] = attrs[5] = speed
        termios.tcsetattr(self._slave, termios.TCSANOW, attrs)
        tty.setraw(self._master)
        flags = fcntl.fcntl(self._master, fcntl.F_GETFL)
        fcntl.fcntl(self._master, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        self.path = os.ttyname(self._slave)
        self._closed = False

    @property
    def url(self) -> str:
        return self.path

    def _read_fds(self) -> list[int]:
        return [] if self._closed else [self._master]

    def _on_readable(self, fd: int) -> bytes | None:
        try:
            return os.read(fd, 4096)
        except BlockingIOError:
            return None
        except OSError as exc:  # EIO while nobody holds the slave: keep waiting
            if exc.errno != errno.EIO:
                log.debug("pty read failed: %s", exc)
            self._stop.wait(0.01)
            return None

    def _send(self, data: bytes) -> None:
        if self._plugged and not self._closed:
            _write_all(self._master, data)

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            for fd in (self._master, self._slave):
                with contextlib.suppress(OSError):
                    os.close(fd)


class TcpEmulator(_Server):
    """Serves the emulator on TCP (``socket://127.0.0.1:PORT``), one client at a time.

    Unplugging closes the client connection and the listening socket; plugging back listens on
    the same port again.
    """

    def __init__(self, emulator: SamEmulator, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(emulator)
        self.host = host
        self._lock = threading.Lock()
        self._client: socket.socket | None = None
        self._listener: socket.socket | None = self._listen(port)
        self.port = self._listener.getsockname()[1]

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, port))
        listener.listen(2)
        return listener

    def unplug(self) -> None:
        super().unplug()
        self._close()


    def plug(self) -> None:
        with self._lock:
            if self._listener is None:
                self._listener = self._listen(self.port)
        super().plug()

    def _read_fds(self) -> list[int]:
        with self._lock:
            return [s.fileno() for s in (self._listener, self._client) if s is not None]

    def _on_readable(self, fd: int) -> bytes | None:
        with self._lock:
            listener, client = self._listener, self._client
        if listener is not None and fd == listener.fileno():
            try:
                conn, _ = listener.accept()
            except OSError:
                return None
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                old, self._client = self._client, conn
            if old is not None:
                old.close()
            self._parser.reset()
            return None
        if client is None or fd != client.fileno():
            return None
        try:
            data = client.recv(4096)
        except OSError:
            data = b""
        if not data:
            with self._lock:
                if self._client is client:
                    self._client = None
            client.close()
            return None
        return data

    def _send(self, data: bytes) -> None:
        with self._lock:
            client = self._client
        if client is None:
            return
        try:
            client.sendall(data)
        except OSError:
            pass

    def _close(self) -> None:
        with self._lock:
            for sock in (self._client, self._listener):
                if sock is not None:
                    # shutdown first: a select() in the serving thread may still hold the socket,
                    # and a listener merely closed would accept one more connection meanwhile
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    with contextlib.suppress(OSError):
                        sock.close()
            self._client = self._listener = None


# -- command line -----------------------------------------------------------------------------
_HELP = """commands: put NAME | lift | unplug | plug | fail CMD PARA SW3 [TIMES] | corrupt N |
          split N | delay SECONDS | status | quit      (NAME: {names})"""


def _control(server: _Server, line: str, out: Callable[[str], None]) -> bool:
    """Apply one console command; False to quit."""
    emulator = server.emulator
    words = line.split()
    if not words:
        return True
    verb, args = words[0].lower(), words[1:]
    try:
        if verb in ("quit", "exit", "q"):
            return False
        if verb == "put":
            emulator.put_card(samples.BY_NAME[args[0]])
        elif verb == "lift":
            emulator.lift_card()
        elif verb == "unplug":
            server.unplug()
        elif verb == "plug":
            server.plug()
        elif verb == "fail":
            cmd, para, sw3 = (int(a, 16) for a in args[:3])
            command = Command.lookup(cmd, para)
            if command is None:
                raise ValueError("unknown command")
            emulator.fail(command, sw3, int(args[3]) if len(args) > 3 else 1)
        elif verb == "corrupt":
            emulator.faults.corrupt_replies = int(args[0])
        elif verb == "split":
            emulator.faults.split_chunk = int(args[0])
        elif verb == "delay":
            emulator.faults.delay_s = float(args[0])
        elif verb == "status":
            out(f"card present: {emulator.card_present}; plugged: {server.plugged}; "
                f"replies: {emulator.stats.replies}")
            return True
        else:
            out(_HELP.format(names=", ".join(samples.BY_NAME)))
            return True
    except (IndexError, KeyError, ValueError) as exc:
        out(f"cannot do that: {exc!r}")
        return True
    out("ok")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m drivers.idcard.emulator",
        description="Emulate a SAM ID card reader on a pty or TCP port (fictitious cards).")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP, e.g. 127.0.0.1:7001")
    where.add_argument("--pty", action="store_true", help="create a pseudo-terminal")
    parser.add_argument("--card", default="resident",
                        choices=[*samples.BY_NAME, "none"], help="card on the reader at start")
    parser.add_argument("--no-halt", action="store_true",
                        help="let FIND succeed again on a card that was read")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each reply")
    args = parser.parse_args(argv)

    emulator = SamEmulator(None if args.card == "none" else samples.BY_NAME[args.card],
                           halt_after_read=not args.no_halt)
    emulator.faults.delay_s = args.delay
    server: _Server
    if args.pty:
        server = PtyEmulator(emulator)
        where_text = server.url
    else:
        host, _, port = args.tcp.rpartition(":")
        server = TcpEmulator(emulator, host or "127.0.0.1", int(port))
        where_text = server.url
    server.start()
    print(f"SAM reader emulator on {where_text} (card: {args.card})", flush=True)
    print(_HELP.format(names=", ".join(samples.BY_NAME)), flush=True)
    try:
        for line in sys.stdin:
            if not _control(server, line, lambda text: print(text, flush=True)):
                break
        else:  # stdin closed (run in the background): serve until interrupted
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

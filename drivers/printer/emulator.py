"""A thermal printer emulator on TCP (port 9100 style) and on a pseudo-terminal.

It records every job (the bytes between cuts, real-time queries left out), answers
``DLE EOT n`` status queries according to a settable simulated condition, and optionally writes
``job-0001.bin`` and ``job-0001.png`` (rendered by :mod:`drivers.printer.interpreter`) per job::

    python -m drivers.printer.emulator --tcp 127.0.0.1:9100 --pty --out /tmp/jobs

Type a condition (``ok``, ``near_end``, ``paper_out``, ``cover_open``, ``cutter_error``,
``offline``) and Enter on its standard input to change it while it runs.
"""

from __future__ import annotations

import argparse
import enum
import logging
import os
import queue
import select
import signal
import socket
import sys
import threading
import time
import tty
from dataclasses import dataclass
from pathlib import Path

from drivers.logsetup import setup_logging
from drivers.printer.interpreter import Rendering, parse, render_job

log = logging.getLogger(__name__)


class Condition(enum.StrEnum):
    OK = "ok"
    NEAR_END = "near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    CUTTER_ERROR = "cutter_error"
    OFFLINE = "offline"  # powered but wedged: reads bytes, never answers


def status_byte(condition: Condition, n: int) -> bytes:
    """The reply to ``DLE EOT n`` in ``condition`` (empty: no reply)."""
    if condition is Condition.OFFLINE or n not in (1, 2, 3, 4):
        return b""
    value = 0x12  # bits 1 and 4 are always set
    stopped = condition in (Condition.PAPER_OUT, Condition.COVER_OPEN, Condition.CUTTER_ERROR)
    if n == 1 and stopped:
        value |= 0x08
    elif n == 2:
        value |= {Condition.COVER_OPEN: 0x04, Condition.PAPER_OUT: 0x20,
                  Condition.CUTTER_ERROR: 0x40}.get(condition, 0)
    elif n == 3 and condition is Condition.CUTTER_ERROR:
        value |= 0x08
    elif n == 4:
        value |= {Condition.NEAR_END: 0x0C, Condition.PAPER_OUT: 0x6C}.get(condition, 0)
    return bytes([value])


@dataclass(frozen=True)
class EmulatedJob:
    """One job: ``data`` without real-time queries; ``finished`` is ``time.perf_counter()``
    when its last byte (the cut) arrived; ``cut`` False when the sender stopped mid-job."""

    data: bytes
    source: str
    started: float
    finished: float
    cut: bool = True


class _Stream:
    """Per-connection parser state: splits jobs at cuts and answers status queries."""

    def __init__(self, emulator: PrinterEmulator, source: str) -> None:
        self.emulator, self.source = emulator, source
        self.pending = bytearray()
        self.job = bytearray()
        self.started = 0.0

    def feed(self, data: bytes) -> bytes:
        """Consume received bytes; returns the bytes to answer."""
        now = time.perf_counter()
        self.pending += data
        commands, used = parse(self.pending, final=False)
        del self.pending[:used]
        reply = bytearray()
        for command in commands:
            if command.name == "DLE EOT":
                reply += self.emulator._status_query(command.raw[2])
                continue
            if command.is_realtime:
                continue
            if not self.job:
                self.started = now
            self.job += command.raw
            if command.is_cut:
                self.emulator._record(EmulatedJob(bytes(self.job), self.source, self.started,
                                                  time.perf_counter()))
                self.job.clear()
        return bytes(reply)

    def close(self) -> None:
        rest = bytes(self.job + self.pending)
        if rest.strip(b"\x1b@\x00"):
            self.emulator._record(EmulatedJob(rest, self.source, self.started,
                                              time.perf_counter(), cut=False))
        self.job.clear()
        self.pending.clear()


class PrinterEmulator:
    """Listens on TCP and/or a pty; thread-safe accessors for jobs and the condition."""

    def __init__(self, condition: Condition | str = Condition.OK, out_dir: str | Path | None = None,
                 paper_width_mm: int = 58, encoding: str = "gb18030",
                 font_coverage: str = "gbk", reply_delay: float = 0.0) -> None:
        self._condition = Condition(condition)
        self.out_dir = Path(out_dir) if out_dir else None
        self.paper_width_mm, self.encoding, self.font_coverage = (paper_width_mm, encoding,
                                                                   font_coverage)
        self.reply_delay = reply_delay
        self._jobs: list[EmulatedJob] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()
        self._server: socket.socket | None = None
        self._pty: tuple[int, int] | None = None
        self._writer: queue.Queue[tuple[int, EmulatedJob] | None] = queue.Queue()
        self.status_queries = 0
        self.connections = 0
        self.tcp_address: tuple[str, int] | None = None
        self.pty_path: str | None = None

    # -- condition and jobs ------------------------------------------------------------------
    @property
    def condition(self) -> Condition:
        return self._condition

    @condition.setter
    def condition(self, value: Condition | str) -> None:
        self._condition = Condition(value)

    @property
    def jobs(self) -> list[EmulatedJob]:
        with self._cond:
            return list(self._jobs)

    def clear(self) -> None:
        with self._cond:
            self._jobs.clear()

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> list[EmulatedJob]:
        """Block until ``count`` jobs were recorded (or ``timeout``); returns the jobs."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._jobs) >= count, timeout=timeout)
            return list(self._jobs)

    def render(self, job: EmulatedJob) -> Rendering:
        return render_job(job.data, self.paper_width_mm, self.encoding, self.font_coverage)

    def _record(self, job: EmulatedJob) -> None:
        with self._cond:
            self._jobs.append(job)
            number = len(self._jobs)
            self._cond.notify_all()
        if self.out_dir:
            self._writer.put((number, job))

    def _status_query(self, n: int) -> bytes:
        with self._cond:
            self.status_queries += 1
        if self.reply_delay:
            time.sleep(self.reply_delay)
        return status_byte(self._condition, n)

    # -- transports --------------------------------------------------------------------------
    def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Listen on ``host:port`` (0: any free port); returns the address."""
        server = socket.create_server((host, port), reuse_port=False)
        server.settimeout(0.2)
        self._server = server
        self.tcp_address = server.getsockname()[:2]
        self._spawn(self._accept_loop, "printer-emu-accept")
        self._start_writer()
        return self.tcp_address

    def start_pty(self) -> str:
        """Open a pseudo-terminal; returns the path to open as a serial port."""
        master, slave = os.openpty()
        tty.setraw(slave)
        self._pty = (master, slave)
        self.pty_path = os.ttyname(slave)
        self._spawn(self._pty_loop, "printer-emu-pty")
        self._start_writer()
        return self.pty_path

    @property
    def tcp_url(self) -> str:
        assert self.tcp_address, "start_tcp() first"
        return f"tcp://{self.tcp_address[0]}:{self.tcp_address[1]}"

    def stop(self) -> None:
        self._stop.set()
        self._writer.put(None)
        while True:
            with self._threads_lock:
                if not self._threads:
                    break
                thread = self._threads.pop()
            thread.join(timeout=5)
        if self._server:
            self._server.close()
            self._server = None
        if self._pty:
            for fd in self._pty:
                os.close(fd)
            self._pty = None

    def __enter__(self) -> PrinterEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: object, name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name,  # type: ignore[arg-type]
                                  daemon=True)
        with self._threads_lock:
            self._threads.append(thread)
        thread.start()

    def _start_writer(self) -> None:
        if self.out_dir and not any(t.name == "printer-emu-writer" for t in self._threads):
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._spawn(self._write_loop, "printer-emu-writer")

    def _accept_loop(self) -> None:
        assert self._server
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._cond:
                self.connections += 1
            self._spawn(self._connection_loop, "printer-emu-conn", conn)

    def _connection_loop(self, conn: socket.socket) -> None:
        stream = _Stream(self, "tcp")
        conn.settimeout(0.2)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not data:
                    break
                reply = stream.feed(data)
                if reply:
                    try:
                        conn.sendall(reply)
                    except OSError:
                        break
        stream.close()

    def _pty_loop(self) -> None:
        assert self._pty
        master = self._pty[0]
        stream = _Stream(self, "pty")
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            reply = stream.feed(data)
            if reply:
                os.write(master, reply)
        stream.close()

    def _write_loop(self) -> None:
        assert self.out_dir
        while True:
            item = self._writer.get()
            if item is None:
                return
            number, job = item
            stem = self.out_dir / f"job-{number:04d}"
            stem.with_suffix(".bin").write_bytes(job.data)
            try:
                self.render(job).save(stem.with_suffix(".png"))
            except Exception:  # a broken job must not stop the emulator
                log.exception("could not render job %d", number)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drivers.printer.emulator",
                                     description="ESC/POS thermal printer emulator")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP, e.g. 127.0.0.1:9100")
    parser.add_argument("--pty", action="store_true", help="open a pseudo-terminal")
    parser.add_argument("--out", metavar="DIR", help="write job-NNNN.bin/.png here")
    parser.add_argument("--state", default="ok", choices=[c.value for c in Condition])
    parser.add_argument("--paper-width-mm", "--paper-width", dest="paper_width", type=int,
                        default=58, choices=(58, 80))
    parser.add_argument("--encoding", default="gb18030",
                        choices=("gb18030", "gbk", "gbk_fs", "utf8"))
    args = parser.parse_args(argv)
    if not args.tcp and not args.pty:
        parser.error("give --tcp HOST:PORT and/or --pty")
    setup_logging("INFO")  # job text may hold a name: the personal-data filter applies
    signal.signal(signal.SIGTERM, _interrupt)
    emulator = PrinterEmulator(args.state, args.out, args.paper_width, args.encoding)
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        address = emulator.start_tcp(host or "127.0.0.1", int(port))
        print(f"listening on tcp://{address[0]}:{address[1]}", flush=True)
    if args.pty:
        print(f"serial port: {emulator.start_pty()}", flush=True)
    print(f"condition: {emulator.condition}; type a new one and Enter "
          f"({', '.join(c.value for c in Condition)}); Ctrl-C stops", flush=True)
    try:
        for line in sys.stdin:
            word = line.strip()
            if word in {c.value for c in Condition}:
                emulator.condition = Condition(word)
                print(f"condition: {emulator.condition}", flush=True)
            elif word:
                print(f"unknown condition {word!r}", flush=True)
        while True:  # stdin closed (running as a service): serve until interrupted
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        print(f"{len(emulator.jobs)} jobs received", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

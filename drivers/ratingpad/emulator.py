"""A rating pad emulator on a pseudo-terminal: the reference protocol (RP1) or vendor bytes.

The driver opens :attr:`PadEmulator.path` (the pty's slave side) like a real serial port.

* ``press("satisfied")``: a reference pad sends a KEY frame and repeats it every
  ``repeat_s`` until the host acknowledges it (``max_repeats`` times); a byte pad sends its
  keymap's byte(s) (after the address byte when it has one); a line pad sends the line.
* ``lit``: whether the host has switched the prompt light on (PROMPT_ON / PROMPT_OFF).
* ``unplug()`` / ``plug()``: stop / resume answering and sending (a pad whose cable is out).
* ``noise(b"...")``: raw bytes on the line (the driver must resynchronise).

From a shell::

    python -m drivers.ratingpad.emulator --vendor reference
    # prints the pty path; then type a level name (satisfied ...), unplug, plug, quit
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import sys
import termios
import threading
import time
import tty
from collections.abc import Mapping
from typing import Any

from drivers.ratingpad import protocol as rp
from drivers.ratingpad.interface import LEVELS


class PadEmulator:
    def __init__(self, vendor: str = "reference", *, address: int | None = None,
                 keymap: Mapping[Any, Any] | None = None, firmware: str = "RP1-EMU 1.0",
                 repeat_s: float = 0.2, max_repeats: int = 3) -> None:
        preset = rp.VENDOR_PRESETS.get(vendor)
        if preset is None:
            raise ValueError(f"unknown vendor {vendor!r}; one of {', '.join(rp.VENDOR_PRESETS)}")
        self.protocol = preset["protocol"]
        self.address = address if address is not None else preset.get(
            "address", 1 if self.protocol == "reference" else None)
        raw = keymap if keymap is not None else preset.get("keymap", {})
        if self.protocol == "bytes":
            self._keys = {lvl: key for key, lvl in rp.parse_keymap(raw).items() if lvl}
        elif self.protocol == "lines":
            self._keys = {lvl: key for key, lvl in rp.parse_line_keymap(raw).items() if lvl}
        else:
            self._keys = {}
        self.firmware = firmware
        self.repeat_s = repeat_s
        self.max_repeats = max_repeats
        self.lit = False
        self.received: list[rp.Frame] = []
        self.acked: set[int] = set()
        self._plugged = True
        self._seq = 0
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[bytes, float, int]] = {}  # seq -> frame, next, left
        self._master, slave = os.openpty()
        tty.setraw(slave)
        attrs = termios.tcgetattr(slave)
        attrs[4] = attrs[5] = termios.B9600
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self.path = os.ttyname(slave)
        self._slave = slave  # kept open so the pty survives the driver closing its side
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ratingpad-emulator",
                                        daemon=True)
        self._parser = rp.FrameParser()

    # -- control --------------------------------------------------------------------------------
    def start(self) -> PadEmulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> PadEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        with self._lock:
            self._plugged = False
            self._pending.clear()

    def plug(self) -> None:
        with self._lock:
            self._plugged = True

    def noise(self, data: bytes) -> None:
        self._write(data)

    def press(self, level: str) -> None:
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}")
        if not self._plugged:
            return
        if self.protocol == "reference":
            with self._lock:
                self._seq = (self._seq + 1) & 0xFF
                frame = rp.key_frame(self.address, level, self._seq)
                self._pending[self._seq] = (frame, time.monotonic() + self.repeat_s,
                                            self.max_repeats)
            self._write(frame)
        elif self.protocol == "bytes":
            if level not in self._keys:
                raise ValueError(f"this pad has no key for {level!r}")
            prefix = bytes((self.address,)) if self.address is not None else b""
            self._write(prefix + bytes((self._keys[level],)))
        else:
            self._write(str(self._keys[level]).encode("ascii") + b"\r\n")

    def press_raw(self, data: bytes) -> None:
        """Send bytes as a pad would (a key byte this keymap may not know)."""
        self._write(data)

    # -- the pad's loop --------------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(self._master, data)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], 0.02)
            except (OSError, ValueError):
                return
            if ready:
                try:
                    data = os.read(self._master, 256)
                except OSError:
                    data = b""
                if data and self._plugged and self.protocol == "reference":
                    for frame in self._parser.feed(data):
                        self._answer(frame)
            self._repeat_keys()

    def _answer(self, frame: rp.Frame) -> None:
        if frame.addr not in (self.address, rp.BROADCAST):
            return
        with self._lock:
            self.received.append(frame)
        reply: bytes | None = None
        if frame.cmd == rp.Cmd.PING:
            reply = rp.encode(self.address, rp.Cmd.PONG, self.firmware.encode("ascii"))
        elif frame.cmd == rp.Cmd.PROMPT_ON:
            self.lit = True
            reply = rp.encode(self.address, rp.Cmd.PROMPT_ON_ACK)
        elif frame.cmd == rp.Cmd.PROMPT_OFF:
            self.lit = False
            reply = rp.encode(self.address, rp.Cmd.PROMPT_OFF_ACK)
        elif frame.cmd == rp.Cmd.KEY_ACK and frame.data:
            with self._lock:
                self._pending.pop(frame.data[0], None)
                self.acked.add(frame.data[0])
        if reply is not None:
            self._write(reply)

    def _repeat_keys(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [(seq, item) for seq, item in self._pending.items() if item[1] <= now]
            for seq, (frame, _next, left) in due:
                if left <= 0 or not self._plugged:
                    self._pending.pop(seq, None)
                    continue
                self._pending[seq] = (frame, now + self.repeat_s, left - 1)
        for _seq, (frame, _next, left) in due:
            if left > 0:
                self._write(frame)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drivers.ratingpad.emulator")
    parser.add_argument("--vendor", default="reference", choices=sorted(rp.VENDOR_PRESETS))
    args = parser.parse_args(argv)
    with PadEmulator(args.vendor) as pad:
        print(f"rating pad ({args.vendor}) on {pad.path}", flush=True)
        for line in sys.stdin:
            word = line.strip()
            if word in ("quit", "exit"):
                break
            if word == "unplug":
                pad.unplug()
            elif word == "plug":
                pad.plug()
            elif word in LEVELS:
                pad.press(word)
            elif word:
                print(f"levels: {', '.join(LEVELS)}; unplug, plug, quit; light is "
                      f"{'on' if pad.lit else 'off'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

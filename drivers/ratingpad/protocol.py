"""Rating pad wire formats: our reference protocol and the configurable vendor adapters.

No public byte-level protocol exists for rating pads (PROTOCOLS §8), so there are two kinds
of decoder behind one interface, ``feed(bytes) -> list of decoded things``:

**Reference protocol "RP1"** (ours; the emulator speaks it; docs/ratings.md)::

    STX(02) ADDR CMD LEN DATA[LEN] CHK ETX(03)      CHK = XOR of ADDR, CMD, LEN and DATA

    host -> pad  10 PING            pad -> host  90 PONG   data = firmware (ASCII)
    host -> pad  11 PROMPT_ON       pad -> host  91 ACK    (data: 1 byte seconds, 0 = none)
    host -> pad  12 PROMPT_OFF      pad -> host  92 ACK
    pad -> host  A0 KEY  data = key (1 = 非常满意 … 5 = 非常不满意), seq (0..255)
    host -> pad  20 KEY_ACK  data = seq     (the pad repeats KEY every 200 ms, 3 times,
                                             until acknowledged; the host drops repeats)

ADDR is the pad's address (01 by default; FF = any pad). Frames are parsed by length, so
02/03 inside data are fine; a bad checksum or end byte drops one byte and resynchronises.

**Vendor adapters**: ``bytes`` (one byte per press, optionally after an address byte) and
``lines`` (one ASCII line per press), each with a key → level map. Presets for the pads
described in PROTOCOLS §8 are in :data:`VENDOR_PRESETS` (their key orders are *unconfirmed*:
check against the pad and override ``keymap`` in config).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drivers.ratingpad.interface import LEVELS

STX, ETX = 0x02, 0x03
BROADCAST = 0xFF
MAX_DATA = 64


class Cmd(enum.IntEnum):
    PING = 0x10
    PROMPT_ON = 0x11
    PROMPT_OFF = 0x12
    KEY_ACK = 0x20
    PONG = 0x90
    PROMPT_ON_ACK = 0x91
    PROMPT_OFF_ACK = 0x92
    KEY = 0xA0


#: reference key code (1..5) <-> canonical level
REFERENCE_KEYS: dict[int, str] = {i + 1: level for i, level in enumerate(LEVELS)}


class ProtocolError(ValueError):
    """Bad adapter settings (the message names the option and what it accepts)."""


@dataclass(frozen=True)
class Frame:
    addr: int
    cmd: int
    data: bytes = b""


@dataclass(frozen=True)
class KeyPress:
    """A decoded press: ``level`` canonical; ``seq`` only in the reference protocol."""

    level: str
    addr: int | None = None
    seq: int | None = None


def checksum(body: bytes) -> int:
    value = 0
    for byte in body:
        value ^= byte
    return value


def encode(addr: int, cmd: int, data: bytes = b"") -> bytes:
    if len(data) > MAX_DATA:
        raise ProtocolError(f"RP1 data is at most {MAX_DATA} bytes")
    body = bytes((addr & 0xFF, cmd & 0xFF, len(data))) + data
    return bytes((STX,)) + body + bytes((checksum(body), ETX))


def key_frame(addr: int, level: str, seq: int) -> bytes:
    code = LEVELS.index(level) + 1
    return encode(addr, Cmd.KEY, bytes((code, seq & 0xFF)))


class FrameParser:
    """Incremental RP1 parser with resynchronisation; counts dropped bytes."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        while True:
            start = self._buf.find(STX)
            if start < 0:
                self.dropped += len(self._buf)
                self._buf.clear()
                return frames
            if start:
                self.dropped += start
                del self._buf[:start]
            if len(self._buf) < 4:
                return frames
            length = self._buf[3]
            if length > MAX_DATA:
                self.dropped += 1
                del self._buf[0]
                continue
            total = 4 + length + 2
            if len(self._buf) < total:
                return frames
            body = bytes(self._buf[1:4 + length])
            if self._buf[total - 2] != checksum(body) or self._buf[total - 1] != ETX:
                self.dropped += 1
                del self._buf[0]
                continue
            frames.append(Frame(body[0], body[1], body[3:]))
            del self._buf[:total]


# -- vendor adapters ------------------------------------------------------------------------------
VENDOR_PRESETS: dict[str, dict[str, Any]] = {
    # our reference pad / emulator
    "reference": {"protocol": "reference", "baudrate": 9600},
    # an older four-key model: 1 满意, 2 一般, 3 不满意, 4 非常满意 sent as ASCII digits
    "legacy4": {"protocol": "bytes", "baudrate": 9600,
                "keymap": {"0x31": "satisfied", "0x32": "basic", "0x33": "dissatisfied",
                           "0x34": "very_satisfied"}},
    # a newer five-key model with an address byte before each key; 0 = no key (ignored);
    # 1..5 assumed in GB/T 39046 order (1 = 非常满意): *unconfirmed*
    "five": {"protocol": "bytes", "baudrate": 9600, "address": 1,
             "keymap": {"0x00": None, "0x01": "very_satisfied", "0x02": "satisfied",
                        "0x03": "basic", "0x04": "dissatisfied",
                        "0x05": "very_dissatisfied"}},
}


def parse_key(key: Any) -> int:
    """A keymap key as a byte: ``49``, ``"49"`` (decimal), ``"0x31"`` (hex) or ``"'1'"`` (the
    character in single quotes; a bare ``"1"`` is the number 1, not the character)."""
    if isinstance(key, bool):
        raise ProtocolError(f"keymap key {key!r} is not a byte")
    if isinstance(key, int):
        value = key
    elif isinstance(key, str):
        text = key.strip()
        if len(text) == 3 and text[0] == text[2] == "'":
            value = ord(text[1])
        else:
            try:
                value = int(text, 16) if text.lower().startswith("0x") else int(text)
            except ValueError:
                raise ProtocolError(f"keymap key {key!r}: write a byte as 0x31, 49 or \"'1'\""
                                    ) from None
    else:
        raise ProtocolError(f"keymap key {key!r} is not a byte")
    if not 0 <= value <= 255:
        raise ProtocolError(f"keymap key {key!r} is outside 0..255")
    return value


def parse_keymap(raw: Mapping[Any, Any]) -> dict[int, str | None]:
    """Validate a key → level map (``None`` or "" = a key that means "no press")."""
    if not raw:
        raise ProtocolError("keymap is empty: map each key byte to a level, e.g. "
                            "{\"0x31\": \"satisfied\"}")
    out: dict[int, str | None] = {}
    for key, level in raw.items():
        if level in (None, "", "none"):
            out[parse_key(key)] = None
            continue
        if level not in LEVELS:
            raise ProtocolError(f"keymap {key!r} -> {level!r}: a level is one of "
                                f"{', '.join(LEVELS)} (or none)")
        out[parse_key(key)] = str(level)
    return out


class ByteDecoder:
    """One byte per press, optionally after an address byte (``address``): then bytes are
    taken in pairs (address, key), and a pause longer than ``gap_s`` between bytes starts a
    new pair, so a lost byte costs one press, not every press after it. Pairs for another
    address (another pad on a shared line) are skipped."""

    def __init__(self, keymap: Mapping[int, str | None], address: int | None = None,
                 gap_s: float = 0.05) -> None:
        self.keymap = dict(keymap)
        self.address = address
        self.gap_s = gap_s
        self.unknown = 0
        self._pending_addr: int | None = None
        self._last = 0.0

    def feed(self, data: bytes, now: float | None = None) -> list[KeyPress]:
        now = time.monotonic() if now is None else now
        if self._pending_addr is not None and now - self._last > self.gap_s:
            self._pending_addr = None  # the rest of that pair never came
            self.unknown += 1
        if data:
            self._last = now
        presses: list[KeyPress] = []
        for byte in data:
            if self.address is not None and self._pending_addr is None:
                self._pending_addr = byte
                continue
            addr, self._pending_addr = self._pending_addr, None
            if addr is not None and addr not in (self.address, BROADCAST):
                continue  # another pad's press
            if byte not in self.keymap:
                self.unknown += 1
                continue
            level = self.keymap[byte]
            if level is not None:
                presses.append(KeyPress(level, addr))
        return presses


class LineDecoder:
    """One text line per press (``\\r``/``\\n`` terminated); the keymap maps line texts."""

    def __init__(self, keymap: Mapping[str, str | None], max_line: int = 64) -> None:
        self.keymap = {str(k).strip(): v for k, v in keymap.items()}
        self.max_line = max_line
        self.unknown = 0
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[KeyPress]:
        presses: list[KeyPress] = []
        for byte in data:
            if byte in (0x0A, 0x0D):
                text = self._buf.decode("ascii", errors="replace").strip()
                self._buf.clear()
                if not text:
                    continue
                if text not in self.keymap:
                    self.unknown += 1
                elif self.keymap[text] is not None:
                    presses.append(KeyPress(str(self.keymap[text])))
            elif len(self._buf) < self.max_line:
                self._buf.append(byte)
            else:
                self._buf.clear()
                self.unknown += 1
        return presses


def parse_line_keymap(raw: Mapping[Any, Any]) -> dict[str, str | None]:
    if not raw:
        raise ProtocolError("keymap is empty: map each line to a level, e.g. "
                            "{\"KEY1\": \"very_satisfied\"}")
    out: dict[str, str | None] = {}
    for key, level in raw.items():
        if level in (None, "", "none"):
            out[str(key).strip()] = None
        elif level in LEVELS:
            out[str(key).strip()] = str(level)
        else:
            raise ProtocolError(f"keymap {key!r} -> {level!r}: a level is one of "
                                f"{', '.join(LEVELS)} (or none)")
    return out

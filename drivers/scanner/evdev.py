"""Linux input events (``/dev/input/eventN``) for keyboard-wedge scanners, parsed by hand.

A USB keyboard-wedge scanner "types" each code as key presses. Reading the raw input device
(instead of Kivy key events) keeps scans out of text fields; with ``EVIOCGRAB`` the kernel
also stops delivering the keys to X11/SDL.

``struct input_event`` is ``struct timeval time; __u16 type; __u16 code; __s32 value`` (24 bytes
on 64-bit Linux). Key events have ``type == EV_KEY`` and ``value`` 1 (press), 2 (auto-repeat)
or 0 (release). :class:`KeyDecoder` turns them into text with the US layout (what scanners
emulate by default), Shift and Caps Lock, Ctrl+letter for control characters, and Alt+keypad
digit sequences for characters outside the layout (``alt_codes``: the decimal number is a
Unicode code point, or a GB18030/GBK code as Chinese Windows scanners send it).
:func:`encode_text` does the reverse for emulators and tests.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass

EVENT_FORMAT = "llHHi"
EVENT_SIZE = struct.calcsize(EVENT_FORMAT)
EVIOCGRAB = 0x40044590  # _IOW('E', 0x90, int)

EV_SYN, EV_KEY, EV_MSC = 0x00, 0x01, 0x04
RELEASE, PRESS, REPEAT = 0, 1, 2

KEY_TAB, KEY_ENTER, KEY_KPENTER = 15, 28, 96
KEY_LEFTCTRL, KEY_RIGHTCTRL = 29, 97
KEY_LEFTSHIFT, KEY_RIGHTSHIFT = 42, 54
KEY_LEFTALT, KEY_RIGHTALT = 56, 100
KEY_CAPSLOCK = 58

#: keycode → (unshifted, shifted) on the US layout
US_LAYOUT: dict[int, tuple[str, str]] = {
    **{code: pair for code, pair in zip(range(2, 12), zip("1234567890", "!@#$%^&*()",
                                                          strict=True), strict=True)},
    12: ("-", "_"), 13: ("=", "+"),
    **{16 + i: (c, c.upper()) for i, c in enumerate("qwertyuiop")},
    26: ("[", "{"), 27: ("]", "}"),
    **{30 + i: (c, c.upper()) for i, c in enumerate("asdfghjkl")},
    39: (";", ":"), 40: ("'", '"'), 41: ("`", "~"), 43: ("\\", "|"),
    **{44 + i: (c, c.upper()) for i, c in enumerate("zxcvbnm")},
    51: (",", "<"), 52: (".", ">"), 53: ("/", "?"), 57: (" ", " "),
    # keypad (Num Lock on, as scanners assume)
    55: ("*", "*"), 74: ("-", "-"), 78: ("+", "+"), 83: (".", "."), 98: ("/", "/"),
    71: ("7", "7"), 72: ("8", "8"), 73: ("9", "9"), 75: ("4", "4"), 76: ("5", "5"),
    77: ("6", "6"), 79: ("1", "1"), 80: ("2", "2"), 81: ("3", "3"), 82: ("0", "0"),
}
KEYPAD_DIGITS: dict[int, str] = {71: "7", 72: "8", 73: "9", 75: "4", 76: "5", 77: "6",
                                 79: "1", 80: "2", 81: "3", 82: "0"}
_DIGIT_KEYPAD = {digit: code for code, digit in KEYPAD_DIGITS.items()}
_CHAR_KEYS: dict[str, tuple[int, bool]] = {}
for _code, (_plain, _shifted) in US_LAYOUT.items():
    if _code in KEYPAD_DIGITS or _code in (55, 74, 78, 83, 98):
        continue  # type these with the main keys, as scanners do
    _CHAR_KEYS.setdefault(_plain, (_code, False))
    _CHAR_KEYS.setdefault(_shifted, (_code, True))

SUFFIX_KEYS: dict[str, frozenset[int]] = {
    "enter": frozenset({KEY_ENTER, KEY_KPENTER}),
    "tab": frozenset({KEY_TAB}),
    "none": frozenset(),
}
ALT_CODES = ("unicode", "gb18030", "off")
_CTRL_CHARS = {"[": "\x1b", "\\": "\x1c", "]": "\x1d", "^": "\x1e", "6": "\x1e"}


def parse_events(buffer: bytearray) -> list[tuple[int, int, int]]:
    """Remove every whole event from ``buffer``; return ``(type, code, value)`` for each."""
    whole = len(buffer) - len(buffer) % EVENT_SIZE
    events = [(etype, code, value) for _s, _us, etype, code, value
              in struct.iter_unpack(EVENT_FORMAT, bytes(buffer[:whole]))]
    del buffer[:whole]
    return events


def pack_event(etype: int, code: int, value: int, at: float | None = None) -> bytes:
    at = time.time() if at is None else at
    seconds = int(at)
    return struct.pack(EVENT_FORMAT, seconds, int((at - seconds) * 1e6), etype, code, value)


@dataclass
class KeyStats:
    lines: int = 0
    noise: int = 0  # partial input dropped after a silence
    overlong: int = 0
    unmapped: int = 0  # keys with no character on the layout (ignored)


class KeyDecoder:
    """Key events → completed scans. One reader thread owns it."""

    def __init__(self, suffix: str = "enter", *, max_length: int = 4096, gap_s: float = 0.3,
                 alt_codes: str = "unicode") -> None:
        if suffix not in SUFFIX_KEYS:
            raise ValueError(f"wedge suffix must be one of {', '.join(SUFFIX_KEYS)}, "
                             f"not {suffix!r}")
        if alt_codes not in ALT_CODES:
            raise ValueError(f"alt_codes must be one of {', '.join(ALT_CODES)}, "
                             f"not {alt_codes!r}")
        if suffix == "none" and gap_s <= 0:
            raise ValueError("suffix 'none' needs gap_s > 0 to know where a code ends")
        if max_length < 1:
            raise ValueError("max_length must be at least 1")
        self.suffix = suffix
        self._suffix_keys = SUFFIX_KEYS[suffix]
        self.max_length = max_length
        self.gap_s = gap_s
        self.alt_codes = alt_codes
        self.stats = KeyStats()
        self._chars: list[str] = []
        self._skipping = False
        self._shift: set[int] = set()
        self._ctrl: set[int] = set()
        self._alt: set[int] = set()
        self._caps = False
        self._alt_digits = ""
        self._last_key_at: float | None = None

    def feed(self, events: Iterable[tuple[int, int, int]], now: float) -> list[str]:
        """Process events received at monotonic time ``now``; return the completed scans."""
        out: list[str] = []
        for etype, code, value in events:
            if etype != EV_KEY:
                continue
            if self.suffix == "none":
                out += self.flush_idle(now)
            elif (self._chars or self._skipping) and self._last_key_at is not None \
                    and self.gap_s > 0 and now - self._last_key_at > self.gap_s:
                self._drop_partial()
            self._last_key_at = now
            out += self._key(code, value)
        return out

    def flush_idle(self, now: float) -> list[str]:
        """With ``suffix="none"``: end the pending scan once ``gap_s`` has passed."""
        if self.suffix != "none" or self._last_key_at is None:
            return []
        if now - self._last_key_at < self.gap_s or not (self._chars or self._skipping):
            return []
        return self._end()

    def reset(self) -> None:
        self._chars.clear()
        self._skipping = False
        self._shift.clear()
        self._ctrl.clear()
        self._alt.clear()
        self._alt_digits = ""
        self._last_key_at = None

    # -- internals -----------------------------------------------------------------------------
    def _key(self, code: int, value: int) -> list[str]:
        modifiers = {KEY_LEFTSHIFT: self._shift, KEY_RIGHTSHIFT: self._shift,
                     KEY_LEFTCTRL: self._ctrl, KEY_RIGHTCTRL: self._ctrl,
                     KEY_LEFTALT: self._alt, KEY_RIGHTALT: self._alt}
        if code in modifiers:
            held = modifiers[code]
            if value == RELEASE:
                held.discard(code)
                if held is self._alt and not self._alt:
                    self._finish_alt_code()
            else:
                held.add(code)
            return []
        if value == RELEASE:
            return []
        if code == KEY_CAPSLOCK:
            if value == PRESS:
                self._caps = not self._caps
            return []
        if code in self._suffix_keys:
            return self._end()
        if self._alt and self.alt_codes != "off":
            if code in KEYPAD_DIGITS:
                self._alt_digits += KEYPAD_DIGITS[code]
            return []
        pair = US_LAYOUT.get(code)
        if pair is None:
            if code in (KEY_ENTER, KEY_KPENTER, KEY_TAB):
                self._append("\n" if code != KEY_TAB else "\t")
            else:
                self.stats.unmapped += 1
            return []
        plain, shifted = pair
        if self._ctrl:
            ctrl = _CTRL_CHARS.get(plain) or (chr(ord(plain) - 96) if plain.isalpha() else "")
            if ctrl:
                self._append(ctrl)
            return []
        shift = bool(self._shift)
        if plain.isalpha() and self._caps:
            shift = not shift
        self._append(shifted if shift else plain)
        return []

    def _finish_alt_code(self) -> None:
        digits, self._alt_digits = self._alt_digits, ""
        if not digits:
            return
        number = int(digits)
        char = ""
        if self.alt_codes == "unicode":
            if 0 < number <= 0x10FFFF and not 0xD800 <= number <= 0xDFFF:
                char = chr(number)
        elif number < 0x80:
            char = chr(number)
        elif 0x8140 <= number <= 0xFEFE:
            with contextlib.suppress(UnicodeDecodeError):
                char = bytes([number >> 8, number & 0xFF]).decode("gb18030")
        if char:
            self._append(char)
        else:
            self.stats.unmapped += 1

    def _append(self, char: str) -> None:
        if self._skipping:
            return
        self._chars.append(char)
        if len(self._chars) > self.max_length:
            self.stats.overlong += 1
            self._chars.clear()
            self._skipping = True

    def _drop_partial(self) -> None:
        if self._chars and not self._skipping:
            self.stats.noise += 1
        self._chars.clear()
        self._skipping = False
        self._alt_digits = ""

    def _end(self) -> list[str]:
        text = "".join(self._chars)
        self._chars.clear()
        if self._skipping:
            self._skipping = False
            return []
        if not text:
            return []
        self.stats.lines += 1
        return [text]


def _press(code: int, at: float) -> bytes:
    return pack_event(EV_KEY, code, PRESS, at) + pack_event(EV_SYN, 0, 0, at)


def _release(code: int, at: float) -> bytes:
    return pack_event(EV_KEY, code, RELEASE, at) + pack_event(EV_SYN, 0, 0, at)


def encode_text(text: str, suffix: str = "enter", *, alt_codes: str = "") -> bytes:
    """The events a wedge scanner sends for ``text`` followed by its suffix key.

    Characters outside the US layout are typed as Alt+keypad codes (``alt_codes`` =
    ``"unicode"`` or ``"gb18030"``); without ``alt_codes`` they raise ``ValueError``.
    """
    at = time.time()
    out = bytearray()
    for char in text:
        if char in _CHAR_KEYS:
            code, shift = _CHAR_KEYS[char]
            if shift:
                out += _press(KEY_LEFTSHIFT, at)
            out += _press(code, at) + _release(code, at)
            if shift:
                out += _release(KEY_LEFTSHIFT, at)
            continue
        if alt_codes == "unicode":
            number = ord(char)
        elif alt_codes == "gb18030":
            raw = char.encode("gb18030")
            if len(raw) != 2:
                raise ValueError(f"{char!r} has no two-byte GB18030 code")
            number = raw[0] << 8 | raw[1]
        else:
            raise ValueError(f"{char!r} cannot be typed on the US layout; pass alt_codes")
        out += _press(KEY_LEFTALT, at)
        for digit in str(number):
            out += _press(_DIGIT_KEYPAD[digit], at) + _release(_DIGIT_KEYPAD[digit], at)
        out += _release(KEY_LEFTALT, at)
    if suffix != "none":
        key = KEY_TAB if suffix == "tab" else KEY_ENTER
        out += _press(key, at) + _release(key, at)
    return bytes(out)


@dataclass(frozen=True)
class InputDevice:
    """One entry of ``/proc/bus/input/devices``."""

    name: str
    path: str  # /dev/input/eventN
    keyboard: bool
    usb_id: str  # "vvvv:pppp"

    @property
    def looks_like_scanner(self) -> bool:
        return bool(re.search(r"scan|barcode|bar code|qr|honeywell|zebra|symbol|newland|"
                              r"datalogic|hid keyboard", self.name, re.IGNORECASE))


def list_input_devices(proc_path: str = "/proc/bus/input/devices") -> list[InputDevice]:
    """Keyboard-like input devices, for technicians choosing the wedge scanner's ``url``."""
    try:
        with open(proc_path, encoding="utf-8", errors="replace") as handle:
            blocks = handle.read().split("\n\n")
    except OSError:
        return []
    devices: list[InputDevice] = []
    for block in blocks:
        name = re.search(r'^N: Name="(.*)"$', block, re.MULTILINE)
        handlers = re.search(r"^H: Handlers=(.*)$", block, re.MULTILINE)
        ids = re.search(r"Vendor=([0-9a-f]{4}) Product=([0-9a-f]{4})", block)
        if not (name and handlers):
            continue
        event = re.search(r"\bevent(\d+)\b", handlers.group(1))
        if not event:
            continue
        devices.append(InputDevice(
            name=name.group(1), path=os.path.join("/dev/input", f"event{event.group(1)}"),
            keyboard="kbd" in handlers.group(1).split(),
            usb_id=f"{ids.group(1)}:{ids.group(2)}" if ids else ""))
    return [d for d in devices if d.keyboard]

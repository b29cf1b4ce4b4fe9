"""Frames of the SAM module's serial protocol ("GA 467"), both directions.

Host → reader::

    AA AA AA 96 69 | LEN (2, big-endian) | CMD | PARA | DATA… | CHK

Reader → host::

    AA AA AA 96 69 | LEN (2, big-endian) | SW1 SW2 SW3 | DATA… | CHK

``LEN`` counts every byte after itself, checksum included; ``CHK`` is the XOR of every byte after
the 5-byte preamble up to (not including) ``CHK``, the two ``LEN`` bytes included.

:class:`FrameParser` turns a byte stream into :class:`Frame` objects. It never raises on bad
input: garbage is skipped, bad checksums and impossible lengths are reported as typed
:class:`FrameError` values (``pop_errors()``), split frames wait for their tail and merged
frames come out one by one. Every call does a bounded amount of work.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_SIZE = len(PREAMBLE) + 2  # preamble + LEN

#: the longest reply: SW1-3, three lengths, text 256 + photo 1024 + fingerprint 1024, CHK
MAX_REPLY_LEN = 3 + 6 + 256 + 1024 + 1024 + 1
#: a generous upper bound for LEN in either direction; anything above is impossible
MAX_LEN = 0x0A00
MIN_REPLY_LEN = 4  # SW1 SW2 SW3 CHK
MIN_COMMAND_LEN = 3  # CMD PARA CHK

TEXT_SIZE = 256
PHOTO_SIZE = 1024
FINGERPRINT_SIZE = 1024
APPENDED_ADDRESS_SIZE = 70
SAM_ID_SIZE = 16


class Command(enum.Enum):
    """Host commands as (CMD, PARA)."""

    RESET = (0x10, 0xFF)
    STATUS = (0x11, 0xFF)
    SAM_ID = (0x12, 0xFF)
    FIND = (0x20, 0x01)
    SELECT = (0x20, 0x02)
    READ_TEXT_PHOTO = (0x30, 0x01)
    READ_APPENDED_ADDRESS = (0x30, 0x03)
    READ_WITH_FINGERPRINT = (0x30, 0x10)
    BAUD_115200 = (0x60, 0x00)
    BAUD_57600 = (0x60, 0x01)
    BAUD_38400 = (0x60, 0x02)
    BAUD_19200 = (0x60, 0x03)
    BAUD_9600 = (0x60, 0x04)

    @property
    def cmd(self) -> int:
        return self.value[0]

    @property
    def para(self) -> int:
        return self.value[1]

    @classmethod
    def lookup(cls, cmd: int, para: int) -> Command | None:
        return _COMMANDS.get((cmd, para))


_COMMANDS = {c.value: c for c in Command}

#: baud rate set by each ``60 0x`` command
BAUD_COMMANDS: dict[int, Command] = {
    115200: Command.BAUD_115200,
    57600: Command.BAUD_57600,
    38400: Command.BAUD_38400,
    19200: Command.BAUD_19200,
    9600: Command.BAUD_9600,
}


class Status(enum.IntEnum):
    """SW3, the reader's result code, with a plain-language message for each value."""

    OK = 0x90
    FIND_OK = 0x9F
    CHECKSUM_ERROR = 0x10
    LENGTH_ERROR = 0x11
    COMMAND_ERROR = 0x21
    NOT_PERMITTED = 0x23
    UNKNOWN_ERROR = 0x24
    CARD_AUTH_FAILED = 0x31
    SAM_AUTH_FAILED = 0x32
    VERIFY_ERROR = 0x33
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_FAILED = 0x47
    SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    NO_CARD = 0x80
    SELECT_FAILED = 0x81
    ITEM_EMPTY = 0x91

    @property
    def message(self) -> str:
        return _MESSAGES[self]

    @property
    def is_success(self) -> bool:
        return self in (Status.OK, Status.FIND_OK)

    @property
    def is_card_problem(self) -> bool:
        """The card (or its placement) is at fault, not the reader: ask to place it again."""
        return self in _CARD_PROBLEMS

    @property
    def is_reader_fault(self) -> bool:
        """The SAM module itself is failing: the reader should be reported unavailable."""
        return self in (Status.SELF_TEST_FAILED, Status.SAM_NOT_AUTHORISED,
                        Status.SAM_AUTH_FAILED)


_MESSAGES: dict[Status, str] = {
    Status.OK: "ok",
    Status.FIND_OK: "card found",
    Status.CHECKSUM_ERROR: "the reader received a command with a bad checksum",
    Status.LENGTH_ERROR: "the reader received a command with a bad length",
    Status.COMMAND_ERROR: "the reader does not know this command",
    Status.NOT_PERMITTED: "the reader does not permit this command now",
    Status.UNKNOWN_ERROR: "the reader reported an unknown error",
    Status.CARD_AUTH_FAILED: "the card failed authentication (not a genuine card, or moved)",
    Status.SAM_AUTH_FAILED: "the reader's security module failed authentication",
    Status.VERIFY_ERROR: "the card's data failed verification",
    Status.UNKNOWN_CARD_TYPE: "this kind of card cannot be read here",
    Status.READ_FAILED: "reading the card failed; place it again and hold it still",
    Status.RANDOM_FAILED: "the card did not answer (it may have been moved)",
    Status.SELF_TEST_FAILED: "the reader's security module failed its self-test",
    Status.SAM_NOT_AUTHORISED: "the reader's security module is not authorised",
    Status.NO_CARD: "no card on the reader",
    Status.SELECT_FAILED: "the card could not be selected; place it again",
    Status.ITEM_EMPTY: "the card has no such item",
}
_CARD_PROBLEMS = frozenset({
    Status.CARD_AUTH_FAILED, Status.VERIFY_ERROR, Status.UNKNOWN_CARD_TYPE, Status.READ_FAILED,
    Status.RANDOM_FAILED, Status.SELECT_FAILED,
})


def describe_sw3(code: int) -> str:
    """Plain-language meaning of any SW3 byte, including codes this module does not know."""
    try:
        return Status(code).message
    except ValueError:
        return f"the reader answered with an unknown status code 0x{code:02X}"


def checksum(body: bytes | bytearray | memoryview) -> int:
    """XOR of ``body`` (LEN bytes and payload, without the preamble and CHK).

    Computed by folding one big integer in halves, which runs in C: a 1,295-byte reply costs
    about a microsecond instead of the ~50 µs of a Python loop.
    """
    size = len(body)
    if size == 0:
        return 0
    value = int.from_bytes(body, "little")
    width = 1 << (size - 1).bit_length()  # bytes, a power of two >= size
    while width > 1:
        width >>= 1
        bits = width * 8
        value = (value & ((1 << bits) - 1)) ^ (value >> bits)
    return value


def _frame(payload: bytes) -> bytes:
    length = len(payload) + 1
    if length > 0xFFFF:
        raise ValueError("frame payload too long")
    body = struct.pack(">H", length) + payload
    return PREAMBLE + body + bytes([checksum(body)])


def build_command(command: Command | tuple[int, int], data: bytes = b"") -> bytes:
    """A host frame, e.g. ``build_command(Command.FIND)`` → ``AA AA AA 96 69 00 03 20 01 22``."""
    cmd, para = command.value if isinstance(command, Command) else command
    return _frame(bytes([cmd, para]) + data)


def build_reply(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    """A reader frame (used by the emulator and tests)."""
    return _frame(bytes([sw1, sw2, sw3]) + data)


# -- parsed frames ----------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Frame:
    """One checked frame; ``payload`` is everything between LEN and CHK."""

    payload: bytes

    def as_reply(self) -> Reply:
        """Interpret as a reader → host frame; ``ValueError`` if it is too short."""
        if len(self.payload) < 3:
            raise ValueError("a reply has at least SW1 SW2 SW3")
        return Reply(self.payload[0], self.payload[1], self.payload[2], self.payload[3:])

    def as_command(self) -> CommandFrame:
        """Interpret as a host → reader frame; ``ValueError`` if it is too short."""
        if len(self.payload) < 2:
            raise ValueError("a command has at least CMD PARA")
        return CommandFrame(self.payload[0], self.payload[1], self.payload[2:])

    def __repr__(self) -> str:  # the payload may hold personal data: never print it
        return f"Frame({len(self.payload)} B)"


@dataclass(frozen=True, repr=False)
class Reply:
    sw1: int
    sw2: int
    sw3: int
    data: bytes

    @property
    def status(self) -> Status | None:
        """The known :class:`Status`, or ``None`` for a code this module does not know."""
        try:
            return Status(self.sw3)
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return self.sw3 in (Status.OK, Status.FIND_OK)

    @property
    def message(self) -> str:
        return describe_sw3(self.sw3)

    def __repr__(self) -> str:
        return f"Reply(sw=0x{self.sw1:02X}{self.sw2:02X}{self.sw3:02X}, {len(self.data)} B)"


@dataclass(frozen=True, repr=False)
class CommandFrame:
    cmd: int
    para: int
    data: bytes

    @property
    def command(self) -> Command | None:
        return Command.lookup(self.cmd, self.para)

    def __repr__(self) -> str:
        return f"CommandFrame({self.cmd:02X} {self.para:02X}, {len(self.data)} B)"


# -- errors -----------------------------------------------------------------------------------
class FrameError(Exception):
    """Base of the parser's typed errors (reported, not raised, by :class:`FrameParser`)."""

    advice = "the line is noisy or the settings do not match"


class ChecksumError(FrameError):
    """A complete frame whose CHK does not match."""

    advice = "checksum error: check the baud rate and the cable"


class LengthError(FrameError):
    """A LEN that no frame can have (too short, too long), or a frame cut short."""

    advice = "frame length error: check the baud rate and the cable"


class ReplyDataError(FrameError):
    """A checked reply whose data does not have the expected layout."""

    advice = "the reader sent an unexpected answer: check that it is a SAM ID card reader"


# -- streaming parser ------------------------------------------------------------------------
class FrameParser:
    """Splits a byte stream into checked frames; resynchronises on the preamble.

    ``min_len``/``max_len`` bound LEN (defaults suit reader replies; the emulator uses
    ``min_len=MIN_COMMAND_LEN`` for host commands). A header claiming an impossible LEN is
    dropped at once; a frame whose checksum fails is dropped by skipping one byte and searching
    again, so a real frame hidden behind a corrupted header is still found. While a long frame
    is incomplete, a complete valid frame that starts later in the buffer wins (the long header
    was garbage), so a corrupted LEN never holds up the replies behind it.
    """

    def __init__(self, min_len: int = MIN_REPLY_LEN, max_len: int = MAX_LEN,
                 max_errors: int = 64) -> None:
        self.min_len = min_len
        self.max_len = max_len
        self._buf = bytearray()
        self._errors: list[FrameError] = []
        self._max_errors = max_errors
        self.frames = 0
        self.garbage_bytes = 0
        self.checksum_errors = 0
        self.length_errors = 0

    # -- public --------------------------------------------------------------------------
    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Add bytes; return every frame completed by them (possibly none).

        Errors found on the way are kept for :meth:`pop_errors`.
        """
        frames: list[Frame] = []
        for item in self.feed_items(data):
            if isinstance(item, Frame):
                frames.append(item)
            elif len(self._errors) < self._max_errors:
                self._errors.append(item)
        return frames

    def feed_items(self, data: bytes | bytearray | memoryview) -> list[Frame | FrameError]:
        """Add bytes; return frames and errors in the order they occurred in the stream."""
        items: list[Frame | FrameError] = []
        try:
            self._buf += data
            self._drain(items)
        except Exception as exc:  # defensive: a parser bug must not kill the reader thread
            self._buf.clear()
            items.append(FrameError(f"parser reset after internal error: {type(exc).__name__}"))
        return items

    def pop_errors(self) -> list[FrameError]:
        """Errors seen since the last call (oldest first), then forget them."""
        errors, self._errors = self._errors, []
        return errors

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buf)

    def wanted(self) -> int:
        """How many more bytes would complete the frame being received (at least 1).

        A reader can ask for exactly this many bytes and never block waiting for bytes that
        belong to no frame.
        """
        buf = self._buf
        if len(buf) >= HEADER_SIZE and buf.startswith(PREAMBLE):
            length = (buf[5] << 8) | buf[6]
            if self.min_len <= length <= self.max_len:
                return max(1, HEADER_SIZE + length - len(buf))
        return max(1, HEADER_SIZE - len(buf))

    def reset(self) -> None:
        """Forget any partial frame (after a time-out or a reconnect)."""
        if self._buf:
            self.garbage_bytes += len(self._buf)
        self._buf.clear()

    def stats(self) -> dict[str, int]:
        return {"frames": self.frames, "garbage_bytes": self.garbage_bytes,
                "checksum_errors": self.checksum_errors, "length_errors": self.length_errors}

    # -- internals -------------------------------------------------------------------------
    def _report(self, items: list[Frame | FrameError], error: FrameError) -> None:
        if isinstance(error, ChecksumError):
            self.checksum_errors += 1
        elif isinstance(error, LengthError):
            self.length_errors += 1
        items.append(error)

    def _discard(self, count: int) -> None:
        self.garbage_bytes += count
        del self._buf[:count]

    def _check_at(self, start: int) -> tuple[str, int]:
        """Classify the frame starting at ``start`` (which holds the preamble).

        Returns ``("partial", 0)``, ``("badlen", length)``, ``("badsum", length)`` or
        ``("ok", length)``.
        """
        buf = self._buf
        if len(buf) - start < HEADER_SIZE:
            return "partial", 0
        length = (buf[start + 5] << 8) | buf[start + 6]
        if length < self.min_len or length > self.max_len:
            return "badlen", length
        end = start + HEADER_SIZE + length
        if len(buf) < end:
            return "partial", length
        if checksum(buf[start + 5:end - 1]) != buf[end - 1]:
            return "badsum", length
        return "ok", length

    def _drain(self, items: list[Frame | FrameError]) -> None:
        buf = self._buf
        # Each pass removes at least one byte or returns, so the loop ends.
        while buf:
            start = buf.find(PREAMBLE)
            if start < 0:
                keep = self._partial_preamble_tail()
                self._discard(len(buf) - keep)
                return
            if start:
                self._discard(start)
            verdict, length = self._check_at(0)
            if verdict == "ok":
                end = HEADER_SIZE + length
                items.append(Frame(bytes(buf[HEADER_SIZE:end - 1])))
                self.frames += 1
                del buf[:end]
            elif verdict == "badlen":
                self._report(items, LengthError(f"impossible frame length {length}"))
                self._discard(1)
            elif verdict == "badsum":
                self._report(items, ChecksumError(f"bad checksum on a {length}-byte frame"))
                self._discard(1)
            else:  # partial: wait, unless a complete frame further on proves this one bogus
                later = self._complete_frame_after(1)
                if later < 0:
                    return
                self._report(items, LengthError("frame cut short by the next frame"))
                self._discard(later)

    def _complete_frame_after(self, offset: int) -> int:
        """Start of the first complete, valid frame at or after ``offset``, or -1."""
        buf = self._buf
        pos = buf.find(PREAMBLE, offset)
        while pos >= 0:
            verdict, _ = self._check_at(pos)
            if verdict == "ok":
                return pos
            pos = buf.find(PREAMBLE, pos + 1)
        return -1

    def _partial_preamble_tail(self) -> int:
        """How many trailing bytes could be the start of a preamble."""
        buf = self._buf
        for keep in range(min(len(PREAMBLE) - 1, len(buf)), 0, -1):
            if buf[-keep:] == PREAMBLE[:keep]:
                return keep
        return 0

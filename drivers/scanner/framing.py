"""Turning the byte stream of a line-oriented scanner into payloads, robust to noise.

A serial scanner sends each code as one burst of bytes followed by a suffix (CR, LF, CRLF, or
whatever it was configured to send; some send nothing). :class:`LineFramer` cuts the stream
into payloads and resynchronises after noise:

- **noise bytes** (NUL, 0xFF and C0 control characters other than TAB and the ISO 15434
  separators RS/GS/EOT, or DEL) throw away the line they are in, and framing restarts after
  them: line noise from hot-plugging or a wrong baud rate never glues onto the next code;
- **a silence** longer than ``gap_s`` in the middle of a line discards the partial line: a
  scanner sends a whole code in one burst, so a fragment followed by a pause is noise;
- **an over-long line** (more than ``max_length`` bytes before a suffix) is discarded with
  everything up to the next suffix;
- **undecodable bytes** (not valid in the configured encoding) discard the line.

With ``suffix="none"`` a payload ends after ``gap_s`` of silence (call :meth:`flush_idle`).

Nothing here logs payloads; counters in :attr:`LineFramer.stats` say what was dropped.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

#: named suffixes accepted in the ``suffix`` option
SUFFIX_NAMES: dict[str, bytes | None] = {
    "auto": None,  # CR, LF or CRLF
    "cr": b"\r",
    "lf": b"\n",
    "crlf": b"\r\n",
    "tab": b"\t",
    "etx": b"\x03",
    "none": b"",  # a payload ends with a silence of gap_s
}

ENCODINGS = ("auto", "utf-8", "gb18030", "latin-1")

_ALLOWED_CONTROLS = frozenset(b"\t\x04\x1d\x1e")
_NOISE = frozenset(range(0x20)) - _ALLOWED_CONTROLS - frozenset(b"\r\n") | {0x7F, 0xFF}
_AIM_RE = re.compile(r"^\][A-Za-z][0-9A-Za-z]")


def parse_suffix(value: str | bytes | None) -> bytes | None:
    """``"auto"``/``None`` → ``None`` (CR, LF or CRLF); a name from :data:`SUFFIX_NAMES`; or a
    literal with escapes such as ``"\\x03"`` or ``"#"``."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    key = value.strip().lower()
    if key in SUFFIX_NAMES:
        return SUFFIX_NAMES[key]
    try:
        raw = codecs.decode(value, "unicode_escape").encode("latin-1")
    except (UnicodeDecodeError, UnicodeEncodeError) as exc:
        raise ValueError(f"cannot read scanner suffix {value!r}: use one of "
                         f"{', '.join(SUFFIX_NAMES)} or a literal such as \\x03") from exc
    if not raw or len(raw) > 4:
        raise ValueError(f"scanner suffix {value!r} must be 1 to 4 bytes, or one of "
                         f"{', '.join(SUFFIX_NAMES)}")
    return raw


def decode_payload(raw: bytes, encoding: str) -> str | None:
    """Bytes of one line → text, or ``None`` when they are not valid in ``encoding``.

    ``auto`` tries UTF-8 first, then GB18030 (what Chinese scanners send for Chinese text).
    """
    candidates = ("utf-8", "gb18030") if encoding == "auto" else (encoding,)
    for name in candidates:
        try:
            text = raw.decode(name)
        except UnicodeDecodeError:
            continue
        if "\ufffd" not in text:
            return text
    return None


def strip_aim(text: str) -> str:
    """Remove an AIM symbology identifier (``]Q1``, ``]C0``...) some scanners put first."""
    return text[3:] if _AIM_RE.match(text) else text


@dataclass
class FramerStats:
    lines: int = 0
    noise: int = 0  # lines or fragments dropped because of noise bytes or a mid-line silence
    overlong: int = 0
    undecodable: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class LineFramer:
    """Byte stream → payloads. Not thread-safe: one reader thread owns it."""

    def __init__(self, suffix: bytes | None = None, *, max_length: int = 4096,
                 gap_s: float = 0.3, encoding: str = "auto", aim: bool = False) -> None:
        if max_length < 1:
            raise ValueError("max_length must be at least 1")
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown scanner encoding {encoding!r}; use one of "
                             f"{', '.join(ENCODINGS)}")
        if suffix == b"" and gap_s <= 0:
            raise ValueError("suffix 'none' needs gap_s > 0 to know where a code ends")
        self.suffix = suffix
        self.max_length = max_length
        self.gap_s = gap_s
        self.encoding = encoding
        self.aim = aim
        self.stats = FramerStats()
        self._buf = bytearray()
        self._skipping = False  # inside an over-long line: drop up to the next suffix
        self._last_byte_at: float | None = None

    # -- feeding -------------------------------------------------------------------------------
    def feed(self, data: bytes, now: float) -> list[str]:
        """Add bytes received at monotonic time ``now``; return the payloads completed."""
        out: list[str] = []
        if not data:
            return out
        if self.suffix == b"":
            out += self.flush_idle(now)
        elif (self._buf or self._skipping) and self._last_byte_at is not None \
                and self.gap_s > 0 and now - self._last_byte_at > self.gap_s:
            self._drop_partial()
        self._last_byte_at = now
        if self.suffix is None:
            self._feed_auto(data, out)
        elif self.suffix == b"":
            self._feed_gap(data)
        else:
            self._feed_suffix(data, out)
        return out

    def flush_idle(self, now: float) -> list[str]:
        """With ``suffix="none"``: end the pending payload once ``gap_s`` has passed."""
        if self.suffix != b"" or self._last_byte_at is None:
            return []
        if now - self._last_byte_at < self.gap_s:
            return []
        return self._end_line()

    def reset(self) -> None:
        """Forget any partial line (the port was reopened)."""
        self._buf.clear()
        self._skipping = False
        self._last_byte_at = None

    @property
    def pending(self) -> int:
        """Bytes of a line not yet complete."""
        return len(self._buf)

    # -- internals -----------------------------------------------------------------------------
    def _feed_auto(self, data: bytes, out: list[str]) -> None:
        for byte in data:
            if byte in (0x0D, 0x0A):
                out += self._end_line()
            else:
                self._add(byte)

    def _feed_gap(self, data: bytes) -> None:
        for byte in data:
            self._add(byte)

    def _feed_suffix(self, data: bytes, out: list[str]) -> None:
        suffix = self.suffix
        assert suffix
        for byte in data:
            self._add(byte, suffix_byte=byte in suffix)
            if self._buf.endswith(suffix):
                del self._buf[-len(suffix):]
                out += self._end_line()
            elif self._skipping and self._tail_matches(byte):
                out += self._end_line()

    def _tail_matches(self, byte: int) -> bool:
        """While skipping an over-long line, notice the suffix without buffering the line."""
        suffix = self.suffix or b""
        self._buf.append(byte)
        if len(self._buf) > len(suffix):
            del self._buf[:-len(suffix)]
        return bytes(self._buf) == suffix

    def _add(self, byte: int, suffix_byte: bool = False) -> None:
        if byte in _NOISE and not suffix_byte:
            if self._buf or not self._skipping:
                self.stats.noise += 1
            self._buf.clear()
            self._skipping = False
            return
        if self._skipping:
            return
        self._buf.append(byte)
        limit = self.max_length + (len(self.suffix) if self.suffix else 0)
        if len(self._buf) > limit:
            self.stats.overlong += 1
            self._buf.clear()
            self._skipping = True

    def _drop_partial(self) -> None:
        if self._buf and not self._skipping:
            self.stats.noise += 1
        self._buf.clear()
        self._skipping = False

    def _end_line(self) -> list[str]:
        raw = bytes(self._buf)
        self._buf.clear()
        if self._skipping:
            self._skipping = False
            return []
        if not raw:
            return []  # the LF of a CRLF, or an empty line
        if len(raw) > self.max_length:
            self.stats.overlong += 1
            return []
        text = decode_payload(raw, self.encoding)
        if text is None:
            self.stats.undecodable += 1
            return []
        if self.aim:
            text = strip_aim(text)
        if not text:
            return []
        self.stats.lines += 1
        return [text]

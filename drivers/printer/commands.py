"""ESC/POS byte builders (PROTOCOLS.md §7). Plain functions returning ``bytes``."""

from __future__ import annotations

ESC, GS, FS, DLE, EOT, LF = b"\x1b", b"\x1d", b"\x1c", b"\x10", b"\x04", b"\n"

INIT = ESC + b"@"
LINE_SPACING_DEFAULT = ESC + b"2"
CHINESE_ON = FS + b"&"
CHINESE_OFF = FS + b"."
PARTIAL_CUT = GS + b"V\x42\x00"  # feed to the cutter, then partial cut
FULL_CUT = GS + b"V\x41\x00"
ALIGN = {"left": ESC + b"a\x00", "center": ESC + b"a\x01", "right": ESC + b"a\x02"}
QR_EC = {"L": 48, "M": 49, "Q": 50, "H": 51}


def status_query(n: int) -> bytes:
    """``DLE EOT n``: real-time status (1 printer, 2 offline cause, 3 error, 4 paper sensor)."""
    return DLE + EOT + bytes([n])


def char_size(width: int, height: int) -> bytes:
    """``GS ! n``: magnification 1..8 in each direction."""
    return GS + b"!" + bytes([((width - 1) << 4) | (height - 1)])


def bold(on: bool) -> bytes:
    return ESC + b"E" + bytes([1 if on else 0])


def feed_lines(n: int) -> bytes:
    return ESC + b"d" + bytes([max(0, min(255, n))])


def feed_dots(n: int) -> bytes:
    return ESC + b"J" + bytes([max(0, min(255, n))])


def _qr_fn(fn: int, payload: bytes) -> bytes:
    length = len(payload) + 2
    return GS + b"(k" + bytes([length & 0xFF, length >> 8, 49, fn]) + payload


def qr_native(data: bytes, module_size: int, ec: str) -> bytes:
    """``GS ( k``: model 2, module size, error correction, store the data, print it."""
    return (_qr_fn(65, b"\x32\x00")
            + _qr_fn(67, bytes([module_size]))
            + _qr_fn(69, bytes([QR_EC[ec]]))
            + _qr_fn(80, b"\x30" + data)
            + _qr_fn(81, b"\x30"))


def raster(width_bytes: int, height: int, data: bytes, mode: int = 0) -> bytes:
    """``GS v 0``: a raster bit image, ``width_bytes`` × 8 dots wide, MSB = leftmost dot."""
    return (GS + b"v0" + bytes([mode, width_bytes & 0xFF, width_bytes >> 8,
                                height & 0xFF, height >> 8]) + data)


BARCODE_SYSTEM = {"CODE39": 69, "EAN13": 67, "CODE128": 73}


def barcode(data: bytes, symbology: str, module_width: int = 2, height: int = 80) -> bytes:
    """``GS k m n d…`` (format B), with human-readable text below in font A."""
    if symbology == "CODE128" and not data.startswith(b"{"):
        data = b"{B" + data
    return (GS + b"H\x02" + GS + b"f\x00" + GS + b"h" + bytes([height])
            + GS + b"w" + bytes([module_width])
            + GS + b"k" + bytes([BARCODE_SYSTEM[symbology], len(data)]) + data)

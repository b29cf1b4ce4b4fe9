"""Document → ESC/POS bytes, for Chinese thermal printers.

Why not python-escpos' own text and QR methods: its MagicEncode sends whole strings as GB18030
with no way to say which characters the printer's font lacks (they come out as ``?`` or
garbage), it has no ``FS &``/``FS .`` Chinese mode, and ``qr()`` defaults to a slow raster.
This module generates the bytes itself; the driver uses python-escpos only for the USB
transport.

Text is laid out on the printer's cell grid (12×24 dots per ASCII character, 24×24 per Chinese
character, times the magnification) and wrapped here, so that a line the printer's font cannot
print (a rare name character, a 4-byte GB18030 character) can be sent as a raster image of the
same size instead. Raster conversions of images (the hall logo) are cached, so a logo is
converted once per process, not once per ticket.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import segno
from PIL import Image as PILImage

from drivers.printer import commands as cmd
from drivers.printer.document import Barcode, Cut, Document, Feed, Image, QrCode, Rule, Text
from drivers.printer.fonts import CELL_HEIGHT, GlyphSet, cell_width, default_glyphs, text_width

log = logging.getLogger(__name__)

PAPER_DOTS = {58: 384, 80: 576}
ENCODINGS = ("gb18030", "gbk", "gbk_fs", "utf8")
COVERAGE = ("gb2312", "gbk", "all")
LINE_SPACING = 30  # dots: the printer's default line feed (ESC 2) as the interpreter draws it
QR_QUIET = 12  # dots fed above and below a QR code

def _encoder_options() -> dict:
    from drivers.options import Opt, opt

    return {
        "paper_width_mm": opt(58, "paper width; the one name for it everywhere", choices=(58, 80)),
        "encoding": opt("gb18030", "how Chinese text is sent", choices=ENCODINGS),
        "font_coverage": opt("gbk", "which characters the printer's font has", choices=COVERAGE),
        "raster_chars": opt("", "characters always printed as images"),
        "qr": opt("native", "GS ( k QR codes or raster images", choices=("native", "raster")),
        "cut": opt("partial", choices=("partial", "full")),
        "init": opt("", "vendor bytes (hex) sent after ESC @"),
        "fonts": Opt((str, list), (), "font files for raster text"),
        "font": opt("", "one font file for raster text"),
    }


#: the encoder's options (part of every printer backend's schema)
ENCODER_OPTIONS = _encoder_options()


def line_height(size: int) -> int:
    return max(LINE_SPACING, CELL_HEIGHT * size)


@dataclass(frozen=True)
class EncoderOptions:
    """How a particular printer wants its bytes (all from the device's config ``options``).

    - ``paper_width_mm``: 58 (384 dots) or 80 (576 dots).
    - ``encoding``: ``gb18030``/``gbk`` raw double-byte Chinese; ``gbk_fs`` GBK wrapped in
      ``FS &``…``FS .``; ``utf8``.
    - ``font_coverage``: which characters the printer's built-in font has: ``gb2312`` (6763
      common characters), ``gbk`` (default; 2-byte GBK), ``all`` (trust the printer).
      Anything outside it, plus ``raster_chars``, is printed as a raster line.
    - ``qr``: ``native`` (``GS ( k``, ~100 bytes) or ``raster`` (for printers without it; a
      few KB, seconds on a 9600-baud line: python-escpos issues #22, #251).
    - ``cut``: ``partial`` (default) or ``full``; ``init``: vendor bytes (hex) after ``ESC @``.
    """

    paper_width_mm: int = 58
    encoding: str = "gb18030"
    font_coverage: str = "gbk"
    raster_chars: str = ""
    qr: str = "native"
    cut: str = "partial"
    init: bytes = b""
    fonts: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.paper_width_mm not in PAPER_DOTS:
            raise ValueError(f"paper_width_mm must be 58 or 80, not {self.paper_width_mm}")
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}")
        if self.font_coverage not in COVERAGE:
            raise ValueError(f"font_coverage must be one of {', '.join(COVERAGE)}")
        if self.qr not in ("native", "raster"):
            raise ValueError("qr must be 'native' or 'raster'")
        if self.cut not in ("partial", "full"):
            raise ValueError("cut must be 'partial' or 'full'")

    @property
    def dots(self) -> int:
        return PAPER_DOTS[self.paper_width_mm]

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> EncoderOptions:
        init = options.get("init", b"")
        if isinstance(init, str):
            init = bytes.fromhex(init)
        fonts = options.get("fonts", options.get("font", ()))
        if isinstance(fonts, str):
            fonts = (fonts,)
        return cls(paper_width_mm=int(options.get("paper_width_mm", 58)),
                   encoding=str(options.get("encoding", "gb18030")),
                   font_coverage=str(options.get("font_coverage", "gbk")),
                   raster_chars=str(options.get("raster_chars", "")),
                   qr=str(options.get("qr", "native")),
                   cut=str(options.get("cut", "partial")),
                   init=bytes(init), fonts=tuple(fonts))


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TRAILING_WORD = re.compile(r"[!-~]+$")


def _is_word_char(ch: str) -> bool:
    return "!" <= ch <= "~"


class EscposEncoder:
    """Turns :class:`Document` into one ESC/POS job. Thread-safe; keep one per printer."""

    def __init__(self, options: EncoderOptions | None = None) -> None:
        self.options = options or EncoderOptions()
        self._glyphs: GlyphSet | None = None
        self._images: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._images_lock = threading.Lock()
        self.raster_lines = 0  # counters for diagnostics and tests
        self.image_conversions = 0

    @property
    def glyphs(self) -> GlyphSet:
        if self._glyphs is None:
            self._glyphs = GlyphSet(self.options.fonts) if self.options.fonts \
                else default_glyphs()
        return self._glyphs

    @property
    def dots(self) -> int:
        return self.options.dots

    # -- document ----------------------------------------------------------------------------
    def encode(self, doc: Document) -> bytes:
        out = bytearray(cmd.INIT + cmd.LINE_SPACING_DEFAULT + self.options.init)
        if self.options.encoding == "gbk_fs":
            out += cmd.CHINESE_OFF
        for block in doc.blocks:
            if isinstance(block, Text):
                out += self._text(block)
            elif isinstance(block, QrCode):
                out += self._qr(block)
            elif isinstance(block, Barcode):
                out += self._barcode(block)
            elif isinstance(block, Image):
                out += cmd.ALIGN["center"] + self._image(block.png)
            elif isinstance(block, Rule):
                char = block.char[:1] or "-"
                out += self._text(Text(char * (self.dots // cell_width(char))))
            elif isinstance(block, Feed):
                out += cmd.feed_lines(block.lines)
            elif isinstance(block, Cut):
                out += cmd.PARTIAL_CUT if self.options.cut == "partial" else cmd.FULL_CUT
            else:  # pragma: no cover - the Block union is closed
                raise TypeError(f"unknown block {type(block).__name__}")
        return bytes(out)

    # -- text --------------------------------------------------------------------------------
    def wrap(self, text: str, size: int = 1) -> list[str]:
        """Split ``text`` into printer lines that fit the paper at magnification ``size``."""
        lines: list[str] = []
        for raw in text.replace("\t", "    ").split("\n"):
            raw = _CONTROL.sub("", raw)
            line = ""
            for ch in raw:
                if line and text_width(line + ch, size) > self.dots:
                    word = _TRAILING_WORD.search(line) if _is_word_char(ch) else None
                    if word and word.start() > 0:  # keep an ASCII word together
                        lines.append(line[:word.start()].rstrip())
                        line = word.group(0)
                    else:
                        lines.append(line.rstrip())
                        line = ""
                    if ch == " ":
                        continue
                line += ch
            lines.append(line)
        return lines

    def covered(self, ch: str) -> bool:
        """Whether the printer's own font prints ``ch`` (else it goes out as a raster)."""
        return font_covers(ch, self.options.encoding, self.options.font_coverage,
                           self.options.raster_chars)

    def native_bytes(self, line: str) -> bytes | None:
        """The bytes of ``line`` in the printer's encoding, or None if a character needs raster."""
        if not all(self.covered(ch) for ch in line):
            return None
        encoding = self.options.encoding
        if encoding == "utf8":
            return line.encode("utf-8")
        if encoding == "gb18030":
            return line.encode("gb18030")
        if encoding == "gbk":
            return line.encode("gbk")
        out, chinese = bytearray(), False  # gbk_fs: wrap each run of Chinese in FS & … FS .
        for ch in line:
            wide = ord(ch) >= 0x80
            if wide != chinese:
                out += cmd.CHINESE_ON if wide else cmd.CHINESE_OFF
                chinese = wide
            out += ch.encode("gbk")
        if chinese:
            out += cmd.CHINESE_OFF
        return bytes(out)

    def _text(self, block: Text) -> bytes:
        out = bytearray(cmd.ALIGN[block.align])
        styled = False
        for line in self.wrap(block.text, block.size):
            native = self.native_bytes(line)
            if native is None:
                out += self._raster_line(line, block.size, block.bold)
                continue
            if not styled:
                out += cmd.char_size(block.size, block.size) + cmd.bold(block.bold)
                styled = True
            out += native + cmd.LF
        if styled:
            out += cmd.char_size(1, 1) + cmd.bold(False)
        return bytes(out)

    def _raster_line(self, line: str, size: int, bold: bool) -> bytes:
        self.raster_lines += 1
        image = self.glyphs.line(line, px=CELL_HEIGHT * size, bold=bold,
                                 height=line_height(size))
        return raster_command(image)

    # -- codes and images --------------------------------------------------------------------
    def qr_module_size(self, block: QrCode) -> int:
        """The module size that fits the paper (the asked one when it fits)."""
        modules = qr_symbol(block.data, block.ec).symbol_size(scale=1, border=0)[0]
        module = min(block.module_size, self.dots // modules)
        if module < 1:
            raise ValueError(f"QR data too long for {self.options.paper_width_mm} mm paper")
        return module

    def _qr(self, block: QrCode) -> bytes:
        module = self.qr_module_size(block)
        out = bytearray(cmd.ALIGN["center"] + cmd.feed_dots(QR_QUIET))
        if self.options.qr == "native":
            out += cmd.qr_native(block.data.encode("utf-8"), module, block.ec)
        else:
            buffer = io.BytesIO()
            qr_symbol(block.data, block.ec).save(buffer, kind="png", scale=module, border=0)
            out += raster_command(PILImage.open(io.BytesIO(buffer.getvalue())).convert("L"))
        out += cmd.feed_dots(QR_QUIET) + cmd.ALIGN["left"]
        return bytes(out)

    def _barcode(self, block: Barcode) -> bytes:
        data = block.data
        if not data.isascii() or not data.isprintable():
            raise ValueError("barcode data must be printable ASCII")
        if block.symbology == "EAN13" and not (data.isdigit() and len(data) in (12, 13)):
            raise ValueError("EAN13 needs 12 or 13 digits")
        modules = barcode_modules(data, block.symbology)
        width = next((w for w in (3, 2, 1) if modules * w <= self.dots), 0)
        if not width:
            raise ValueError(f"barcode too long for {self.options.paper_width_mm} mm paper")
        return (cmd.ALIGN["center"] + cmd.barcode(data.encode("ascii"), block.symbology, width)
                + cmd.LF + cmd.ALIGN["left"])

    def _image(self, png: bytes) -> bytes:
        key = (hashlib.sha256(png).hexdigest(), self.dots)
        with self._images_lock:
            cached = self._images.get(key)
            if cached is not None:
                self._images.move_to_end(key)
                return cached
        image = PILImage.open(io.BytesIO(png))
        image.load()
        if image.mode in ("RGBA", "LA", "P"):
            background = PILImage.new("RGBA", image.size, "white")
            image = PILImage.alpha_composite(background, image.convert("RGBA"))
        image = image.convert("L")
        if image.width > self.dots:
            height = max(1, round(image.height * self.dots / image.width))
            image = image.resize((self.dots, height), PILImage.Resampling.LANCZOS)
        data = raster_command(image.convert("1"))  # Floyd-Steinberg dithering
        with self._images_lock:
            self.image_conversions += 1
            self._images[key] = data
            while len(self._images) > 16:
                self._images.popitem(last=False)
        return data


def font_covers(ch: str, encoding: str, coverage: str, raster_chars: str = "") -> bool:
    """Whether a printer with ``encoding`` and a font of ``coverage`` has a glyph for ``ch``."""
    if ord(ch) < 0x80:
        return True
    if ch in raster_chars:
        return False
    if coverage == "all" and encoding in ("gb18030", "utf8"):
        return True
    try:
        encoded = ch.encode("gb2312" if coverage == "gb2312" else "gbk")
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2


def qr_symbol(data: str, ec: str) -> segno.QRCode:
    """The QR symbol a printer would choose: smallest version, no error-level boost."""
    return segno.make(data, error=ec.lower(), micro=False, boost_error=False)


def barcode_modules(data: str, symbology: str) -> int:
    """Width in modules (narrow bars) of a barcode, quiet zones excluded."""
    if symbology == "CODE128":
        return 11 * (len(data) + 3) + 2
    if symbology == "EAN13":
        return 95
    return 16 * (len(data) + 2)  # CODE39, wide:narrow 2.5:1 plus gap


def raster_command(image: PILImage.Image, chunk_rows: int = 256) -> bytes:
    """``GS v 0`` commands for a black-on-white image (split in bands of ``chunk_rows``)."""
    mono = image.convert("L").point(lambda v: 255 if v < 128 else 0).convert("1")
    width_bytes = (mono.width + 7) // 8
    padded = PILImage.new("1", (width_bytes * 8, mono.height), 0)
    padded.paste(mono, (0, 0))
    out = bytearray()
    for top in range(0, padded.height, chunk_rows):
        band = padded.crop((0, top, padded.width, min(padded.height, top + chunk_rows)))
        out += cmd.raster(width_bytes, band.height, band.tobytes())
    return bytes(out)

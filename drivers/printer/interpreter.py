"""An ESC/POS interpreter: parses printer bytes and draws what a thermal printer would print.

Two layers:

- :func:`parse` splits a byte stream into :class:`Command` s (knows the length of every
  command the kiosk and common drivers send, so that data inside an image or a QR code is never
  mistaken for a command). The emulator uses it incrementally to answer ``DLE EOT`` and to split
  jobs at cuts.
- :class:`EscposInterpreter` renders a job to a PIL image at the printer's dot width: text in
  GB18030/GBK (raw or inside ``FS &``…``FS .``) or UTF-8 with a CJK font on the Font A grid,
  magnification, bold, alignment, native QR codes (``GS ( k``, re-drawn with segno), raster
  images (``GS v 0``), CODE128/CODE39/EAN13 barcodes and cut marks.

The rendering also reports what went wrong in ways a picture hides: characters the simulated
printer font does not have (``missing_glyphs``, drawn as boxes), text the printer had to wrap or
images wider than the paper (``warnings``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from drivers.printer.encoder import LINE_SPACING, PAPER_DOTS, font_covers, qr_symbol
from drivers.printer.fonts import CELL_HEIGHT, GlyphSet, default_glyphs

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10

# total length (prefix + letter + fixed parameters) of fixed-size commands
_ESC_FIXED = {b"@": 2, b"2": 2, b"S": 2, b"L": 2, b"<": 2, b"3": 3, b"!": 3, b"E": 3, b"G": 3,
              b"-": 3, b"a": 3, b"d": 3, b"J": 3, b"M": 3, b"t": 3, b"R": 3, b"{": 3, b"V": 3,
              b" ": 3, b"U": 3, b"K": 3, b"e": 3, b"T": 3, b"r": 3, b"=": 3, b"%": 3, b"?": 3,
              b"c": 4, b"$": 4, b"\\": 4, b"p": 5}
_GS_FIXED = {b"!": 3, b"B": 3, b"H": 3, b"f": 3, b"h": 3, b"w": 3, b"a": 3, b"r": 3, b"I": 3,
             b"b": 3, b"/": 3, b"L": 4, b"W": 4, b"$": 4, b"P": 4, b"\\": 4}
_FS_FIXED = {b"&": 2, b".": 2, b"!": 3, b"-": 3, b"C": 3, b"W": 3, b"S": 4, b"p": 4}


@dataclass(frozen=True)
class Command:
    """One parsed unit: ``name`` is ``"TEXT"`` for printable bytes, ``"LF"``, ``"ESC a"``,
    ``"GS v 0"``, ``"DLE EOT"``…; ``raw`` the exact bytes."""

    name: str
    raw: bytes

    @property
    def is_realtime(self) -> bool:
        return self.name.startswith("DLE ")

    @property
    def is_cut(self) -> bool:
        return self.name in ("GS V", "ESC i", "ESC m")


def _length(buf: bytes | bytearray, i: int) -> tuple[str, int] | None:
    """Name and length of the command at ``buf[i]``, or None if it is not complete yet."""
    n = len(buf)
    b = buf[i]

    def need(k: int) -> bool:
        return i + k <= n

    if b >= 0x20:
        j = i
        while j < n and buf[j] >= 0x20:
            j += 1
        return "TEXT", j - i
    if b in (ESC, GS, FS, DLE):
        if not need(2):
            return None
        letter = bytes([buf[i + 1]])
        prefix = {ESC: "ESC", GS: "GS", FS: "FS", DLE: "DLE"}[b]
        if b == DLE:
            if letter in (b"\x04", b"\x05"):
                return ("DLE EOT" if letter == b"\x04" else "DLE ENQ", 3) if need(3) else None
            if letter == b"\x14":
                return ("DLE DC4", 5) if need(5) else None
            return "DLE", 1
        name = f"{prefix} {letter.decode('latin-1')}"
        if b == ESC:
            if letter in (b"i", b"m"):
                return name, 2
            if letter in _ESC_FIXED:
                k = _ESC_FIXED[letter]
                return (name, k) if need(k) else None
            if letter == b"*":
                if not need(5):
                    return None
                m, count = buf[i + 2], buf[i + 3] | buf[i + 4] << 8
                k = 5 + count * (3 if m in (32, 33) else 1)
                return (name, k) if need(k) else None
            if letter == b"D":
                j = i + 2
                while j < n and buf[j] != 0:
                    j += 1
                return (name, j + 1 - i) if j < n else None
            return name, 2  # unknown: skip the letter
        if b == GS:
            if letter in _GS_FIXED:
                k = _GS_FIXED[letter]
                return (name, k) if need(k) else None
            if letter == b"V":
                if not need(3):
                    return None
                k = 4 if buf[i + 2] in (65, 66, 97, 98, 103, 104) else 3
                return (name, k) if need(k) else None
            if letter == b"v":
                if not need(8):
                    return None
                width, height = buf[i + 4] | buf[i + 5] << 8, buf[i + 6] | buf[i + 7] << 8
                k = 8 + width * height
                return ("GS v 0", k) if need(k) else None
            if letter == b"(":
                if not need(5):
                    return None
                k = 5 + (buf[i + 3] | buf[i + 4] << 8)
                return (f"GS ( {chr(buf[i + 2])}", k) if need(k) else None
            if letter == b"8":
                if not need(7):
                    return None
                k = 7 + int.from_bytes(buf[i + 3:i + 7], "little")
                return ("GS 8 L", k) if need(k) else None
            if letter == b"k":
                if not need(3):
                    return None
                if buf[i + 2] <= 6:
                    j = i + 3
                    while j < n and buf[j] != 0:
                        j += 1
                    return (name, j + 1 - i) if j < n else None
                if not need(4):
                    return None
                k = 4 + buf[i + 3]
                return (name, k) if need(k) else None
            if letter == b"*":
                if not need(4):
                    return None
                k = 4 + buf[i + 2] * buf[i + 3] * 8
                return (name, k) if need(k) else None
            return name, 2
        if letter in _FS_FIXED:
            k = _FS_FIXED[letter]
            return (name, k) if need(k) else None
        if letter == b"2":
            return (name, 76) if need(76) else None
        return name, 2
    names = {0x0A: "LF", 0x0D: "CR", 0x09: "HT", 0x0C: "FF", 0x18: "CAN"}
    return names.get(b, f"CTRL {b:02X}"), 1


def parse(buf: bytes | bytearray, final: bool = True) -> tuple[list[Command], int]:
    """Split ``buf`` into commands; returns them and how many bytes were consumed.

    With ``final=False`` an incomplete command at the end is left unconsumed (streaming). Text at
    the end is always returned (a multi-byte character split across reads is rejoined when
    the job is rendered as a whole).
    """
    out: list[Command] = []
    i = 0
    while i < len(buf):
        found = _length(buf, i)
        if found is None:
            if final:
                out.append(Command("INCOMPLETE", bytes(buf[i:])))
                i = len(buf)
            break
        name, k = found
        out.append(Command(name, bytes(buf[i:i + k])))
        i += k
    return out, i


@dataclass
class Rendering:
    """The picture of one or more jobs and what the interpreter noticed while drawing it."""

    image: Image.Image
    lines: list[str] = field(default_factory=list)
    qr_codes: list[str] = field(default_factory=list)
    barcodes: list[tuple[str, str]] = field(default_factory=list)
    rasters: int = 0
    cuts: int = 0
    missing_glyphs: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    ink_right: int = 0  # right-most column with a black dot (< paper width when it fits)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG")
        return buffer.getvalue()

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.png())


class EscposInterpreter:
    """Draws ESC/POS bytes like a printer with ``encoding`` and a font of ``font_coverage``."""

    def __init__(self, paper_width_mm: int = 58, encoding: str = "gb18030",
                 font_coverage: str = "gbk", glyphs: GlyphSet | None = None) -> None:
        self.width = PAPER_DOTS[paper_width_mm]
        self.encoding = encoding
        self.font_coverage = font_coverage
        self.glyphs = glyphs or default_glyphs()

    # -- state -------------------------------------------------------------------------------
    def _reset(self) -> None:
        self.align = 0
        self.mag = (1, 1)
        self.bold = False
        self.spacing = LINE_SPACING
        self.chinese = self.encoding != "gbk_fs"

    def render(self, data: bytes) -> Rendering:
        self._reset()
        self.strips: list[Image.Image] = []
        self.line: list[Image.Image] = []
        self.line_text: list[str] = []
        self.qr = {"size": 3, "ec": "L", "data": b""}
        self.barcode = {"h": 162, "w": 3, "hri": 0}
        self.out = Rendering(Image.new("L", (1, 1), 255))
        commands, _ = parse(data, final=True)
        for command in commands:
            self._execute(command)
        self._flush(force=False)
        height = max(1, sum(s.height for s in self.strips))
        image = Image.new("L", (self.width, height), 255)
        y = 0
        for strip in self.strips:
            image.paste(strip, (0, y))
            y += strip.height
        self.out.image = image
        ink = Image.eval(image, lambda v: 255 if v < 100 else 0).getbbox()
        self.out.ink_right = ink[2] if ink else 0
        return self.out

    # -- commands ----------------------------------------------------------------------------
    def _execute(self, c: Command) -> None:
        raw, name = c.raw, c.name
        if name == "TEXT":
            self._text(raw)
        elif name == "LF":
            self._flush(force=True)
        elif name in ("CR", "CAN") or c.is_realtime:
            pass
        elif name == "HT":
            self._text(b"    ")
        elif name == "ESC @":
            self._flush(force=False)
            self._reset()
        elif name == "ESC a":
            self.align = raw[2] % 48 if raw[2] >= 48 else raw[2]
        elif name == "ESC E":
            self.bold = bool(raw[2] & 1)
        elif name == "ESC !":
            n = raw[2]
            self.bold = bool(n & 0x08)
            self.mag = (2 if n & 0x20 else 1, 2 if n & 0x10 else 1)
        elif name == "GS !":
            self.mag = ((raw[2] >> 4) + 1, (raw[2] & 0x0F) + 1)
        elif name == "ESC 2":
            self.spacing = LINE_SPACING
        elif name == "ESC 3":
            self.spacing = raw[2]
        elif name == "ESC d":
            self._flush(force=False)
            self._blank(raw[2] * self.spacing)
        elif name == "ESC J":
            self._flush(force=False, spacing=0)
            self._blank(raw[2])
        elif name == "FS &":
            self.chinese = True
        elif name == "FS .":
            self.chinese = False
        elif name == "GS v 0":
            self._raster(raw)
        elif name == "GS ( k":
            self._qr(raw)
        elif name == "GS k":
            self._barcode_print(raw)
        elif name == "GS h":
            self.barcode["h"] = raw[2]
        elif name == "GS w":
            self.barcode["w"] = raw[2]
        elif name == "GS H":
            self.barcode["hri"] = raw[2] % 48 if raw[2] >= 48 else raw[2]
        elif c.is_cut:
            self._flush(force=False)
            self._cut()
        elif name in ("ESC -", "ESC M", "ESC t", "ESC R", "ESC G", "GS f", "GS B", "FS !",
                      "ESC {", "ESC  ", "ESC c", "GS L", "GS W", "GS a", "ESC =", "FS C"):
            pass  # accepted, not drawn differently
        elif name == "INCOMPLETE":
            self.out.warnings.append(f"incomplete command at end of job ({len(raw)} bytes)")
        else:
            self.out.warnings.append(f"unsupported command {name}")

    # -- text --------------------------------------------------------------------------------
    def decode(self, raw: bytes) -> str:
        """Characters of a text run as this printer reads them."""
        if self.encoding == "utf8":
            return raw.decode("utf-8", errors="replace")
        if not self.chinese:
            return raw.decode("cp437")
        codec = "gb18030" if self.encoding == "gb18030" else "gbk"
        out: list[str] = []
        i = 0
        while i < len(raw):
            b = raw[i]
            if b < 0x80:
                out.append(chr(b))
                i += 1
            elif 0x81 <= b <= 0xFE and i + 1 < len(raw):
                k = 4 if (codec == "gb18030" and 0x30 <= raw[i + 1] <= 0x39) else 2
                out.append(raw[i:i + k].decode(codec, errors="replace")[:1])
                i += k
            else:
                out.append("\ufffd")
                i += 1
        return "".join(out)

    def _text(self, raw: bytes) -> None:
        mag_w, mag_h = self.mag
        for ch in self.decode(raw):
            cell = self._glyph(ch)
            cell = cell.resize((cell.width * mag_w, cell.height * mag_h), Image.Resampling.NEAREST)
            if self.line and sum(g.width for g in self.line) + cell.width > self.width:
                self.out.warnings.append("text wider than the paper: the printer wrapped it")
                self._flush(force=True)
            self.line.append(cell)
            self.line_text.append(ch)

    def _glyph(self, ch: str) -> Image.Image:
        printable = ch != "\ufffd" and (ord(ch) < 0x80 or (
            font_covers(ch, self.encoding if self.encoding != "gbk_fs" else "gbk",
                        self.font_coverage) and self.glyphs.has_glyph(ch)))
        if printable:
            return self.glyphs.cell(ch, CELL_HEIGHT, self.bold)
        self.out.missing_glyphs.add(ch)
        wide = ord(ch) > 0x7F
        box = Image.new("L", (CELL_HEIGHT if wide else CELL_HEIGHT // 2, CELL_HEIGHT), 255)
        ImageDraw.Draw(box).rectangle((2, 2, box.width - 3, CELL_HEIGHT - 3), outline=0)
        return box

    def _flush(self, force: bool, spacing: int | None = None) -> None:
        """Print the line buffer (``force``: a line feed even when the buffer is empty)."""
        if not self.line:
            if force:
                self._blank(self.spacing)
            return
        spacing = self.spacing if spacing is None else spacing
        height = max(max(g.height for g in self.line), spacing)
        strip = Image.new("L", (self.width, height), 255)
        x = self._x(sum(g.width for g in self.line))
        for glyph in self.line:
            strip.paste(glyph, (x, 0))
            x += glyph.width
        self.strips.append(strip)
        self.out.lines.append("".join(self.line_text).rstrip())
        self.line, self.line_text = [], []

    def _x(self, width: int) -> int:
        if self.align == 1:
            return max(0, (self.width - width) // 2)
        if self.align == 2:
            return max(0, self.width - width)
        return 0

    def _blank(self, height: int) -> None:
        if height > 0:
            self.strips.append(Image.new("L", (self.width, height), 255))

    def _place(self, image: Image.Image, what: str) -> None:
        """Print a graphic as its own band, honouring the alignment."""
        if self.line:
            self.out.warnings.append(f"{what} sent with text still in the line buffer")
            self._flush(force=False)
        if image.width > self.width:
            self.out.warnings.append(f"{what} wider than the paper ({image.width} dots)")
            image = image.crop((0, 0, self.width, image.height))
        strip = Image.new("L", (self.width, image.height), 255)
        strip.paste(image, (self._x(image.width), 0))
        self.strips.append(strip)

    # -- graphics ----------------------------------------------------------------------------
    def _raster(self, raw: bytes) -> None:
        mode, width_bytes = raw[3] % 48 if raw[3] >= 48 else raw[3], raw[4] | raw[5] << 8
        height = raw[6] | raw[7] << 8
        if not width_bytes or not height:
            return
        bits = Image.frombytes("1", (width_bytes * 8, height), raw[8:])
        image = Image.eval(bits.convert("L"), lambda v: 255 - v)
        scale_w, scale_h = (2 if mode & 1 else 1), (2 if mode & 2 else 1)
        if scale_w > 1 or scale_h > 1:
            image = image.resize((image.width * scale_w, image.height * scale_h),
                                 Image.Resampling.NEAREST)
        self.out.rasters += 1
        self.out.lines.append("[raster]")
        self._place(image, "raster image")

    def _qr(self, raw: bytes) -> None:
        cn, fn, params = raw[5], raw[6], raw[7:]
        if cn != 49:
            self.out.warnings.append(f"unsupported 2-D code cn={cn}")
            return
        if fn == 67 and params:
            self.qr["size"] = params[0]
        elif fn == 69 and params:
            self.qr["ec"] = {48: "L", 49: "M", 50: "Q", 51: "H"}.get(params[0], "L")
        elif fn == 80:
            self.qr["data"] = params[1:]
        elif fn == 81:
            text = bytes(self.qr["data"]).decode("utf-8", errors="replace")
            if not text:
                self.out.warnings.append("QR print with no stored data")
                return
            buffer = io.BytesIO()
            qr_symbol(text, str(self.qr["ec"])).save(buffer, kind="png",
                                                     scale=int(self.qr["size"]), border=0)
            self.out.qr_codes.append(text)
            self.out.lines.append("[qr]")
            self._place(Image.open(io.BytesIO(buffer.getvalue())).convert("L"), "QR code")

    def _barcode_print(self, raw: bytes) -> None:
        from barcode import codex, ean

        m = raw[2]
        data = raw[4:4 + raw[3]] if m >= 65 else raw[3:-1]
        names = {73: "CODE128", 8: "CODE128", 69: "CODE39", 4: "CODE39", 67: "EAN13", 2: "EAN13"}
        symbology = names.get(m)
        text = data.decode("ascii", errors="replace")
        if symbology is None:
            self.out.warnings.append(f"unsupported barcode system {m}")
            return
        if symbology == "CODE128":
            text = text[2:] if text[:1] == "{" else text
            modules = codex.Code128(text).build()[0]
        elif symbology == "CODE39":
            modules = codex.Code39(text, add_checksum=False).build()[0]
        else:
            modules = ean.EuropeanArticleNumber13(text).build()[0]
        w, h = max(1, int(self.barcode["w"])), max(1, int(self.barcode["h"]))
        bars = Image.new("L", (len(modules) * w, h), 255)
        draw = ImageDraw.Draw(bars)
        for k, bit in enumerate(modules):
            if bit == "1":
                draw.rectangle((k * w, 0, k * w + w - 1, h - 1), fill=0)
        quiet = 10 * w  # the quiet zone the printer leaves around the symbol
        image = Image.new("L", (bars.width + 2 * quiet, h), 255)
        image.paste(bars, (quiet, 0))
        if self.barcode["hri"] in (2, 3):
            label = self.glyphs.line(text, CELL_HEIGHT)
            both = Image.new("L", (max(image.width, label.width), h + 4 + label.height), 255)
            both.paste(image, ((both.width - image.width) // 2, 0))
            both.paste(label, ((both.width - label.width) // 2, h + 4))
            image = both
        self.out.barcodes.append((symbology, text))
        self.out.lines.append("[barcode]")
        self._place(image, "barcode")

    def _cut(self) -> None:
        self.out.cuts += 1
        strip = Image.new("L", (self.width, 24), 255)
        draw = ImageDraw.Draw(strip)
        for x in range(0, self.width, 12):
            draw.line((x, 12, x + 6, 12), fill=128, width=2)
        self.strips.append(strip)
        self.out.lines.append("[cut]")


def render_job(data: bytes, paper_width_mm: int = 58, encoding: str = "gb18030",
               font_coverage: str = "gbk") -> Rendering:
    """Convenience: render ``data`` with a fresh interpreter."""
    return EscposInterpreter(paper_width_mm, encoding, font_coverage).render(data)

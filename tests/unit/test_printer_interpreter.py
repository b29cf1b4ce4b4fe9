"""The ESC/POS parser and renderer used by the emulator and the preview tool."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops
from pyzbar import pyzbar

from drivers.printer import commands as cmd
from drivers.printer.document import Barcode, Cut, Document, QrCode, Text
from drivers.printer.encoder import EncoderOptions, EscposEncoder
from drivers.printer.fonts import default_glyphs
from drivers.printer.interpreter import EscposInterpreter, parse, render_job


def test_parse_command_lengths() -> None:
    data = (cmd.INIT + b"AB" + cmd.LF + cmd.status_query(1) + cmd.raster(1, 2, b"\x10\x04")
            + cmd.qr_native(b"\x10\x04\x01", 3, "M") + cmd.barcode(b"X1", "CODE128")
            + cmd.PARTIAL_CUT)
    commands, used = parse(data)
    assert used == len(data)
    names = [c.name for c in commands]
    assert names[:5] == ["ESC @", "TEXT", "LF", "DLE EOT", "GS v 0"]
    assert names.count("DLE EOT") == 1  # the 10 04 inside image and QR data is data
    assert names[-1] == "GS V" and commands[-1].is_cut
    assert b"".join(c.raw for c in commands) == data


def test_parse_streaming_leaves_incomplete_commands() -> None:
    data = cmd.raster(2, 3, bytes(6))
    commands, used = parse(data[:7], final=False)
    assert commands == [] and used == 0
    commands, used = parse(data[:7] + data[7:], final=False)
    assert used == len(data) and commands[0].name == "GS v 0"
    commands, _ = parse(b"\x1d(k\x05", final=True)
    assert commands[0].name == "INCOMPLETE"


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "gbk_fs", "utf8"])
def test_render_decodes_each_encoding(encoding: str) -> None:
    encoder = EscposEncoder(EncoderOptions(encoding=encoding))
    data = encoder.encode(Document((Text("社保 A005", align="center"), Cut())))
    rendering = render_job(data, encoding=encoding)
    assert rendering.lines[0] == "社保 A005"
    assert rendering.cuts == 1
    assert not rendering.missing_glyphs and not rendering.warnings


def test_gbk_bytes_without_fs_on_a_gbk_fs_printer_are_garbage() -> None:
    data = cmd.INIT + "社保".encode("gbk") + cmd.LF
    rendering = render_job(data, encoding="gbk_fs")
    assert rendering.lines[0] != "社保"


def test_rare_character_sent_natively_is_tofu_on_a_gbk_printer() -> None:
    data = cmd.INIT + "龚䶮".encode("gb18030") + cmd.LF
    rendering = render_job(data, encoding="gb18030", font_coverage="gbk")
    assert rendering.missing_glyphs == {"䶮"}
    clean = render_job(EscposEncoder().encode(Document((Text("龚䶮"),))))
    assert not clean.missing_glyphs and clean.rasters == 1


def test_glyphs_are_not_tofu() -> None:
    glyphs = default_glyphs()
    assert not glyphs.has_glyph("𠀀")  # CJK Ext-B: no installed font has it
    notdef = glyphs.cell("𠀀")  # drawn as the font's "tofu" box
    assert notdef.getextrema()[0] == 0
    for ch in "社会保障卡申领龚䶮堃":
        assert glyphs.has_glyph(ch)
        cell = glyphs.cell(ch)
        assert ImageChops.difference(cell, notdef).getbbox() is not None
        assert cell.getextrema()[0] == 0  # some ink


def test_native_qr_and_barcode_render_and_decode() -> None:
    data = EscposEncoder().encode(Document((QrCode("https://example.invalid/q?n=A005"),
                                            Barcode("JN-LX-0001"), Cut())))
    rendering = render_job(data)
    assert rendering.qr_codes == ["https://example.invalid/q?n=A005"]
    found = {(s.type, s.data.decode()) for s in pyzbar.decode(rendering.image)}
    assert ("QRCODE", "https://example.invalid/q?n=A005") in found
    assert ("CODE128", "JN-LX-0001") in found


def test_size_alignment_and_overflow_warnings() -> None:
    interpreter = EscposInterpreter()
    data = (cmd.INIT + cmd.ALIGN["right"] + cmd.char_size(2, 2) + b"AB" + cmd.LF
            + cmd.char_size(1, 1) + b"x" * 40 + cmd.LF + cmd.raster(60, 1, b"\xff" * 60))
    rendering = interpreter.render(data)
    image: Image.Image = rendering.image
    first = image.crop((0, 0, 384, 48))
    box = ImageChops.invert(first).getbbox()
    assert box is not None and box[2] > 384 - 4 and box[0] > 384 - 48 - 4
    assert any("wrapped" in w for w in rendering.warnings)
    assert any("wider than the paper" in w for w in rendering.warnings)

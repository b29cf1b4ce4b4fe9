"""Document → ESC/POS bytes: encodings, raster fallback, wrapping, codes, images, cuts."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

from drivers.printer import commands as cmd
from drivers.printer.document import Barcode, Cut, Document, Feed, Image, QrCode, Rule, Text
from drivers.printer.encoder import EncoderOptions, EscposEncoder, font_covers, raster_command
from drivers.printer.fonts import text_width
from drivers.printer.interpreter import parse


def encode(*blocks: object, **options: object) -> tuple[bytes, EscposEncoder]:
    encoder = EscposEncoder(EncoderOptions(**options))  # type: ignore[arg-type]
    return encoder.encode(Document(tuple(blocks))), encoder  # type: ignore[arg-type]


def test_job_starts_with_init_and_ends_with_partial_cut() -> None:
    data, _ = encode(Text("hello"), Cut())
    assert data.startswith(b"\x1b@")
    assert data.endswith(b"\x1dV\x42\x00")
    full, _ = encode(Cut(), cut="full")
    assert full.endswith(b"\x1dV\x41\x00")


@pytest.mark.parametrize(("encoding", "expected"), [
    ("gb18030", "社会保障卡".encode("gb18030")),
    ("gbk", "社会保障卡".encode("gbk")),
    ("utf8", "社会保障卡".encode()),
    ("gbk_fs", b"\x1c&" + "社会保障卡".encode("gbk") + b"\x1c."),
])
def test_chinese_bytes_per_encoding(encoding: str, expected: bytes) -> None:
    data, encoder = encode(Text("社会保障卡"), encoding=encoding)
    assert expected + b"\n" in data
    assert encoder.raster_lines == 0


def test_gbk_fs_wraps_each_chinese_run() -> None:
    _, encoder = encode(encoding="gbk_fs")
    assert encoder.native_bytes("A005号 B") == (b"A005\x1c&" + "号".encode("gbk") + b"\x1c. B")


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "gbk_fs", "utf8"])
def test_rare_characters_go_out_as_raster_not_question_marks(encoding: str) -> None:
    # 䶮 (CJK Ext-A) is not in GBK; 㛃 is a 4-byte GB18030 character
    data, encoder = encode(Text("姓名：龚䶮"), Text("㛃"), Text("正常"), encoding=encoding)
    assert encoder.raster_lines == 2
    assert data.count(b"\x1dv0") == 2
    text = b"".join(c.raw for c in parse(data)[0] if c.name == "TEXT")
    assert b"?" not in text
    assert "䶮".encode("gb18030") not in data and "㛃".encode("gb18030") not in data
    assert "正常".encode("gbk" if encoding != "utf8" else "utf-8") in data


def test_font_coverage_and_raster_chars() -> None:
    assert font_covers("堃", "gb18030", "gbk")
    assert not font_covers("堃", "gb18030", "gb2312")
    assert font_covers("䶮", "gb18030", "all")
    assert not font_covers("䶮", "gbk", "all")  # GBK has no code for it at all
    assert not font_covers("社", "gb18030", "gbk", raster_chars="社")
    _, encoder = encode(Text("王堃"), font_coverage="gb2312")
    assert encoder.raster_lines == 1


def test_raster_line_has_the_height_and_width_of_the_text() -> None:
    data, _ = encode(Text("龚䶮", size=2))
    start = data.index(b"\x1dv0")
    width_bytes = data[start + 4] | data[start + 5] << 8
    height = data[start + 6] | data[start + 7] << 8
    assert width_bytes * 8 == (text_width("龚䶮", 2) + 7) // 8 * 8
    assert height == 48


def test_size_bold_align_commands() -> None:
    data, _ = encode(Text("A", size=3, align="right", bold=True))
    assert b"\x1ba\x02" in data
    assert b"\x1d!\x22" in data  # GS ! (3-1)<<4 | (3-1)
    assert b"\x1bE\x01" in data
    assert data.endswith(b"\x1d!\x00\x1bE\x00")


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("社会保障卡ABC xyz123，。-"), max_size=120),
       st.integers(min_value=1, max_value=4), st.sampled_from([58, 80]))
def test_wrapped_lines_fit_the_paper(text: str, size: int, width: int) -> None:
    encoder = EscposEncoder(EncoderOptions(paper_width_mm=width))
    lines = encoder.wrap(text, size)
    assert all(text_width(line, size) <= encoder.dots for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_wrap_keeps_ascii_words_together() -> None:
    encoder = EscposEncoder()
    assert encoder.wrap("纸宽：58 mm（384 点）  编码：gb18030") == [
        "纸宽：58 mm（384 点）  编码：", "gb18030"]


def test_rule_fills_the_width() -> None:
    data, _ = encode(Rule())
    assert b"-" * 32 + b"\n" in data
    data80, _ = encode(Rule("="), paper_width_mm=80)
    assert b"=" * 48 + b"\n" in data80


def test_native_qr_bytes() -> None:
    data, _ = encode(QrCode("HELLO", module_size=5, ec="Q"))
    expected = (b"\x1d(k\x04\x001A2\x00" + b"\x1d(k\x03\x001C\x05" + b"\x1d(k\x03\x001E2"
                + b"\x1d(k\x08\x001P0HELLO" + b"\x1d(k\x03\x001Q0")
    assert expected in data
    assert b"\x1dv0" not in data


def test_raster_qr_is_bigger_and_has_no_gs_k() -> None:
    native, _ = encode(QrCode("https://queue.example.invalid/t/A005"))
    raster, _ = encode(QrCode("https://queue.example.invalid/t/A005"), qr="raster")
    assert b"\x1d(k" not in raster and b"\x1dv0" in raster
    assert len(raster) > 5 * len(native)


def test_qr_module_size_shrinks_to_fit_and_too_long_fails() -> None:
    encoder = EscposEncoder()
    assert encoder.qr_module_size(QrCode("x" * 300, module_size=16)) < 16
    with pytest.raises(ValueError):
        encoder.encode(Document((QrCode("x" * 3000, ec="H"),)))


def test_barcode_bytes_and_validation() -> None:
    data, _ = encode(Barcode("JN-LX-0001"))
    assert b"\x1dkI\x0c{BJN-LX-0001" in data
    assert b"\x1dH\x02" in data
    with pytest.raises(ValueError):
        encode(Barcode("12345", symbology="EAN13"))
    with pytest.raises(ValueError):
        encode(Barcode("社保"))


def _png(width: int, height: int) -> bytes:
    image = PILImage.new("RGBA", (width, height), (255, 255, 255, 0))
    image.paste((0, 0, 0, 255), (0, 0, width // 2, height))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_image_scaled_to_paper_and_converted_once() -> None:
    logo = _png(800, 100)
    encoder = EscposEncoder()
    first = encoder.encode(Document((Image(logo), Feed(1))))
    second = encoder.encode(Document((Image(logo),)))
    assert encoder.image_conversions == 1
    start = first.index(b"\x1dv0")
    assert first[start + 4] | first[start + 5] << 8 == 384 // 8
    assert first[start:start + 100] in second


def test_raster_command_bits() -> None:
    image = PILImage.new("L", (10, 2), 255)
    image.putpixel((0, 0), 0)
    image.putpixel((9, 1), 0)
    assert raster_command(image) == cmd.raster(2, 2, bytes([0x80, 0, 0, 0x40]))


@pytest.mark.parametrize("options", [{"paper_width_mm": 76}, {"encoding": "big5"},
                                     {"qr": "fast"}, {"font_coverage": "x"}, {"cut": "no"}])
def test_bad_options(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        EncoderOptions(**options)  # type: ignore[arg-type]


def test_options_from_config() -> None:
    opts = EncoderOptions.from_options({"paper_width_mm": "80", "encoding": "gbk_fs",
                                        "init": "1b 74 00", "font": "/x.ttc"})
    assert opts.dots == 576 and opts.init == b"\x1bt\x00" and opts.fonts == ("/x.ttc",)
    data = EscposEncoder(opts).encode(Document(()))
    assert data.startswith(b"\x1b@\x1b2\x1bt\x00")

"""Line framing of serial scanners: suffixes, noise, silences, over-long lines, encodings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.scanner.framing import LineFramer, decode_payload, parse_suffix, strip_aim


def feed_all(framer: LineFramer, *chunks: bytes, t0: float = 0.0, step: float = 0.001) -> list:
    out = []
    for i, chunk in enumerate(chunks):
        out += framer.feed(chunk, t0 + i * step)
    return out


@pytest.mark.parametrize("suffix", [b"\r", b"\n", b"\r\n"])
def test_auto_accepts_cr_lf_crlf(suffix: bytes) -> None:
    framer = LineFramer()
    assert feed_all(framer, b"A005" + suffix + b"RC1:XYZ" + suffix) == ["A005", "RC1:XYZ"]
    assert framer.stats.lines == 2


def test_split_across_reads() -> None:
    framer = LineFramer()
    assert feed_all(framer, b"RC1:", b"ABC", b"DEF\r", b"\n") == ["RC1:ABCDEF"]


def test_noise_before_a_code_is_dropped_and_framing_resyncs() -> None:
    framer = LineFramer()
    out = feed_all(framer, b"\xff\x00\x13", b"A005\r\n")
    assert out == ["A005"]
    assert framer.stats.noise >= 1


def test_noise_in_the_middle_discards_the_fragment_before_it() -> None:
    framer = LineFramer()
    out = feed_all(framer, b"half-co\x00\xffB012\r\n")
    assert out == ["B012"]


def test_fragment_followed_by_a_silence_is_noise() -> None:
    framer = LineFramer(gap_s=0.3)
    assert framer.feed(b"garbage-without-end", 10.0) == []
    assert framer.feed(b"A005\r\n", 10.5) == ["A005"]
    assert framer.stats.noise == 1


def test_slow_but_continuous_line_is_kept() -> None:
    framer = LineFramer(gap_s=0.3)
    out = []
    for i, byte in enumerate(b"A005\r\n"):
        out += framer.feed(bytes([byte]), 10.0 + i * 0.1)  # 9600 baud with a slow USB bridge
    assert out == ["A005"]


def test_overlong_line_is_dropped_with_its_tail() -> None:
    framer = LineFramer(max_length=8)
    out = feed_all(framer, b"0123456789", b"ABCDEF\r\n", b"A005\r\n")
    assert out == ["A005"]
    assert framer.stats.overlong == 1


def test_exactly_max_length_is_kept() -> None:
    framer = LineFramer(b"\x03", max_length=8)
    assert feed_all(framer, b"01234567\x03") == ["01234567"]


@pytest.mark.parametrize(("name", "suffix"), [("tab", b"\t"), ("etx", b"\x03"),
                                              ("\\x04", b"\x04"), ("#", b"#"),
                                              ("crlf", b"\r\n")])
def test_configured_suffix(name: str, suffix: bytes) -> None:
    framer = LineFramer(parse_suffix(name))
    assert feed_all(framer, b"RC1:AB" + suffix + b"T-1" + suffix) == ["RC1:AB", "T-1"]


def test_configured_suffix_keeps_other_line_ends_inside() -> None:
    framer = LineFramer(parse_suffix("etx"))
    assert feed_all(framer, b"line1\nline2\x03") == ["line1\nline2"]


def test_overlong_with_configured_suffix_resyncs_at_the_suffix() -> None:
    framer = LineFramer(b"\r\n", max_length=4)
    assert feed_all(framer, b"123456789\r", b"\n", b"OK\r\n") == ["OK"]


def test_suffix_none_ends_with_a_silence() -> None:
    framer = LineFramer(parse_suffix("none"), gap_s=0.2)
    assert framer.feed(b"A0", 1.0) == []
    assert framer.feed(b"05", 1.05) == []
    assert framer.flush_idle(1.1) == []
    assert framer.flush_idle(1.3) == ["A005"]
    assert framer.feed(b"B1", 2.0) == []
    assert framer.feed(b"C2", 2.5) == ["B1"]  # the silence before C2 ended B1
    assert framer.flush_idle(2.8) == ["C2"]


def test_suffix_none_needs_a_gap() -> None:
    with pytest.raises(ValueError, match="gap_s"):
        LineFramer(b"", gap_s=0)


def test_gb18030_chinese_and_undecodable() -> None:
    framer = LineFramer()
    assert feed_all(framer, "排队A005".encode("gb18030") + b"\r\n") == ["排队A005"]
    assert feed_all(framer, "居民码".encode() + b"\r\n") == ["居民码"]
    strict = LineFramer(encoding="utf-8")
    assert feed_all(strict, "排队".encode("gb18030") + b"\r\n") == []
    assert strict.stats.undecodable == 1


def test_allowed_controls_survive() -> None:
    framer = LineFramer()
    assert feed_all(framer, b"[)>\x1e06\x1dP123\x04\r\n") == ["[)>\x1e06\x1dP123\x04"]


def test_aim_identifier_stripped_when_enabled() -> None:
    assert strip_aim("]Q1RC1:AB") == "RC1:AB"
    assert strip_aim("RC1:AB") == "RC1:AB"
    framer = LineFramer(aim=True)
    assert feed_all(framer, b"]Q1A005\r\n") == ["A005"]


def test_bad_suffix_and_encoding_explain_themselves() -> None:
    with pytest.raises(ValueError, match="1 to 4 bytes"):
        parse_suffix("\\x01\\x02\\x03\\x04\\x05")
    with pytest.raises(ValueError, match="encoding"):
        LineFramer(encoding="ebcdic")
    assert parse_suffix("auto") is None
    assert decode_payload(b"\xff\xfe", "utf-8") is None


def test_reset_forgets_partial_line() -> None:
    framer = LineFramer()
    framer.feed(b"partial", 0.0)
    assert framer.pending == 7
    framer.reset()
    assert framer.feed(b"A005\r\n", 0.01) == ["A005"]


_PRINTABLE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                     min_size=1, max_size=60).filter(lambda s: s.strip() == s and s)


@settings(max_examples=150, deadline=None)
@given(st.lists(_PRINTABLE, min_size=1, max_size=8),
       st.sampled_from([b"\r", b"\n", b"\r\n"]), st.integers(min_value=1, max_value=17))
def test_any_chunking_gives_back_the_payloads(payloads: list[str], suffix: bytes,
                                              chunk: int) -> None:
    stream = b"".join(p.encode() + suffix for p in payloads)
    framer = LineFramer()
    out = []
    for i in range(0, len(stream), chunk):
        out += framer.feed(stream[i:i + chunk], i * 1e-4)
    assert out == payloads

"""Rating pad wire formats: RP1 frames, resynchronisation, vendor adapters and options."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers import registry
from drivers.base import DeviceError
from drivers.ratingpad import protocol as rp
from drivers.ratingpad.serial_pad import SerialRatingPad, resolve_options


def test_frame_layout_and_checksum() -> None:
    frame = rp.encode(0x01, rp.Cmd.KEY, bytes((1, 7)))
    # STX ADDR CMD LEN DATA.. CHK ETX, CHK = 01 ^ A0 ^ 02 ^ 01 ^ 07
    assert frame == bytes((0x02, 0x01, 0xA0, 0x02, 0x01, 0x07, 0x01 ^ 0xA0 ^ 0x02 ^ 0x01 ^ 0x07,
                           0x03))
    assert rp.key_frame(1, "very_dissatisfied", 9)[4] == 5  # 5 = 非常不满意


def test_parser_resynchronises_after_noise_and_bad_frames() -> None:
    parser = rp.FrameParser()
    good = rp.encode(1, rp.Cmd.PONG, b"FW\x02\x03")  # STX/ETX inside data are fine
    corrupt = bytearray(rp.encode(1, rp.Cmd.KEY, bytes((2, 1))))
    corrupt[-2] ^= 0xFF
    frames = parser.feed(b"\x00\x03garbage" + bytes(corrupt) + good[:5])
    assert frames == []
    frames = parser.feed(good[5:] + rp.encode(1, rp.Cmd.KEY, bytes((3, 2))))
    assert [f.cmd for f in frames] == [rp.Cmd.PONG, rp.Cmd.KEY]
    assert frames[0].data == b"FW\x02\x03" and parser.dropped > 0


@given(st.lists(st.tuples(st.integers(0, 255), st.sampled_from(list(rp.Cmd)),
                          st.binary(max_size=8)), max_size=6),
       st.integers(1, 7))
def test_frames_survive_any_split(items, chunk) -> None:
    stream = b"".join(rp.encode(a, c, d) for a, c, d in items)
    parser = rp.FrameParser()
    frames = []
    for i in range(0, len(stream), chunk):
        frames += parser.feed(stream[i:i + chunk])
    assert [(f.addr, f.cmd, f.data) for f in frames] == [(a, int(c), d) for a, c, d in items]


def test_byte_decoder_legacy4_preset() -> None:
    keymap = rp.parse_keymap(rp.VENDOR_PRESETS["legacy4"]["keymap"])
    decoder = rp.ByteDecoder(keymap)
    presses = decoder.feed(b"1234x")
    assert [p.level for p in presses] == ["satisfied", "basic", "dissatisfied", "very_satisfied"]
    assert decoder.unknown == 1


def test_byte_decoder_with_address_and_no_key() -> None:
    decoder = rp.ByteDecoder(rp.parse_keymap(rp.VENDOR_PRESETS["five"]["keymap"]), address=1)
    # 01 05 = our pad, key 5; 02 03 = another pad; 01 00 = "no key"; FF 01 = broadcast key 1
    presses = decoder.feed(bytes((1, 5, 2, 3, 1, 0, 0xFF, 1)))
    assert [(p.level, p.addr) for p in presses] == [("very_dissatisfied", 1),
                                                   ("very_satisfied", 0xFF)]


def test_byte_decoder_pause_starts_a_new_pair() -> None:
    decoder = rp.ByteDecoder(rp.parse_keymap(rp.VENDOR_PRESETS["five"]["keymap"]), address=1,
                             gap_s=0.05)
    assert decoder.feed(bytes((1,)), now=10.0) == []  # the key byte of this pair is lost
    presses = decoder.feed(bytes((1, 2)), now=11.0)  # a later, complete press
    assert [p.level for p in presses] == ["satisfied"] and decoder.unknown == 1


def test_line_decoder() -> None:
    decoder = rp.LineDecoder(rp.parse_line_keymap({"K1": "very_satisfied", "K0": None}))
    assert [p.level for p in decoder.feed(b"K1\r\nK0\r\nK9\nK")] == ["very_satisfied"]
    assert decoder.unknown == 1


@pytest.mark.parametrize(("raw", "value"), [(49, 49), ("49", 49), ("0x31", 0x31), ("'1'", 49),
                                              ("1", 1)])
def test_keymap_keys(raw, value) -> None:
    assert rp.parse_key(raw) == value


def test_bad_adapter_settings_are_explained() -> None:
    with pytest.raises(rp.ProtocolError, match="0x31"):
        rp.parse_key("one")
    with pytest.raises(rp.ProtocolError, match="a level is one of"):
        rp.parse_keymap({"0x31": "happy"})
    with pytest.raises(DeviceError, match="unknown ratingpad/serial option"):
        resolve_options({"speed": 9600})
    with pytest.raises(DeviceError, match="presets"):
        resolve_options({"vendor": "acme"})
    with pytest.raises(DeviceError, match="keymap is empty"):
        resolve_options({"protocol": "bytes"})
    with pytest.raises(DeviceError, match="needs a url"):
        SerialRatingPad("", {})


def test_presets_merge_with_overrides() -> None:
    settings = resolve_options({"vendor": "five", "address": "0x07", "baudrate": 19200})
    assert settings["protocol"] == "bytes" and settings["address"] == 7
    assert settings["baudrate"] == 19200 and settings["keymap"][5] == "very_dissatisfied"
    assert resolve_options({})["address"] == 1  # reference pads default to address 1


def test_registered_as_serial_backend() -> None:
    assert "serial" in registry.backend_types("ratingpad")
    assert registry.load_backend("ratingpad", "serial") is SerialRatingPad

"""Hand-parsed Linux input events and the keyboard-wedge key decoder."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.scanner import evdev


def decode(data: bytes, decoder: evdev.KeyDecoder | None = None, now: float = 0.0) -> list[str]:
    decoder = decoder or evdev.KeyDecoder()
    return decoder.feed(evdev.parse_events(bytearray(data)), now)


def test_event_struct_layout() -> None:
    assert evdev.EVENT_SIZE == 24  # struct timeval (2 x long) + u16 + u16 + s32 on 64-bit
    raw = evdev.pack_event(evdev.EV_KEY, 30, 1, at=1.5)
    buffer = bytearray(raw + raw[:10])
    assert evdev.parse_events(buffer) == [(evdev.EV_KEY, 30, 1)]
    assert len(buffer) == 10  # the partial event waits for the rest


def test_ascii_round_trip_with_shift() -> None:
    text = "RC1:ABCxyz-09_=+[]{};'\"\\|,./<>?`~!@#$%^&*() "
    assert decode(evdev.encode_text(text)) == [text]


def test_tab_suffix_and_enter_inside() -> None:
    decoder = evdev.KeyDecoder("tab")
    assert decode(evdev.encode_text("A005", suffix="tab"), decoder) == ["A005"]


@pytest.mark.parametrize("mode", ["unicode", "gb18030"])
def test_alt_codes_for_chinese(mode: str) -> None:
    data = evdev.encode_text("排队A005号", alt_codes=mode)
    assert decode(data, evdev.KeyDecoder(alt_codes=mode)) == ["排队A005号"]


def test_alt_codes_off_drops_them() -> None:
    data = evdev.encode_text("码A", alt_codes="unicode")
    decoder = evdev.KeyDecoder(alt_codes="off")
    out = decode(data, decoder)
    assert out and "码" not in out[0] and out[0].endswith("A")


def test_unencodable_text_without_alt_codes_is_refused() -> None:
    with pytest.raises(ValueError, match="alt_codes"):
        evdev.encode_text("码")


def test_caps_lock_inverts_letters_only() -> None:
    at = 0.0
    data = evdev._press(evdev.KEY_CAPSLOCK, at) + evdev._release(evdev.KEY_CAPSLOCK, at)
    data += evdev.encode_text("ab1")  # typed unshifted: a, b, 1
    assert decode(data) == ["AB1"]


def test_ctrl_letter_gives_control_characters() -> None:
    at = 0.0
    data = evdev._press(evdev.KEY_LEFTCTRL, at) + evdev._press(27, at) + evdev._release(27, at)
    data += evdev._release(evdev.KEY_LEFTCTRL, at) + evdev.encode_text("P1")
    assert decode(data) == ["\x1dP1"]


def test_silence_mid_scan_drops_the_fragment() -> None:
    decoder = evdev.KeyDecoder(gap_s=0.3)
    first = evdev.encode_text("garbage", suffix="none")
    assert decoder.feed(evdev.parse_events(bytearray(first)), 1.0) == []
    assert decoder.feed(evdev.parse_events(bytearray(evdev.encode_text("A005"))), 2.0) == ["A005"]
    assert decoder.stats.noise == 1


def test_suffix_none_flushes_after_silence() -> None:
    decoder = evdev.KeyDecoder("none", gap_s=0.2)
    assert decoder.feed(evdev.parse_events(bytearray(evdev.encode_text("A005", "none"))),
                        1.0) == []
    assert decoder.flush_idle(1.1) == []
    assert decoder.flush_idle(1.25) == ["A005"]


def test_overlong_scan_dropped_then_next_read() -> None:
    decoder = evdev.KeyDecoder(max_length=5)
    assert decode(evdev.encode_text("TOO-LONG-CODE") + evdev.encode_text("A005"), decoder) \
        == ["A005"]
    assert decoder.stats.overlong == 1


def test_repeat_events_count_as_presses_and_other_event_types_are_ignored() -> None:
    at = 0.0
    data = evdev.pack_event(evdev.EV_MSC, 4, 0x70004, at) + evdev._press(30, at)
    data += evdev.pack_event(evdev.EV_KEY, 30, evdev.REPEAT, at) + evdev._release(30, at)
    data += evdev._press(evdev.KEY_ENTER, at)
    assert decode(data) == ["aa"]


def test_bad_decoder_options() -> None:
    with pytest.raises(ValueError, match="suffix"):
        evdev.KeyDecoder("semicolon")
    with pytest.raises(ValueError, match="alt_codes"):
        evdev.KeyDecoder(alt_codes="big5")


def test_list_input_devices_parses_proc(tmp_path) -> None:
    proc = tmp_path / "devices"
    proc.write_text(
        'I: Bus=0003 Vendor=1eab Product=1a03 Version=0110\n'
        'N: Name="Newland HR22 Barcode Scanner"\n'
        'H: Handlers=sysrq kbd event5 leds\n\n'
        'I: Bus=0011 Vendor=0002 Product=0005 Version=0000\n'
        'N: Name="ImPS/2 Generic Wheel Mouse"\n'
        'H: Handlers=mouse0 event2\n\n', encoding="utf-8")
    (device,) = evdev.list_input_devices(str(proc))
    assert device.path == "/dev/input/event5" and device.usb_id == "1eab:1a03"
    assert device.looks_like_scanner
    assert evdev.list_input_devices(str(tmp_path / "missing")) == []


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1,
               max_size=80).filter(lambda s: s.strip(" ") != ""))
def test_printable_ascii_round_trips(text: str) -> None:
    assert decode(evdev.encode_text(text)) == [text]

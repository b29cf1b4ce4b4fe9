"""Frame building and the streaming parser."""

from __future__ import annotations

import os

import pytest

from drivers.idcard.frames import (
    MAX_REPLY_LEN,
    MIN_COMMAND_LEN,
    ChecksumError,
    Command,
    Frame,
    FrameParser,
    LengthError,
    Status,
    build_command,
    build_reply,
    checksum,
    describe_sw3,
)

H = bytes.fromhex


def test_worked_frames_from_the_protocol_notes() -> None:
    assert build_command(Command.FIND) == H("AAAAAA9669 0003 2001 22")
    assert build_command(Command.SELECT) == H("AAAAAA9669 0003 2002 21")
    assert build_command(Command.READ_TEXT_PHOTO) == H("AAAAAA9669 0003 3001 32")
    assert build_reply(0x9F, bytes(4)) == H("AAAAAA9669 0008 00009F 00000000 97")
    select = build_reply(0x90, bytes(8))
    assert select[5:10] == H("000C000090") and len(select) == 7 + 12
    read = build_reply(0x90, bytes(4 + 256 + 1024))
    assert len(read) == 1295 and read[5:7] == H("0508")


def test_checksum_matches_plain_xor() -> None:
    for size in (0, 1, 2, 3, 7, 8, 9, 255, 256, 1288, 2314):
        body = os.urandom(size)
        expected = 0
        for byte in body:
            expected ^= byte
        assert checksum(body) == expected


def test_status_codes_all_have_messages() -> None:
    codes = {0x90, 0x9F, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x40, 0x41, 0x47,
             0x60, 0x66, 0x80, 0x81, 0x91}
    assert {s.value for s in Status} == codes
    for status in Status:
        assert status.message
        assert (status.message == "ok") == (status is Status.OK)
    assert Status.NO_CARD.message == "no card on the reader"
    assert Status.OK.is_success and Status.FIND_OK.is_success
    assert not Status.NO_CARD.is_success
    assert Status.READ_FAILED.is_card_problem and not Status.READ_FAILED.is_reader_fault
    assert Status.SELF_TEST_FAILED.is_reader_fault
    assert "0x77" in describe_sw3(0x77)


def test_reply_and_command_views() -> None:
    parser = FrameParser()
    (frame,) = parser.feed(build_reply(0x80))
    reply = frame.as_reply()
    assert (reply.sw1, reply.sw2, reply.sw3, reply.data) == (0, 0, 0x80, b"")
    assert reply.status is Status.NO_CARD and not reply.ok
    assert reply.message == "no card on the reader"
    cparser = FrameParser(min_len=MIN_COMMAND_LEN)
    (cframe,) = cparser.feed(build_command(Command.SAM_ID))
    assert cframe.as_command().command is Command.SAM_ID
    with pytest.raises(ValueError):
        Frame(b"\x00").as_reply()


def test_frame_repr_never_shows_payload() -> None:
    secret = "370102199003070032".encode("utf-16-le")
    (frame,) = FrameParser().feed(build_reply(0x90, secret))
    assert "370102" not in repr(frame) and "3\x007\x00" not in repr(frame)
    assert repr(frame) == f"Frame({len(secret) + 3} B)"
    assert repr(frame.as_reply()).startswith("Reply(sw=0x000090")


def test_split_frames_byte_by_byte() -> None:
    parser = FrameParser()
    data = build_reply(0x90, os.urandom(1284))
    out = []
    for i in range(len(data)):
        out += parser.feed(data[i:i + 1])
        if i < len(data) - 1:
            assert not out
    assert len(out) == 1 and out[0].as_reply().data == data[10:-1]
    assert parser.pending == 0 and parser.pop_errors() == []


def test_merged_frames_and_garbage_between() -> None:
    parser = FrameParser()
    a, b, c = build_reply(0x9F, bytes(4)), build_reply(0x90, bytes(8)), build_reply(0x80)
    frames = parser.feed(b"\x00\xff" + a + b"noise\xaa\xaa" + b + c)
    assert [f.as_reply().sw3 for f in frames] == [0x9F, 0x90, 0x80]
    assert parser.garbage_bytes == 2 + 7
    assert parser.pop_errors() == []


def test_partial_preamble_at_chunk_end_is_kept() -> None:
    parser = FrameParser()
    data = build_reply(0x90)
    assert parser.feed(b"junk" + data[:3]) == []
    assert parser.pending == 3
    (frame,) = parser.feed(data[3:])
    assert frame.as_reply().ok


def test_bad_checksum_is_reported_and_following_frame_found() -> None:
    parser = FrameParser()
    bad = bytearray(build_reply(0x90, bytes(16)))
    bad[-1] ^= 1
    good = build_reply(0x9F, bytes(4))
    items = parser.feed_items(bytes(bad) + good)
    assert isinstance(items[0], ChecksumError)
    assert isinstance(items[-1], Frame) and items[-1].as_reply().sw3 == 0x9F
    assert parser.checksum_errors == 1
    assert "baud rate" in ChecksumError.advice


@pytest.mark.parametrize("length", [0, 1, 3, 0x0A01, 0xFFFF])
def test_impossible_lengths_are_rejected_at_once(length: int) -> None:
    parser = FrameParser()
    header = H("AAAAAA9669") + length.to_bytes(2, "big")
    good = build_reply(0x90)
    frames = parser.feed(header + good)
    assert [f.as_reply().sw3 for f in frames] == [0x90]
    errors = parser.pop_errors()
    assert errors and all(isinstance(e, LengthError) for e in errors)


def test_corrupted_long_length_does_not_hold_back_the_next_frame() -> None:
    parser = FrameParser()
    bogus = H("AAAAAA9669") + (MAX_REPLY_LEN).to_bytes(2, "big") + b"\x00\x00"
    good = build_reply(0x9F, bytes(4))
    frames = parser.feed(bogus + good)
    assert [f.as_reply().sw3 for f in frames] == [0x9F]
    assert any(isinstance(e, LengthError) for e in parser.pop_errors())
    assert parser.pending == 0


def test_wanted_counts_down_to_the_end_of_the_frame() -> None:
    parser = FrameParser()
    data = build_reply(0x90, bytes(8))
    assert parser.wanted() == 7
    parser.feed(data[:4])
    assert parser.wanted() == 3
    parser.feed(data[4:9])
    assert parser.wanted() == len(data) - 9
    parser.feed(data[9:])
    assert parser.wanted() == 7


def test_reset_drops_partial_frame() -> None:
    parser = FrameParser()
    data = build_reply(0x90, bytes(8))
    parser.feed(data[:10])
    parser.reset()
    assert parser.pending == 0
    assert parser.feed(data[10:]) == []
    assert parser.feed(data) and parser.stats()["frames"] == 1


def test_command_lookup_covers_all_commands() -> None:
    for command in Command:
        assert Command.lookup(command.cmd, command.para) is command
    assert Command.lookup(0x99, 0x99) is None

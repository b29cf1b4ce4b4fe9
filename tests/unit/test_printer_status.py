"""DLE EOT replies → PrinterStatus, cross-checked against the emulator's replies."""

from __future__ import annotations

import pytest

from drivers.printer.emulator import Condition, status_byte
from drivers.printer.interface import PaperLevel, PrinterStatus
from drivers.printer.status import QUERY, decode, is_status_byte


def replies(condition: Condition) -> bytes:
    return b"".join(status_byte(condition, n) for n in (1, 2, 3, 4))


def test_query_is_dle_eot_1_to_4() -> None:
    assert QUERY == bytes.fromhex("10 04 01 10 04 02 10 04 03 10 04 04")


@pytest.mark.parametrize(("condition", "online", "paper", "cover", "cutter", "can", "reason"), [
    (Condition.OK, True, PaperLevel.OK, False, False, True, ""),
    (Condition.NEAR_END, True, PaperLevel.NEAR_END, False, False, True, "打印纸即将用完"),
    (Condition.PAPER_OUT, False, PaperLevel.OUT, False, False, False, "打印纸已用完"),
    (Condition.COVER_OPEN, False, PaperLevel.OK, True, False, False, "打印机盖未关好"),
    (Condition.CUTTER_ERROR, False, PaperLevel.OK, False, True, False, "切纸刀故障"),
])
def test_decode_each_condition(condition: Condition, online: bool, paper: PaperLevel,
                               cover: bool, cutter: bool, can: bool, reason: str) -> None:
    status = decode(replies(condition))
    assert (status.online, status.paper, status.cover_open, status.cutter_error) == (
        online, paper, cover, cutter)
    assert status.can_print is can
    assert status.reason == reason


def test_no_reply_is_unknown_never_ok() -> None:
    assert replies(Condition.OFFLINE) == b""
    status = decode(b"")
    assert status == PrinterStatus.unknown()
    assert status.online is None and status.paper is PaperLevel.UNKNOWN
    assert not status.can_print


def test_garbage_is_not_a_status() -> None:
    assert not is_status_byte(0x00) and not is_status_byte(0xFF) and is_status_byte(0x12)
    assert decode(b"\x00\x12\x12\x12") == PrinterStatus.unknown()
    partial = decode(b"\x12\x12\xff\x12")  # out of step after n=2: trust only n=1 and n=2
    assert partial.online is True and partial.cutter_error is None
    assert not partial.can_print


def test_partial_replies() -> None:
    only_first = decode(b"\x12")
    assert only_first.online is True and only_first.paper is PaperLevel.UNKNOWN
    assert not only_first.can_print
    no_sensor = decode(b"\x12\x12\x12")  # printer without n=4 support
    assert no_sensor.paper is PaperLevel.OK and no_sensor.can_print
    out_by_cause = decode(b"\x1a\x32\x12")
    assert out_by_cause.paper is PaperLevel.OUT


def test_unrecoverable_error_bits() -> None:
    status = decode(bytes([0x12, 0x12, 0x12 | 0x20, 0x12]))
    assert status.error is True and not status.can_print
    assert status.reason == "打印机故障"

"""SamClient against the emulator through an in-memory port (no threads, no real waits)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from drivers.idcard import samples
from drivers.idcard.client import (
    BadFrames,
    Cancelled,
    CardError,
    LinkError,
    NoAnswer,
    SamClient,
    SamFault,
)
from drivers.idcard.emulator import SamEmulator
from drivers.idcard.frames import MIN_COMMAND_LEN, Command, FrameParser, Status, build_command


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class LoopPort:
    """A pyserial-like port wired straight to a SamEmulator; empty reads advance the clock."""

    def __init__(self, emulator: SamEmulator, clock: FakeClock) -> None:
        self.emulator = emulator
        self.clock = clock
        self.timeout = 0.05
        self.rx = bytearray()
        self.parser = FrameParser(min_len=MIN_COMMAND_LEN)
        self.silent = False
        self.broken = False
        self.writes: list[bytes] = []

    @property
    def in_waiting(self) -> int:
        return len(self.rx)

    def write(self, data: bytes) -> int:
        if self.broken:
            raise OSError(5, "Input/output error")
        self.writes.append(data)
        if not self.silent:
            for _command, reply in self.emulator.replies_for(data, self.parser):
                self.rx += reply
        return len(data)

    def read(self, size: int = 1) -> bytes:
        if not self.rx:
            self.clock.now += self.timeout
            return b""
        out, self.rx = bytes(self.rx[:size]), self.rx[size:]
        return out

    def reset_input_buffer(self) -> None:
        self.rx.clear()

    def close(self) -> None:
        pass


@pytest.fixture
def rig():
    emulator = SamEmulator()
    clock = FakeClock()
    port = LoopPort(emulator, clock)
    client = SamClient(port, timeout_s=1.0, card_timeout_s=3.0, retries=1, clock=clock)
    return emulator, port, client, clock


@pytest.mark.parametrize("card", samples.ALL, ids=list(samples.BY_NAME))
def test_reads_every_card_type(rig, card) -> None:
    emulator, _port, client, _ = rig
    emulator.put_card(card)
    assert client.read_card() == card


def test_status_sam_id_and_reset(rig) -> None:
    _emulator, port, client, _ = rig
    client.status()
    client.reset()
    assert client.sam_id() == "05.01-20240101-000001001-000370102"
    assert port.writes[0] == bytes.fromhex("AAAAAA9669 0003 11FF ED")


def test_find_semantics_no_card_and_halt_after_read(rig) -> None:
    emulator, _port, client, _ = rig
    assert client.find() is False
    emulator.put_card(samples.RESIDENT)
    assert client.find() is True
    client.select()
    client.read()
    assert client.find() is False  # a read card stays halted until lifted
    emulator.lift_card()
    emulator.put_card(samples.RESIDENT)
    assert client.find() is True


def test_read_without_card_is_a_card_error(rig) -> None:
    _emulator, _port, client, _ = rig
    with pytest.raises(CardError) as info:
        client.read_card()
    assert info.value.status is Status.NO_CARD
    assert str(info.value) == "no card on the reader"


def test_appended_address_and_fingerprint(rig) -> None:
    emulator, _port, client, _ = rig
    card = replace(samples.RESIDENT, appended_address="山东省济南市市中区经四路1号")
    emulator.put_card(card)
    emulator.fingerprint = b"\x07" * 1024
    assert client.find()
    client.select()
    blocks = client.read(fingerprint=True)
    assert blocks.fingerprint == b"\x07" * 1024
    assert client.read_appended_address() == "山东省济南市市中区经四路1号"
    emulator.put_card(samples.RESIDENT)
    assert client.read_card(address=True).appended_address == ""


def test_one_corrupted_reply_is_retried(rig) -> None:
    emulator, port, client, _ = rig
    emulator.faults.corrupt_replies = 1
    client.status()
    assert len(port.writes) == 2
    assert client.parser.checksum_errors == 1


def test_persistent_checksum_errors_explain_the_baud_rate(rig) -> None:
    emulator, _port, client, _ = rig
    emulator.faults.corrupt_replies = 5
    with pytest.raises(BadFrames, match="checksum error: check the baud rate"):
        client.status()


def test_silence_is_no_answer_within_the_time_out(rig) -> None:
    _emulator, port, client, clock = rig
    port.silent = True
    with pytest.raises(NoAnswer, match="does not answer"):
        client.status()
    assert 2.0 <= clock.now <= 2.2  # two attempts of one second each
    assert isinstance(NoAnswer("x"), LinkError)


def test_merged_stale_reply_is_skipped(rig) -> None:
    emulator, _port, client, _ = rig
    emulator.put_card(samples.RESIDENT)
    assert client.find() is True
    emulator.faults.merge_stale = 1  # the FIND reply comes again, glued before SELECT's
    client.select()
    assert client.stale_replies == 1
    emulator.faults.merge_stale = 1  # SELECT's reply glued before the read reply
    assert client.read().text


def test_status_codes_become_typed_errors(rig) -> None:
    emulator, _port, client, _ = rig
    emulator.fail(Command.STATUS, Status.SELF_TEST_FAILED)
    with pytest.raises(SamFault, match="self-test"):
        client.status()
    emulator.put_card(samples.RESIDENT)
    emulator.fail(Command.READ_TEXT_PHOTO, Status.READ_FAILED)
    with pytest.raises(CardError) as info:
        client.read_card()
    assert info.value.status is Status.READ_FAILED
    emulator.fail(Command.FIND, 0x77)
    with pytest.raises(CardError, match="unknown status code 0x77"):
        client.find()


def test_unknown_command_and_bad_host_frames_get_error_statuses(rig) -> None:
    _emulator, port, client, _ = rig
    assert client.transact(Command.BAUD_9600).ok  # a known command
    replies = FrameParser()
    port.write(build_command((0x99, 0x99)))
    bad = bytearray(build_command(Command.FIND))
    bad[-1] ^= 0xFF
    port.write(bytes(bad))
    port.write(bytes.fromhex("AAAAAA9669 0001 00"))  # LEN too short for a command
    codes = [f.as_reply().sw3 for f in replies.feed(bytes(port.rx))]
    assert codes == [Status.COMMAND_ERROR, Status.CHECKSUM_ERROR, Status.LENGTH_ERROR]


def test_port_errors_become_link_errors(rig) -> None:
    _emulator, port, client, _ = rig
    port.broken = True
    with pytest.raises(LinkError, match="serial port error"):
        client.status()


def test_cancel_stops_a_wait(rig) -> None:
    _emulator, port, client, _ = rig
    port.silent = True
    client.cancel.set()
    with pytest.raises(Cancelled):
        client.status()

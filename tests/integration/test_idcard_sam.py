"""The SAM driver against the emulator over a real pseudo-terminal (115200) and over TCP."""

from __future__ import annotations

import os
import sys
import termios
import threading
from dataclasses import replace

import pytest
import serial

sys.path.insert(0, os.path.dirname(__file__))

from test_idcard_helpers import FAST_OPTIONS, Recorder, wait_until

from drivers.base import DeviceState
from drivers.idcard import IdCardRead, IdCardReadFailed, IdCardRemoved, samples
from drivers.idcard.emulator import PtyEmulator, SamEmulator, TcpEmulator
from drivers.idcard.frames import Command, Status
from drivers.idcard.sam_driver import SamIdCardReader

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["pty", "tcp"])
def transport(request):
    return request.param


@pytest.fixture
def emulator():
    return SamEmulator()


@pytest.fixture
def server(transport, emulator):
    srv = PtyEmulator(emulator) if transport == "pty" else TcpEmulator(emulator)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def make_reader(server):
    made: list[SamIdCardReader] = []

    def make(**options) -> tuple[SamIdCardReader, Recorder]:
        reader = SamIdCardReader(server.url, {**FAST_OPTIONS, **options})
        recorder = Recorder()
        reader.subscribe(recorder)
        made.append(reader)
        reader.start()
        recorder.wait_state(DeviceState.READY)
        return reader, recorder

    yield make
    for reader in made:
        reader.stop()
        assert reader._thread is None
    assert not [t for t in threading.enumerate() if t.name == "idcard-sam"]


def _present(emulator: SamEmulator, recorder: Recorder, card) -> IdCardRead:
    mark = recorder.mark()
    emulator.put_card(card)
    event = recorder.wait_type(IdCardRead, after=mark)
    recorder.wait_type(IdCardRemoved, after=mark)  # the SAM halts a read card: presentation over
    return event


# -- normal operation -------------------------------------------------------------------------
def test_every_card_type_is_read_once_per_presentation(emulator, make_reader) -> None:
    reader, recorder = make_reader()
    for card in samples.ALL:
        assert _present(emulator, recorder, card).data == card
    assert len(recorder.of(IdCardRead)) == len(samples.ALL)
    assert emulator.stats.commands[Command.READ_TEXT_PHOTO] == len(samples.ALL)
    health = reader.health()
    assert health.state is DeviceState.READY
    assert health.detail["sam_id"] == "05.01-20240101-000001001-000370102"
    assert health.detail["reads"] == len(samples.ALL)
    assert recorder.of(IdCardReadFailed) == []


def test_no_card_is_quiet_polling(emulator, make_reader) -> None:
    reader, recorder = make_reader()
    wait_until(lambda: emulator.stats.commands[Command.FIND] >= 10)
    assert recorder.of(IdCardRead) == [] and recorder.of(IdCardReadFailed) == []
    assert reader.state is DeviceState.READY


def test_card_left_on_a_non_halting_reader_is_read_once(server, make_reader) -> None:
    server.emulator.halt_after_read = False
    _reader, recorder = make_reader()
    server.emulator.put_card(samples.RESIDENT)
    recorder.wait_type(IdCardRead)
    finds = server.emulator.stats.commands[Command.FIND]
    wait_until(lambda: server.emulator.stats.commands[Command.FIND] >= finds + 10)
    assert len(recorder.of(IdCardRead)) == 1
    assert server.emulator.stats.commands[Command.READ_TEXT_PHOTO] == 1
    mark = recorder.mark()
    server.emulator.lift_card()
    recorder.wait_type(IdCardRemoved, after=mark)


def test_appended_address_is_read(emulator, make_reader) -> None:
    _reader, recorder = make_reader()
    card = replace(samples.RESIDENT, appended_address="山东省济南市市中区经四路1号")
    assert _present(emulator, recorder, card).data.appended_address == card.appended_address
    assert emulator.stats.commands[Command.READ_APPENDED_ADDRESS] == 1


def test_address_and_fingerprint_toggles(emulator, make_reader) -> None:
    _reader, recorder = make_reader(address=False, fingerprint=True)
    emulator.fingerprint = b"\x05" * 1024
    assert _present(emulator, recorder, samples.HMT_RESIDENCE).data == samples.HMT_RESIDENCE
    assert emulator.stats.commands[Command.READ_WITH_FINGERPRINT] == 1
    assert emulator.stats.commands[Command.READ_TEXT_PHOTO] == 0
    assert emulator.stats.commands[Command.READ_APPENDED_ADDRESS] == 0


def test_invalid_check_digit_is_refused(emulator, make_reader) -> None:
    _reader, recorder = make_reader(read_attempts=2)
    emulator.put_card(replace(samples.RESIDENT, id_number="370102199003070033"))
    failed = recorder.wait_type(IdCardReadFailed)
    assert "failed verification" in failed.reason
    assert recorder.of(IdCardRead) == []


# -- faults -----------------------------------------------------------------------------------
def test_card_lifted_mid_read(emulator, make_reader) -> None:
    _reader, recorder = make_reader()
    emulator.faults.lift_mid_read = True
    mark = recorder.mark()
    emulator.put_card(samples.RESIDENT)
    failed = recorder.wait_type(IdCardReadFailed, after=mark)
    assert "moved away" in failed.reason
    recorder.wait_type(IdCardRemoved, after=mark)
    assert _present(emulator, recorder, samples.RESIDENT).data == samples.RESIDENT


def test_occasional_checksum_errors_are_retried(emulator, make_reader) -> None:
    _reader, recorder = make_reader()
    emulator.faults.corrupt_replies = 2  # two in a row: within the retries
    assert _present(emulator, recorder, samples.FOREIGNER_2017).data == samples.FOREIGNER_2017
    assert emulator.faults.corrupt_replies == 0
    assert not [e for e in recorder.events if getattr(e, "state", None) is DeviceState.UNAVAILABLE]


def test_persistent_checksum_errors_make_it_unavailable(emulator, make_reader) -> None:
    _reader, recorder = make_reader()
    mark = recorder.mark()
    emulator.faults.corrupt_replies = 10**9
    event = recorder.wait_state(DeviceState.UNAVAILABLE, after=mark)
    assert "checksum error: check the baud rate" in event.reason
    emulator.faults.corrupt_replies = 0
    recorder.wait_state(DeviceState.READY, after=mark)
    assert _present(emulator, recorder, samples.RESIDENT).data == samples.RESIDENT


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_split_replies(emulator, make_reader, chunk: int) -> None:
    _reader, recorder = make_reader()
    emulator.faults.split_chunk = chunk
    emulator.faults.split_gap_s = 0.0 if chunk == 1 else 0.001
    assert _present(emulator, recorder, samples.FOREIGNER_2023).data == samples.FOREIGNER_2023


def test_merged_replies_and_garbage(emulator, make_reader) -> None:
    _reader, recorder = make_reader()
    emulator.faults.merge_stale = 4
    emulator.faults.garbage = b"\x00\xaa\xaa\x13\x37\xaa\xaa\xaa\x96"
    assert _present(emulator, recorder, samples.RESIDENT).data == samples.RESIDENT
    assert emulator.faults.merge_stale == 0


def test_slow_replies_within_the_time_out(emulator, make_reader) -> None:
    _reader, recorder = make_reader()
    emulator.faults.delay_s = 0.1
    assert _present(emulator, recorder, samples.RESIDENT).data == samples.RESIDENT


def test_replies_slower_than_the_time_out(emulator, make_reader) -> None:
    _reader, recorder = make_reader()
    mark = recorder.mark()
    emulator.faults.delay_s = 1.5  # longer than all three attempts (3 x 0.3 s)
    event = recorder.wait_state(DeviceState.UNAVAILABLE, after=mark)
    assert "does not answer" in event.reason
    emulator.faults.delay_s = 0.0
    recorder.wait_state(DeviceState.READY, after=mark, timeout=10)
    assert _present(emulator, recorder, samples.RESIDENT).data == samples.RESIDENT


def test_a_transient_read_error_is_retried_silently(emulator, make_reader) -> None:
    _reader, recorder = make_reader()
    emulator.fail(Command.READ_TEXT_PHOTO, Status.READ_FAILED, times=1)
    assert _present(emulator, recorder, samples.RESIDENT).data == samples.RESIDENT
    assert recorder.of(IdCardReadFailed) == []
    assert emulator.stats.commands[Command.READ_TEXT_PHOTO] == 2


@pytest.mark.parametrize(("command", "status"), [
    (Command.READ_TEXT_PHOTO, Status.READ_FAILED),
    (Command.READ_TEXT_PHOTO, Status.CARD_AUTH_FAILED),
    (Command.READ_TEXT_PHOTO, Status.VERIFY_ERROR),
    (Command.READ_TEXT_PHOTO, Status.RANDOM_FAILED),
    (Command.SELECT, Status.SELECT_FAILED),
    (Command.READ_TEXT_PHOTO, Status.NOT_PERMITTED),
    (Command.READ_TEXT_PHOTO, Status.UNKNOWN_ERROR),
])
def test_persistent_card_errors_are_reported_once(emulator, make_reader, command,
                                                  status) -> None:
    _reader, recorder = make_reader(read_attempts=3)
    emulator.fail(command, status, times=-1)
    mark = recorder.mark()
    emulator.put_card(samples.RESIDENT)
    failed = recorder.wait_type(IdCardReadFailed, after=mark)
    assert failed.reason == status.message
    assert emulator.stats.commands[command] == 3
    finds = emulator.stats.commands[Command.FIND]
    wait_until(lambda: emulator.stats.commands[Command.FIND] >= finds + 5)
    assert len(recorder.of(IdCardReadFailed)) == 1  # once per presentation
    emulator.lift_card()
    recorder.wait_type(IdCardRemoved, after=mark)


def test_unknown_card_type_fails_at_once(emulator, make_reader) -> None:
    _reader, recorder = make_reader(read_attempts=3)
    emulator.fail(Command.READ_TEXT_PHOTO, Status.UNKNOWN_CARD_TYPE, times=-1)
    emulator.put_card(samples.RESIDENT)
    failed = recorder.wait_type(IdCardReadFailed)
    assert failed.reason == Status.UNKNOWN_CARD_TYPE.message
    assert emulator.stats.commands[Command.READ_TEXT_PHOTO] == 1


def test_sam_self_test_failure_is_unavailable_then_recovers(server, make_reader) -> None:
    emulator = server.emulator
    _reader, recorder = make_reader()
    mark = recorder.mark()
    emulator.fail(Command.STATUS, Status.SELF_TEST_FAILED, times=-1)
    emulator.fail(Command.FIND, Status.SELF_TEST_FAILED, times=-1)
    event = recorder.wait_state(DeviceState.UNAVAILABLE, after=mark)
    assert "self-test" in event.reason
    wait_until(lambda: emulator.stats.commands[Command.RESET] >= 1)
    emulator.clear_faults()
    recorder.wait_state(DeviceState.READY, after=mark)


def test_unplugged_and_plugged_back(server, make_reader, transport) -> None:
    emulator = server.emulator
    emulator.halt_after_read = False  # the card stays "present" while the reader goes away
    reader, recorder = make_reader()
    emulator.put_card(samples.RESIDENT)
    recorder.wait_type(IdCardRead)
    mark = recorder.mark()
    server.unplug()
    event = recorder.wait_state(DeviceState.UNAVAILABLE, after=mark)
    removed = recorder.wait_type(IdCardRemoved, after=mark)
    assert recorder.events.index(removed) < recorder.events.index(event)
    if transport == "pty":
        assert "does not answer" in event.reason
    assert reader.health().state is DeviceState.UNAVAILABLE
    mark = recorder.mark()
    server.plug()
    recorder.wait_state(DeviceState.READY, after=mark, timeout=10)
    recorder.wait_type(IdCardRead, after=mark)  # the card still there is a new presentation
    assert reader.health().detail["reconnects"] == 1


# -- ports -------------------------------------------------------------------------------------
def test_missing_port_is_unavailable_and_stops_promptly(tmp_path) -> None:
    reader = SamIdCardReader(str(tmp_path / "ttyUSB9"), FAST_OPTIONS)
    recorder = Recorder()
    reader.subscribe(recorder)
    reader.start()
    event = recorder.wait_state(DeviceState.UNAVAILABLE)
    assert "cannot open" in event.reason
    reader.stop()
    assert reader.state is DeviceState.STOPPED
    assert not [t for t in threading.enumerate() if t.name == "idcard-sam"]


def test_pty_runs_at_115200() -> None:
    emulator = SamEmulator()
    with PtyEmulator(emulator) as server:
        attrs = termios.tcgetattr(server._slave)
        assert attrs[4] == attrs[5] == termios.B115200
        port = serial.serial_for_url(server.path, baudrate=115200, timeout=0.05)
        try:
            assert port.baudrate == 115200
        finally:
            port.close()

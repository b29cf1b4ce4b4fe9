"""No personal data in logs: every log record of a driver session is checked.

The session reads every sample card over a real pty, with faults on the way (failed reads,
checksum errors, a card lifted mid-read, an unplugged reader), with every logger at DEBUG.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from dataclasses import replace

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from test_idcard_helpers import FAST_OPTIONS, Recorder

from drivers.base import DeviceState
from drivers.idcard import IdCardRead, IdCardReadFailed, IdCardRemoved, samples
from drivers.idcard.emulator import PtyEmulator, SamEmulator
from drivers.idcard.fake import FakeIdCardReader
from drivers.idcard.frames import Command, Status
from drivers.idcard.sam_driver import SamIdCardReader

APPENDED = "山东省济南市市中区经四路1号"


def _secrets() -> list[str]:
    found: set[str] = {APPENDED}
    for card in samples.ALL:
        found.update({card.id_number, card.name, card.address, card.english_name,
                      card.pass_number})
        found.update(part for part in card.english_name.replace(",", " ").split() if len(part) > 3)
        if card.birth_date:
            found.add(card.birth_date.strftime("%Y%m%d"))
        found.add(card.id_number[6:14])
        if len(card.address) > 6:
            found.add(card.address[3:9])  # any chunk of the address
    found.discard("")
    return sorted(found)


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.args)]
    if record.exc_info:
        parts.append("".join(traceback.format_exception(*record.exc_info)))
    if record.exc_text:
        parts.append(record.exc_text)
    return "\n".join(parts)


@pytest.mark.timeout(60)
def test_logs_never_contain_personal_data(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    emulator = SamEmulator()
    recorder = Recorder()
    with PtyEmulator(emulator) as server:
        reader = SamIdCardReader(server.url, FAST_OPTIONS)
        reader.subscribe(recorder)
        reader.start()
        try:
            recorder.wait_state(DeviceState.READY)
            for card in (*samples.ALL, replace(samples.RESIDENT, appended_address=APPENDED)):
                mark = recorder.mark()
                emulator.put_card(card)
                recorder.wait_type(IdCardRemoved, after=mark)
            # faults
            mark = recorder.mark()
            emulator.fail(Command.READ_TEXT_PHOTO, Status.READ_FAILED, times=-1)
            emulator.put_card(samples.RESIDENT)
            recorder.wait_type(IdCardReadFailed, after=mark)
            emulator.clear_faults()
            emulator.lift_card()
            recorder.wait_type(IdCardRemoved, after=mark)
            mark = recorder.mark()
            emulator.faults.lift_mid_read = True
            emulator.put_card(samples.HMT_RESIDENCE)
            recorder.wait_type(IdCardRemoved, after=mark)
            emulator.faults.corrupt_replies = 2
            mark = recorder.mark()
            emulator.put_card(replace(samples.RESIDENT, id_number="370102199003070033"))
            recorder.wait_type(IdCardReadFailed, after=mark)
            mark = recorder.mark()
            server.unplug()
            recorder.wait_state(DeviceState.UNAVAILABLE, after=mark)
            server.plug()
            recorder.wait_state(DeviceState.READY, after=mark)
        finally:
            reader.stop()

    fake = FakeIdCardReader()
    fake.start()
    fake.present(samples.RESIDENT)
    fake.present(samples.EXPIRED)  # ignored with a warning
    fake.stop()

    assert len(recorder.of(IdCardRead)) == len(samples.ALL) + 1
    texts = [_record_text(r) for r in caplog.records]
    assert any("unavailable" in t for t in texts)  # the capture really saw the session
    assert any("read a resident card" in t for t in texts)
    log_text = "\n".join(texts)
    event_text = "\n".join(repr(e) + str(e) for e in recorder.events)
    for secret in _secrets():
        assert secret not in log_text, "personal data in the logs"
        assert secret not in event_text, "personal data in an event's repr"

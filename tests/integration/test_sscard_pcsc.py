"""End to end: PcscSocialSecurityReader → pyscard → the real pcscd → vpcd → our card emulator.

Needs the Debian packages pcscd and vsmartcard-vpcd (installed on the development machines);
the fixtures in conftest_pcsc.py start pcscd when none runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import pytest
from conftest_pcsc import READER, PcscService, card_slot, pcsc  # noqa: F401 (fixtures)

from drivers.base import DeviceEvent, DeviceState, DeviceStateChanged
from drivers.smartcard.emulator import CardScript, SsCardEmulator
from drivers.smartcard.interface import SsCardInserted, SsCardRead, SsCardReadFailed, SsCardRemoved
from drivers.smartcard.pcsc import PcscSocialSecurityReader
from drivers.smartcard.samples import (
    SAMPLE_CARD,
    SAMPLE_CARD_LONG_NAME,
    SAMPLE_CARD_V3,
    SAMPLE_CARD_V3_PARTIAL,
)

pytestmark = pytest.mark.timeout(120)

PSAM_NAME = frozenset({0x09, 0x4E})
WAIT_S = 10.0  # bound on every wait: pcscd polls vpcd every 400 ms


class Events:
    def __init__(self) -> None:
        self.items: list[DeviceEvent] = []
        self.cond = threading.Condition()

    def __call__(self, event: DeviceEvent) -> None:
        with self.cond:
            self.items.append(event)
            self.cond.notify_all()

    def wait_for(self, predicate: Callable[[list[DeviceEvent]], bool],
                 timeout: float = WAIT_S) -> list[DeviceEvent]:
        with self.cond:
            ok = self.cond.wait_for(lambda: predicate(self.items), timeout)
            assert ok, f"timed out; events so far: {self.items}"
            return list(self.items)

    def count(self, kind: type) -> int:
        with self.cond:
            return sum(isinstance(e, kind) for e in self.items)

    def card_events(self) -> list[DeviceEvent]:
        with self.cond:
            return [e for e in self.items
                    if isinstance(e, SsCardInserted | SsCardRead | SsCardReadFailed
                                  | SsCardRemoved)]


def n_of(kind: type, n: int = 1) -> Callable[[list[DeviceEvent]], bool]:
    return lambda items: sum(isinstance(e, kind) for e in items) >= n


@pytest.fixture
def reader(pcsc: PcscService):  # noqa: F811 (pytest fixture)
    device = PcscSocialSecurityReader(options={"reader": READER, "poll_interval": 0.2})
    events = Events()
    device.subscribe(events)
    device.start()
    events.wait_for(lambda items: device.state is DeviceState.READY)
    yield device, events
    device.stop()
    assert device._thread is None


def assert_never_verify(emulator: SsCardEmulator) -> None:
    apdus = emulator.apdus
    assert apdus, "the card received nothing"
    assert [a for a in apdus if a[1] == 0x20] == []


def read_one(events: Events, emulator: SsCardEmulator) -> SsCardRead:
    emulator.insert()
    items = events.wait_for(lambda items: n_of(SsCardRead)(items) or n_of(SsCardReadFailed)(items))
    done = [e for e in items if isinstance(e, SsCardRead | SsCardReadFailed)][-1]
    assert isinstance(done, SsCardRead), done
    return done


def test_reads_card_and_reports_insert_and_remove(reader, card_slot) -> None:  # noqa: F811
    device, events = reader
    emulator = card_slot(CardScript(SAMPLE_CARD))
    read = read_one(events, emulator)
    assert read.data == SAMPLE_CARD
    emulator.remove()
    events.wait_for(n_of(SsCardRemoved))
    assert [type(e) for e in events.card_events()] == [SsCardInserted, SsCardRead, SsCardRemoved]
    assert events.card_events()[0].reader == READER
    detail = device.health().detail
    assert detail["reader"] == READER and detail["last_read_apdus"] == 17
    assert_never_verify(emulator)


def test_third_generation_card_without_psam(reader, card_slot) -> None:  # noqa: F811
    _device, events = reader
    emulator = card_slot(CardScript(SAMPLE_CARD_V3, psam_tags=PSAM_NAME))
    read = read_one(events, emulator)
    assert read.data == SAMPLE_CARD_V3_PARTIAL
    assert read.data.missing == ("name",)
    assert read.data.ss_number == SAMPLE_CARD_V3.ss_number
    assert_never_verify(emulator)


def test_get_response_and_wrong_le_through_pcscd(reader, card_slot) -> None:  # noqa: F811
    _device, events = reader
    card = replace(SAMPLE_CARD_LONG_NAME, issuer="37010012")
    script = CardScript(card, select_61=True, read_via_61=True, chunk=7, exact_le=True,
                        value_lengths={0x04: 8})
    emulator = card_slot(script)
    read = read_one(events, emulator)
    assert read.data == card
    apdus = emulator.apdus
    assert sum(a[1] == 0xC0 for a in apdus) >= 16  # 61xx → GET RESPONSE, in 7-byte pieces
    assert bytes.fromhex("00B2040412") in apdus and bytes.fromhex("00B204040A") in apdus
    assert_never_verify(emulator)


def test_ssse_fallback_to_ef05(reader, card_slot) -> None:  # noqa: F811
    _device, events = reader
    emulator = card_slot(CardScript(SAMPLE_CARD, ssse_by_name=False))
    assert read_one(events, emulator).data == SAMPLE_CARD
    assert emulator.apdus[1] == bytes.fromhex("00A4020002EF05")


def test_card_pulled_out_while_reading(reader, card_slot) -> None:  # noqa: F811
    _device, events = reader
    emulator = card_slot(CardScript(SAMPLE_CARD, vanish_after=5))
    emulator.insert()
    events.wait_for(n_of(SsCardRemoved))
    kinds = [type(e) for e in events.card_events()]
    assert kinds == [SsCardInserted, SsCardReadFailed, SsCardRemoved]
    failed = events.card_events()[1]
    assert "removed" in failed.reason or "reader failed" in failed.reason
    assert len(emulator.apdus) == 6
    assert_never_verify(emulator)


def test_not_a_social_security_card(reader, card_slot) -> None:  # noqa: F811
    _device, events = reader
    emulator = card_slot(CardScript(SAMPLE_CARD, applet=False))
    emulator.insert()
    items = events.wait_for(n_of(SsCardReadFailed))
    failed = next(e for e in items if isinstance(e, SsCardReadFailed))
    assert "not a social security card" in failed.reason


def test_several_cards_in_a_row(reader, card_slot) -> None:  # noqa: F811
    _device, events = reader
    cards = [SAMPLE_CARD, SAMPLE_CARD_V3, SAMPLE_CARD_LONG_NAME]
    for i, card in enumerate(cards, start=1):
        emulator = card_slot(CardScript(card))
        emulator.insert()
        events.wait_for(n_of(SsCardRead, i))
        emulator.remove()
        events.wait_for(n_of(SsCardRemoved, i))
    reads = [e.data for e in events.card_events() if isinstance(e, SsCardRead)]
    assert reads == cards
    assert events.count(SsCardInserted) == 3


def test_unknown_reader_is_unavailable(pcsc: PcscService) -> None:  # noqa: F811
    device = PcscSocialSecurityReader(options={"reader": "No Such Reader", "poll_interval": 0.1})
    events = Events()
    device.subscribe(events)
    device.start()
    try:
        events.wait_for(lambda items: device.state is DeviceState.UNAVAILABLE)
        assert "No Such Reader" in device.health().reason
    finally:
        device.stop()


def test_pcscd_goes_away_and_comes_back(reader, card_slot, pcsc: PcscService) -> None:  # noqa: F811
    if not pcsc.owned:
        pytest.skip("pcscd was already running and is not ours to stop")
    device, events = reader
    pcsc.stop()
    events.wait_for(lambda items: device.state is DeviceState.UNAVAILABLE, timeout=15)
    assert "pcscd" in device.health().reason or "reader" in device.health().reason
    pcsc.start()
    events.wait_for(lambda items: isinstance(items[-1], DeviceStateChanged)
                    and items[-1].state is DeviceState.READY, timeout=20)
    emulator = card_slot(CardScript(SAMPLE_CARD))
    assert read_one(events, emulator).data == SAMPLE_CARD

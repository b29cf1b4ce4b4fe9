"""The PC/SC watcher's logic against a stand-in for pyscard's ``scard`` module.

The same driver runs end to end through the real pcscd in tests/integration/test_sscard_pcsc.py;
here the service and reader can vanish and come back on demand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from smartcard import scard as real_scard

from drivers.base import DeviceEvent, DeviceState, DeviceStateChanged
from drivers.smartcard import pcsc as pcsc_module
from drivers.smartcard.emulator import CardLogic, CardScript
from drivers.smartcard.interface import SsCardInserted, SsCardRead, SsCardReadFailed, SsCardRemoved
from drivers.smartcard.pcsc import PcscSocialSecurityReader, pick_reader
from drivers.smartcard.samples import SAMPLE_CARD

READER = "ACS ACR39U ICC Reader 00 00"


class FakeScard:
    """Just enough of ``smartcard.scard``: one service, some readers, at most one card."""

    def __init__(self) -> None:
        for name in dir(real_scard):
            if name.startswith("SCARD_"):
                setattr(self, name, getattr(real_scard, name))
        self.cond = threading.Condition()
        self.service = True
        self.readers = [READER]
        self.card: CardScript | None = None
        self.cancelled = False
        self.logic: CardLogic | None = None
        self.contexts = 0

    def _update(self, **changes: object) -> None:
        with self.cond:
            for key, value in changes.items():
                setattr(self, key, value)
            self.cond.notify_all()

    def SCardGetErrorMessage(self, code: int) -> str:
        return "fake PC/SC error"

    def SCardEstablishContext(self, scope: int) -> tuple[int, int]:
        with self.cond:
            if not self.service:
                return self.SCARD_E_NO_SERVICE, 0
            self.contexts += 1
            return self.SCARD_S_SUCCESS, 1000 + self.contexts

    def SCardReleaseContext(self, ctx: int) -> int:
        return self.SCARD_S_SUCCESS

    def SCardListReaders(self, ctx: int, groups: list) -> tuple[int, list[str]]:
        with self.cond:
            if not self.service:
                return self.SCARD_E_NO_SERVICE, []
            if not self.readers:
                return self.SCARD_E_NO_READERS_AVAILABLE, []
            return self.SCARD_S_SUCCESS, list(self.readers)

    def _state(self, reader: str) -> int:
        if reader not in self.readers:
            return self.SCARD_STATE_UNKNOWN
        return self.SCARD_STATE_PRESENT if self.card else self.SCARD_STATE_EMPTY

    def SCardGetStatusChange(self, ctx: int, timeout_ms: int, states: list) -> tuple[int, list]:
        reader, current = states[0]
        deadline = time.monotonic() + timeout_ms / 1000
        with self.cond:
            while True:
                if self.cancelled:
                    self.cancelled = False
                    return self.SCARD_E_CANCELLED, []
                if not self.service:
                    return self.SCARD_E_NO_SERVICE, []
                now = self._state(reader)
                if now != current:
                    return self.SCARD_S_SUCCESS, [(reader, now | self.SCARD_STATE_CHANGED, [])]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return self.SCARD_E_TIMEOUT, []
                self.cond.wait(remaining)

    def SCardCancel(self, ctx: int) -> int:
        self._update(cancelled=True)
        return self.SCARD_S_SUCCESS

    def SCardConnect(self, ctx: int, reader: str, share: int, protocols: int) -> tuple:
        with self.cond:
            if self.card is None:
                return self.SCARD_E_NO_SMARTCARD, 0, 0
            self.logic = CardLogic(self.card)
            return self.SCARD_S_SUCCESS, 7, self.SCARD_PROTOCOL_T0

    def SCardTransmit(self, hcard: int, protocol: int, apdu: list[int]) -> tuple[int, list[int]]:
        with self.cond:
            if self.card is None or self.logic is None:
                return self.SCARD_W_REMOVED_CARD, []
            return self.SCARD_S_SUCCESS, list(self.logic.process(bytes(apdu)))

    def SCardDisconnect(self, hcard: int, disposition: int) -> int:
        return self.SCARD_S_SUCCESS


class Events:
    def __init__(self) -> None:
        self.items: list[DeviceEvent] = []
        self.cond = threading.Condition()

    def __call__(self, event: DeviceEvent) -> None:
        with self.cond:
            self.items.append(event)
            self.cond.notify_all()

    def wait_for(self, predicate: Callable[[list[DeviceEvent]], bool],
                 timeout: float = 5.0) -> list[DeviceEvent]:
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self.items), timeout), self.items
            return list(self.items)

    def of(self, *types: type) -> list[DeviceEvent]:
        with self.cond:
            return [e for e in self.items if isinstance(e, types)]


def has_state(state: DeviceState, reason_part: str = "") -> Callable[[list], bool]:
    def check(items: list) -> bool:
        return any(isinstance(e, DeviceStateChanged) and e.state is state
                   and reason_part in e.reason for e in items)
    return check


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeScard:
    stand_in = FakeScard()
    monkeypatch.setattr(pcsc_module, "scard", stand_in)
    return stand_in


@pytest.fixture
def make_reader():
    made: list[PcscSocialSecurityReader] = []

    def make(**options: object) -> tuple[PcscSocialSecurityReader, Events]:
        options.setdefault("poll_interval", 0.05)
        device = PcscSocialSecurityReader(options=options)
        events = Events()
        device.subscribe(events)
        made.append(device)
        return device, events

    yield make
    for device in made:
        device.stop()


def test_pick_reader() -> None:
    readers = ["Virtual PCD 00 00", "ACS ACR39U 00 00"]
    assert pick_reader(readers, "") == "Virtual PCD 00 00"
    assert pick_reader(readers, "acr39") == "ACS ACR39U 00 00"
    assert pick_reader(readers, "gemalto") is None
    assert pick_reader([], "") is None


def test_ready_then_insert_read_remove(fake: FakeScard, make_reader) -> None:
    device, events = make_reader()
    device.start()
    events.wait_for(has_state(DeviceState.READY))
    assert device.health().detail["reader"] == READER
    fake._update(card=CardScript(SAMPLE_CARD))
    events.wait_for(lambda items: any(isinstance(e, SsCardRead) for e in items))
    fake._update(card=None)
    events.wait_for(lambda items: any(isinstance(e, SsCardRemoved) for e in items))
    card_events = events.of(SsCardInserted, SsCardRead, SsCardRemoved)
    assert [type(e) for e in card_events] == [SsCardInserted, SsCardRead, SsCardRemoved]
    assert card_events[0].reader == READER
    assert card_events[1].data == SAMPLE_CARD
    assert device.health().detail["last_read_apdus"] == 17


def test_card_already_in_at_start_is_read(fake: FakeScard, make_reader) -> None:
    fake.card = CardScript(SAMPLE_CARD)
    device, events = make_reader()
    device.start()
    items = events.wait_for(lambda items: any(isinstance(e, SsCardRead) for e in items))
    read = next(e for e in items if isinstance(e, SsCardRead))
    assert read.data.ss_number == SAMPLE_CARD.ss_number


def test_unreadable_card_reports_failure(fake: FakeScard, make_reader) -> None:
    device, events = make_reader()
    device.start()
    events.wait_for(has_state(DeviceState.READY))
    fake._update(card=CardScript(SAMPLE_CARD, applet=False))
    items = events.wait_for(lambda items: any(isinstance(e, SsCardReadFailed) for e in items))
    failed = [e for e in items if isinstance(e, SsCardReadFailed)]
    assert "not a social security card" in failed[0].reason
    assert not events.of(SsCardRead)


def test_reader_disappears_and_comes_back(fake: FakeScard, make_reader) -> None:
    device, events = make_reader()
    device.start()
    events.wait_for(has_state(DeviceState.READY))
    fake._update(card=CardScript(SAMPLE_CARD))
    events.wait_for(lambda items: any(isinstance(e, SsCardRead) for e in items))
    fake._update(readers=[], card=None)
    events.wait_for(has_state(DeviceState.UNAVAILABLE, "no card reader"))
    assert device.state is DeviceState.UNAVAILABLE
    assert len(events.of(SsCardRemoved)) == 1  # the card went with the reader
    fake._update(readers=[READER])
    events.wait_for(lambda items: isinstance(items[-1], DeviceStateChanged)
                    and items[-1].state is DeviceState.READY)
    assert device.state is DeviceState.READY


def test_only_the_configured_reader(fake: FakeScard, make_reader) -> None:
    device, events = make_reader(reader="gemalto")
    device.start()
    events.wait_for(has_state(DeviceState.UNAVAILABLE, "'gemalto'"))
    fake._update(readers=[READER, "Gemalto PC Twin Reader 00 00"])
    events.wait_for(has_state(DeviceState.READY))
    assert device.health().detail["reader"] == "Gemalto PC Twin Reader 00 00"


def test_service_down_then_up(fake: FakeScard, make_reader) -> None:
    fake.service = False
    device, events = make_reader()
    device.start()
    events.wait_for(has_state(DeviceState.UNAVAILABLE, "pcscd"))
    fake._update(service=True)
    events.wait_for(has_state(DeviceState.READY), timeout=10)
    fake._update(service=False)
    items = events.wait_for(lambda items: isinstance(items[-1], DeviceStateChanged)
                            and items[-1].state is DeviceState.UNAVAILABLE, timeout=10)
    assert device.health().state is DeviceState.UNAVAILABLE and "pcscd" in items[-1].reason


def test_stop_joins_the_thread(fake: FakeScard, make_reader) -> None:
    device, events = make_reader(poll_interval=30)  # only SCardCancel can wake it in time
    device.start()
    events.wait_for(has_state(DeviceState.READY))
    thread = device._thread
    assert thread is not None and thread.is_alive()
    device.stop()
    assert not thread.is_alive()
    assert device.state is DeviceState.STOPPED


def test_registry_loads_pcsc_backend() -> None:
    from drivers import registry

    options = {"reader": "acr", "poll_interval": 2}
    device = registry.open_device("smartcard", "pcsc", options=options)
    assert isinstance(device, PcscSocialSecurityReader)
    assert (device.kind, device.type_name) == ("smartcard", "pcsc")
    assert device.wanted == "acr" and device.poll_interval == 2.0
    assert device.state is DeviceState.STOPPED  # built, not started


def test_service_lost_with_card_in_reports_removal(fake: FakeScard, make_reader) -> None:
    device, events = make_reader()
    device.start()
    fake._update(card=CardScript(SAMPLE_CARD))
    events.wait_for(lambda items: any(isinstance(e, SsCardRead) for e in items))
    fake._update(service=False)
    events.wait_for(lambda items: any(isinstance(e, SsCardRemoved) for e in items))
    events.wait_for(has_state(DeviceState.UNAVAILABLE, "pcscd"))
    assert len(events.of(SsCardRemoved)) == 1


def test_unexpected_error_does_not_kill_the_watcher(fake: FakeScard, make_reader,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real_list = fake.SCardListReaders

    def flaky(ctx: int, groups: list) -> tuple[int, list[str]]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return real_list(ctx, groups)

    monkeypatch.setattr(fake, "SCardListReaders", flaky)
    monkeypatch.setattr(pcsc_module, "MAX_BACKOFF_S", 0.05)
    device, events = make_reader()
    device.start()
    events.wait_for(has_state(DeviceState.UNAVAILABLE, "internal error"))
    events.wait_for(has_state(DeviceState.READY))
    assert device._thread is not None and device._thread.is_alive()

"""The social security card data, events and fake reader."""

from __future__ import annotations

import threading

import pytest

from drivers import registry
from drivers.base import DeviceState, DeviceStateChanged
from drivers.smartcard import (
    SsCardData,
    SsCardInserted,
    SsCardRead,
    SsCardReadFailed,
    SsCardRemoved,
)
from drivers.smartcard.fake import FakeSocialSecurityCardReader
from drivers.smartcard.samples import (
    SAMPLE_CARD,
    SAMPLE_CARD_V3,
    SAMPLE_CARD_V3_PARTIAL,
    SAMPLES,
    id_check_digit,
    id_number_valid,
)


@pytest.fixture
def reader():
    dev = FakeSocialSecurityCardReader(options={"reader": "Test Reader 0"})
    events: list = []
    dev.subscribe(events.append)
    dev.events = events
    yield dev
    dev.stop()


def test_samples_have_valid_id_numbers() -> None:
    for card in SAMPLES.values():
        assert id_number_valid(card.ss_number), card.masked_id
        assert card.card_id.startswith(card.region_code)
        assert card.birth_date == card.ss_number[6:14]


def test_id_check_digit_known_value() -> None:
    # GB 11643 worked example: 11010519491231002X
    assert id_check_digit("11010519491231002") == "X"
    assert not id_number_valid("110105194912310021")
    with pytest.raises(ValueError):
        id_check_digit("123")


def test_card_repr_masks_personal_data() -> None:
    text = repr(SAMPLE_CARD)
    assert SAMPLE_CARD.name not in text
    assert SAMPLE_CARD.ss_number not in text
    assert SAMPLE_CARD.card_number not in text
    assert SAMPLE_CARD.masked_id in text
    assert str(SAMPLE_CARD) == text
    assert SAMPLE_CARD.masked_name == SAMPLE_CARD.name[0] + "***"
    number = SAMPLE_CARD.ss_number
    assert SAMPLE_CARD.masked_id == number[:4] + "*" * 10 + number[-4:]
    read = SsCardRead(SAMPLE_CARD)
    assert SAMPLE_CARD.ss_number not in repr(read) and read.kind == "smartcard"


def test_partial_card_lists_missing() -> None:
    assert SAMPLE_CARD_V3.complete
    assert not SAMPLE_CARD_V3_PARTIAL.complete
    assert SAMPLE_CARD_V3_PARTIAL.missing == ("name",)
    assert SAMPLE_CARD_V3_PARTIAL.masked_name == ""


def test_events_have_smartcard_kind_and_positional_fields() -> None:
    assert SsCardInserted("r1").reader == "r1"
    assert SsCardRemoved(reader="r2").kind == "smartcard"
    assert SsCardReadFailed("bad").reason == "bad"
    with pytest.raises(TypeError):
        SsCardInserted("r", kind="other")  # kind is fixed


def test_data_is_frozen() -> None:
    with pytest.raises(AttributeError):
        SAMPLE_CARD.name = "x"  # type: ignore[misc]
    assert isinstance(SAMPLE_CARD, SsCardData)


def test_start_ready_at_once(reader) -> None:
    reader.start()
    assert reader.state is DeviceState.READY
    assert reader.health().available
    assert reader.health().detail["reader"] == "Test Reader 0"


def test_insert_emits_inserted_then_read_and_remove(reader) -> None:
    reader.start()
    reader.events.clear()
    assert reader.insert(SAMPLE_CARD)
    assert [type(e) for e in reader.events] == [SsCardInserted, SsCardRead]
    assert reader.events[0].reader == "Test Reader 0"
    assert reader.events[1].data is SAMPLE_CARD
    assert reader.card_present
    assert not reader.insert(SAMPLE_CARD_V3)  # one card at a time
    assert reader.remove()
    assert isinstance(reader.events[-1], SsCardRemoved)
    assert not reader.remove()  # nothing left to remove
    assert len(reader.events) == 3


def test_insert_unreadable(reader) -> None:
    reader.start()
    reader.events.clear()
    assert reader.insert_unreadable("card is mute")
    assert [type(e) for e in reader.events] == [SsCardInserted, SsCardReadFailed]
    assert reader.events[1].reason == "card is mute"


def test_insert_ignored_before_start_and_when_unavailable(reader) -> None:
    assert not reader.insert(SAMPLE_CARD)
    reader.start()
    reader.set_available(False, "cable out")
    assert reader.state is DeviceState.UNAVAILABLE
    assert reader.health().reason == "cable out"
    assert not reader.insert(SAMPLE_CARD)
    reader.set_available(True)
    assert reader.state is DeviceState.READY
    assert reader.insert(SAMPLE_CARD)


def test_unplug_with_card_reports_removal_first(reader) -> None:
    reader.start()
    reader.insert(SAMPLE_CARD)
    reader.events.clear()
    reader.set_available(False)
    assert isinstance(reader.events[0], SsCardRemoved)
    assert isinstance(reader.events[1], DeviceStateChanged)
    assert reader.events[1].state is DeviceState.UNAVAILABLE
    assert reader.events[1].reason == "reader unplugged"


def test_set_available_before_start_sets_initial_state(reader) -> None:
    reader.set_available(False, "no reader")
    assert reader.state is DeviceState.STOPPED
    reader.start()
    assert reader.state is DeviceState.UNAVAILABLE
    reader.stop()
    assert reader.state is DeviceState.STOPPED


def test_thread_safety_insert_remove(reader) -> None:
    reader.start()
    reader.events.clear()

    def worker() -> None:
        for _ in range(200):
            reader.insert(SAMPLE_CARD)
            reader.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
        assert not t.is_alive()
    # every card inserted was read and removed, in order, never two in at once
    kinds = [type(e) for e in reader.events]
    assert len(kinds) % 3 == 0 and kinds
    for i in range(0, len(kinds), 3):
        assert kinds[i:i + 3] == [SsCardInserted, SsCardRead, SsCardRemoved]


def test_registry_loads_fake() -> None:
    assert "fake" in registry.backend_types("smartcard")
    dev = registry.open_device("smartcard", "fake")
    assert isinstance(dev, FakeSocialSecurityCardReader)
    assert dev.kind == "smartcard" and dev.type_name == "fake"

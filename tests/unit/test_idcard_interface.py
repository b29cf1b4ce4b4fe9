"""The ID card interface, the fake reader and the sample cards."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date

import pytest

from drivers.base import DeviceState, DeviceStateChanged
from drivers.idcard import BACKENDS, CardType, IdCardRead, IdCardReadFailed, IdCardRemoved, samples
from drivers.idcard.fake import FakeIdCardReader
from drivers.idcard.idnumber import check_digit, is_valid_id_number, with_check_digit
from drivers.registry import load_backend, open_device


def test_card_type_values_and_markers() -> None:
    assert [t.value for t in CardType] == [
        "resident", "hmt_residence", "foreigner_2017", "foreigner_2023"]
    assert CardType.from_marker("J") is CardType.HMT_RESIDENCE
    assert CardType.from_marker("I") is CardType.FOREIGNER_2017
    assert CardType.from_marker("Y") is CardType.FOREIGNER_2023
    assert CardType.from_marker(" ") is CardType.RESIDENT
    assert CardType.from_marker("\x00") is CardType.RESIDENT
    assert CardType.from_marker("Z") is None
    assert CardType.HMT_RESIDENCE.label == "港澳台居民居住证"


def test_masked_properties_and_repr_hide_personal_data() -> None:
    card = samples.RESIDENT
    assert card.masked_name == "李*"
    assert card.masked_id == "3701**********0032"
    text = repr(card) + str(card) + repr(IdCardRead(card))
    for secret in (card.name, card.id_number, card.address, "泉城路", "19900307"):
        assert secret not in text
    assert "3701**********0032" in text


def test_foreigner_without_chinese_name_masks_english_name() -> None:
    card = replace(samples.FOREIGNER_2017, name="")
    assert card.masked_name.startswith("S") and "SMITH" not in card.masked_name


def test_long_term_and_expiry() -> None:
    assert samples.RESIDENT_LONG_TERM.is_long_term
    assert not samples.RESIDENT_LONG_TERM.expired(date(2099, 1, 1))
    assert not samples.RESIDENT.is_long_term
    assert not samples.RESIDENT.expired(date(2035, 6, 1))  # the last day is still valid
    assert samples.RESIDENT.expired(date(2035, 6, 2))
    assert samples.EXPIRED.expired(date(2024, 1, 1))


def test_events_are_idcard_events() -> None:
    read = IdCardRead(samples.RESIDENT)
    assert read.kind == "idcard" and read.data is samples.RESIDENT and read.at > 0
    assert IdCardRemoved().kind == "idcard"
    failed = IdCardReadFailed("no card on the reader")
    assert failed.kind == "idcard" and failed.reason == "no card on the reader"


@pytest.mark.parametrize("card", samples.ALL, ids=list(samples.BY_NAME))
def test_samples_have_valid_numbers_and_matching_sex_digit(card) -> None:
    assert card.id_number_valid
    assert len(card.photo_wlt) == 1024
    if card.card_type is not CardType.FOREIGNER_2017:
        sex_digit = int(card.id_number[16])
        assert (sex_digit % 2 == 1) == (card.gender == "男")
        assert card.id_number[6:14] == card.birth_date.strftime("%Y%m%d")


def test_one_sample_per_card_type() -> None:
    assert set(samples.BY_TYPE) == set(CardType)
    assert all(card.card_type is t for t, card in samples.BY_TYPE.items())
    assert samples.HMT_RESIDENCE.id_number[:2] in ("81", "82", "83")
    assert samples.FOREIGNER_2023.id_number.startswith("9")


def test_check_digit_known_vectors() -> None:
    assert check_digit("11010519491231002") == "X"  # the example printed in GB 11643
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")
    assert is_valid_id_number("932682198501010017")  # NIA sample 2023 permanent residence no.
    assert not is_valid_id_number("110105194912310021")
    assert not is_valid_id_number("11010519491231002")
    assert not is_valid_id_number("1101051949123100AX")
    assert with_check_digit("37010219900307003") == "370102199003070032"
    with pytest.raises(ValueError):
        check_digit("123")


def test_backends_table_and_registry() -> None:
    assert BACKENDS == {"fake": "drivers.idcard.fake:FakeIdCardReader",
                        "sam": "drivers.idcard.sam_driver:SamIdCardReader"}
    assert load_backend("idcard", "fake") is FakeIdCardReader
    assert load_backend("idcard", "sam").type_name == "sam"
    device = open_device("idcard", "fake")
    assert isinstance(device, FakeIdCardReader) and device.kind == "idcard"


# -- fake reader ------------------------------------------------------------------------------
@pytest.fixture
def fake():
    reader = FakeIdCardReader()
    events: list = []
    reader.subscribe(events.append)
    reader.start()
    yield reader, events
    reader.stop()


def test_fake_starts_ready_and_reads_once_per_presentation(fake) -> None:
    reader, events = fake
    assert reader.state is DeviceState.READY
    events.clear()
    assert reader.present(samples.RESIDENT) is True
    assert reader.present(samples.HMT_RESIDENCE) is False  # must lift first
    assert [type(e) for e in events] == [IdCardRead]
    assert events[0].data is samples.RESIDENT
    assert reader.lift() is True
    assert reader.lift() is False
    assert reader.present(samples.HMT_RESIDENCE) is True
    assert [type(e) for e in events] == [IdCardRead, IdCardRemoved, IdCardRead]


def test_fake_availability(fake) -> None:
    reader, events = fake
    reader.present(samples.RESIDENT)
    events.clear()
    reader.set_available(False, "USB cable unplugged")
    assert reader.state is DeviceState.UNAVAILABLE
    assert reader.health().reason == "USB cable unplugged"
    assert isinstance(events[0], IdCardRemoved)
    assert isinstance(events[1], DeviceStateChanged)
    assert events[1].state is DeviceState.UNAVAILABLE
    assert reader.present(samples.RESIDENT) is False  # not while unavailable
    reader.set_available(True)
    assert reader.state is DeviceState.READY
    assert reader.present(samples.RESIDENT) is True
    assert reader.fail_read("bad") is True
    assert isinstance(events[-1], IdCardReadFailed)


def test_fake_is_thread_safe(fake) -> None:
    reader, events = fake
    events.clear()
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait(timeout=5)
        for _ in range(500):
            reader.present(samples.RESIDENT)
            reader.lift()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(t.is_alive() for t in threads)
    kinds = [type(e) for e in events]
    # strictly alternating: never two reads without a removal in between
    assert kinds[::2] == [IdCardRead] * len(kinds[::2])
    assert kinds[1::2] == [IdCardRemoved] * len(kinds[1::2])
    assert len(kinds) % 2 == 0 and len(kinds) >= 2

"""好差评 records: checks, code mappings, working-day window, sealed real-name part."""

from __future__ import annotations

import base64
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from nacl.public import PrivateKey

from config.schema import KioskConfig
from kiosk.ratings.levels import Level
from kiosk.ratings.levels import RatingRecord as BasicRecord
from kiosk.ratings.records import (
    CHANNEL_SELF_SERVICE,
    RatingError,
    RatingRecordBuilder,
    RatingSettings,
    RealNamePart,
    add_working_days,
    open_real_name,
    supplementary_deadline,
    to_gbt39046,
    to_provincial,
)

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2025, 6, 3, 10, 30, 5, tzinfo=TZ)  # a Tuesday


@pytest.fixture
def keys() -> PrivateKey:
    return PrivateKey.generate()


@pytest.fixture
def builder(keys: PrivateKey) -> RatingRecordBuilder:
    settings = RatingSettings(evaluation_public_key=base64.b64encode(
        bytes(keys.public_key)).decode(), holidays=[date(2025, 6, 9)])
    return RatingRecordBuilder("JN-T1", "370102", "Asia/Shanghai", settings)


def test_level_codes_both_directions() -> None:
    assert [lv.gbt39046_code for lv in Level] == [1, 2, 3, 4, 5]
    assert [lv.provincial_code for lv in Level] == [5, 4, 3, 2, 1]
    assert Level.VERY_SATISFIED.gbt39046_code == 1  # 1 = 非常满意
    assert Level.VERY_DISSATISFIED.provincial_code == 1  # 1 = 非常不满意


def test_good_rating_record_and_mappings(builder: RatingRecordBuilder) -> None:
    rec = builder.build(item_code="371500-001", item_name="社保缴费证明打印", level="satisfied",
                        handling_number="2025060300001", at=AT, source="pad")
    assert len(rec.id) == 32 and rec.terminal == "JN-T1" and not rec.identified
    values = rec.values()
    assert values["gbt39046_code"] == 2 and values["provincial_code"] == 4
    assert values["channel"] == CHANNEL_SELF_SERVICE == 5
    assert values["time"] == "2025-06-03T10:30:05+08:00"
    gbt = to_gbt39046(rec)
    assert gbt["评价时间"] == "20250603T103005" and gbt["满意度代码"] == 2
    assert gbt["评价次数"] == 1 and gbt["行政区划"] == "370102" and gbt["评价渠道"] == 5
    prov = to_provincial(rec)
    assert prov["satisfaction"] == 4 and prov["pf"] == 5 and prov["assessNumber"] == 1
    assert prov["projectNo"] == "2025060300001" and prov["taskCode"] == "371500-001"


def test_bad_rating_needs_a_configured_reason(builder: RatingRecordBuilder) -> None:
    with pytest.raises(RatingError, match="needs at least one reason"):
        builder.build(item_code="X", level=Level.DISSATISFIED, at=AT)
    with pytest.raises(RatingError, match="unknown reason"):
        builder.build(item_code="X", level=Level.VERY_DISSATISFIED, reasons=["太慢了"], at=AT)
    rec = builder.build(item_code="X", level=Level.VERY_DISSATISFIED,
                        reasons=["等待时间长", "等待时间长"], text="请回电 13812345678", at=AT)
    assert rec.reasons == ("等待时间长",)
    assert "13812345678" not in rec.text and rec.text.endswith("5678")  # masked
    assert to_gbt39046(rec)["满意度代码"] == 5 and to_provincial(rec)["satisfaction"] == 1


def test_reasons_only_for_bad_levels_and_text_length(builder: RatingRecordBuilder) -> None:
    with pytest.raises(RatingError, match="only for"):
        builder.build(item_code="X", level="basic", reasons=["其他"], at=AT)
    with pytest.raises(RatingError, match="at most 200"):
        builder.build(item_code="X", level="basic", text="字" * 201, at=AT)
    with pytest.raises(RatingError, match="unknown level"):
        builder.build(item_code="X", level="great", at=AT)
    with pytest.raises(RatingError, match="item_code"):
        builder.build(item_code="", level="basic", at=AT)


def test_not_rated_is_never_a_level(builder: RatingRecordBuilder) -> None:
    rec = builder.build(item_code="X", level=None, at=AT,
                        real_name=RealNamePart("张三", "370102199001011234"))
    values = rec.values()
    assert values["level"] == "not_rated" and values["gbt39046_code"] is None
    assert values["source"] == "timeout" and not rec.identified  # no real name without rating
    with pytest.raises(RatingError):
        to_gbt39046(rec)
    with pytest.raises(RatingError):
        builder.build(item_code="X", level=None, reasons=["其他"], at=AT)


def test_real_name_part_is_sealed_and_only_the_private_key_opens_it(
        builder: RatingRecordBuilder, keys: PrivateKey) -> None:
    person = RealNamePart("张三", "370102199001011234", phone="13812345678")
    rec = builder.build(item_code="X", level="dissatisfied", reasons=["操作复杂"], at=AT,
                        real_name=person)
    assert rec.identified and rec.user_prop == 1 and len(rec.key_id) == 16
    sealed = rec.values()["real_name_sealed"]
    blob = base64.b64decode(sealed)
    assert b"370102199001011234" not in blob and "张三".encode() not in blob
    assert "370102199001011234" not in str(rec.values()) and "张三" not in repr(person)
    opened = open_real_name(sealed, keys)
    assert opened["id_number"] == "370102199001011234" and opened["name"] == "张三"
    with pytest.raises(RatingError, match="cannot open"):
        open_real_name(sealed, PrivateKey.generate())  # e.g. the terminal's own key


def test_without_an_evaluation_key_no_real_name_leaves() -> None:
    builder = RatingRecordBuilder("JN-T1", "370102")
    assert not builder.can_seal
    rec = builder.build(item_code="X", level="basic", at=AT,
                        real_name=RealNamePart("张三", "370102199001011234"))
    assert not rec.identified and rec.values()["real_name_sealed"] is None
    assert rec.user_prop == 1


def test_working_days_skip_weekends_and_holidays() -> None:
    friday = date(2025, 6, 6)
    assert add_working_days(friday, 1) == date(2025, 6, 9)  # Monday
    assert add_working_days(friday, 1, holidays=[date(2025, 6, 9)]) == date(2025, 6, 10)
    saturday = date(2025, 6, 7)
    assert add_working_days(friday, 1, extra_workdays=[saturday]) == saturday
    assert add_working_days(friday, 5) == date(2025, 6, 13)


def test_supplementary_within_five_working_days(builder: RatingRecordBuilder) -> None:
    # Tue 3 June + 5 working days with Mon 9 June a holiday: Wed 4, Thu 5, Fri 6, Tue 10, Wed 11
    assert supplementary_deadline(AT, builder.settings) == date(2025, 6, 11)
    late_ok = datetime(2025, 6, 11, 23, 0, tzinfo=TZ)
    rec = builder.build(item_code="X", level="basic", handling_number="H1", first_at=AT,
                        at=late_ok)
    assert rec.assess_number == 2 and to_provincial(rec)["assessNumber"] == 2
    assert rec.values()["first_time"] == "2025-06-03T10:30:05+08:00"
    with pytest.raises(RatingError, match="until 2025-06-11"):
        builder.build(item_code="X", level="basic", handling_number="H1", first_at=AT,
                      at=datetime(2025, 6, 12, 9, 0, tzinfo=TZ))
    with pytest.raises(RatingError, match="handling number"):
        builder.build(item_code="X", level="basic", first_at=AT, at=late_ok)


def test_settings_refuse_bad_keys_and_empty_reasons() -> None:
    with pytest.raises(ValueError, match="base64"):
        RatingSettings(evaluation_public_key="not a key!")
    with pytest.raises(ValueError, match="32"):
        RatingSettings(evaluation_public_key=base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="at least one reason"):
        RatingSettings(reasons=["  "])
    assert RatingSettings(reasons=["慢", "慢", "贵"]).reasons == ["慢", "贵"]


def test_from_config_and_from_basic_record() -> None:
    config = KioskConfig.model_validate({"terminal": {"id": "JN-X1", "region_code": "370203"}})
    builder = RatingRecordBuilder.from_config(config)
    basic = BasicRecord(item="proof", level=Level.BASIC, at=AT.timestamp())
    rec = builder.from_basic(basic, handling_number="H9")
    assert rec.id == basic.id and rec.terminal == "JN-X1" and rec.region_code == "370203"
    assert rec.at == AT and rec.handling_number == "H9"

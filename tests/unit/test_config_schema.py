"""The schema on its own: checks, helpers, device types and the TOML helpers."""

from __future__ import annotations

import sys
import tomllib
import types
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from config import checks, tomlutil
from config.pin import DEMO_PIN_HASH
from config.schema import (
    DEVICE_KINDS,
    BrandingConfig,
    DeviceConfig,
    IdCardDevice,
    KioskConfig,
    MaintenanceConfig,
    MqttConfig,
    OpeningHours,
    StorageConfig,
    TerminalConfig,
    device_types,
)
from drivers import registry


# -- opening hours -------------------------------------------------------------------------------
@pytest.mark.parametrize(("days", "expected"), [
    ("daily", {0, 1, 2, 3, 4, 5, 6}),
    ("mon-fri", {0, 1, 2, 3, 4}),
    ("sat,sun", {5, 6}),
    ("mon-sun", {0, 1, 2, 3, 4, 5, 6}),
    ("fri-mon", {4, 5, 6, 0}),
    (" Mon-Wed, sat ", {0, 1, 2, 5}),
])
def test_days(days: str, expected: set[int]) -> None:
    assert checks.parse_days(days) == frozenset(expected)


@pytest.mark.parametrize("days", ["", "weekdays", "mon-", "mon-fri,", "mo-fr", "mon--fri"])
def test_bad_days(days: str) -> None:
    with pytest.raises(ValueError, match="cannot read days"):
        checks.parse_days(days)


def test_times() -> None:
    assert checks.parse_hhmm("09:30") == 570
    assert checks.parse_hhmm("24:00", allow_24=True) == 1440
    for bad in ("24:00", "9:30", "12:60", "noon", "12:00:00"):
        with pytest.raises(ValueError):
            checks.parse_hhmm(bad)


def test_close_may_be_midnight_but_not_before_open() -> None:
    assert OpeningHours(days="daily", open="00:00", close="24:00").close_minute == 1440
    with pytest.raises(ValidationError):
        OpeningHours(days="daily", open="10:00", close="10:00")


def test_is_open_uses_the_site_time_zone() -> None:
    terminal = TerminalConfig(opening_hours=[
        OpeningHours(days="mon-fri", open="09:00", close="17:00"),
        OpeningHours(days="sat", open="09:00", close="12:00"),
    ])
    saturday_11_local = datetime(2024, 6, 1, 3, 0, tzinfo=UTC)  # 11:00 in Asia/Shanghai
    assert terminal.is_open(saturday_11_local)
    assert not terminal.is_open(datetime(2024, 6, 1, 12, 0))  # naive = site-local, 12:00 closes
    assert not terminal.is_open(datetime(2024, 6, 2, 10, 0))  # Sunday
    assert terminal.is_open(datetime(2024, 6, 3, 16, 59))
    assert not terminal.is_open(datetime(2024, 6, 3, 8, 59))
    assert TerminalConfig().is_open(datetime(2024, 6, 2, 3, 0))  # no hours = 24 hours


# -- devices -------------------------------------------------------------------------------------
def test_device_kinds_match_the_registry() -> None:
    assert tuple(registry.KINDS) == DEVICE_KINDS


@pytest.mark.parametrize("url", ["", "/dev/ttyUSB0", "COM3", "socket://127.0.0.1:9100",
                                 "tcp://printer.local:9100", "pty:///dev/pts/3",
                                 "usb://0x0416:0x5011", "fake://", "loop://"])
def test_device_urls_accepted(url: str) -> None:
    assert DeviceConfig(url=url).url == url


@pytest.mark.parametrize("url", ["ttyUSB0", "socket://127.0.0.1", "tcp://:9100",
                                 "usb://0416:5011", "socket://host:99999", "http//x"])
def test_device_urls_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        DeviceConfig(url=url)


def test_device_type_falls_back_to_fake_while_the_package_is_missing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.KINDS, "idcard", "drivers._no_such_package_for_tests")
    assert device_types("idcard") == ["fake"]
    assert IdCardDevice(type="fake").type == "fake"
    with pytest.raises(ValidationError, match="no idcard backend called 'sam'"):
        IdCardDevice(type="sam")


def test_device_type_follows_the_backends_table(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("kiosk_test_fake_idcard_pkg")
    module.BACKENDS = {"fake": "x:Y", "vendor": "x:Z"}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(registry.KINDS, "idcard", module.__name__)
    assert device_types("idcard") == ["fake", "vendor"]
    # the backend is known, but its module cannot be imported: the check says so, as start-up
    # would (its options cannot be checked either)
    with pytest.raises(ValidationError, match="needs the Python module 'x'"):
        IdCardDevice(type="vendor")
    with pytest.raises(ValidationError) as excinfo:
        IdCardDevice(type="other")
    assert excinfo.value.errors()[0]["ctx"]["allowed"] == "one of fake, vendor"


def test_a_broken_driver_package_is_an_error_not_a_fallback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("kiosk_test_broken_pkg")  # no BACKENDS
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(registry.KINDS, "idcard", module.__name__)
    with pytest.raises(ValidationError, match="cannot list the idcard backends"):
        IdCardDevice(type="fake")


# -- other sections ------------------------------------------------------------------------------
def test_models_are_frozen_and_refuse_unknown_keys() -> None:
    config = KioskConfig()
    with pytest.raises(ValidationError):
        config.ui.idle_timeout_s = 30  # type: ignore[misc]
    assert config.model_copy(update={"profile": "x"}).profile == "x"
    with pytest.raises(ValidationError, match="Extra inputs"):
        KioskConfig.model_validate({"ui": {"colour": "red"}})


def test_mqtt_properties_and_checks() -> None:
    mqtt = MqttConfig(url="mqtts://fleet.example:8884", cert_file="a.pem", key_file="a.key")
    assert (mqtt.tls, mqtt.host, mqtt.port) == (True, "fleet.example", 8884)
    assert MqttConfig(url="mqtts://fleet.example").port == 8883
    assert MqttConfig(url="mqtt://[::1]").port == 1883
    with pytest.raises(ValidationError, match="go together"):
        MqttConfig(cert_file="a.pem")
    for prefix in ("kiosk/#", "/kiosk", "kiosk/", "kiosk/+/x"):
        with pytest.raises(ValidationError):
            MqttConfig(topic_prefix=prefix)


def test_loopback_hosts() -> None:
    assert checks.is_loopback_host("127.0.0.5")
    assert checks.is_loopback_host("[::1]")
    assert checks.is_loopback_host("localhost")
    assert not checks.is_loopback_host("10.0.0.1")
    assert not checks.is_loopback_host("localhost.example.com")


def test_branding_colour() -> None:
    assert BrandingConfig(primary_color="#FF0080").primary_rgba == (1.0, 0.0, 128 / 255, 1.0)
    with pytest.raises(ValidationError):
        BrandingConfig(primary_color="blue")


def test_storage_paths(tmp_path: Path) -> None:
    storage = StorageConfig(data_dir=str(tmp_path), log_level="debug")
    assert storage.log_dir == tmp_path / "logs"
    assert storage.log_level == "DEBUG"
    assert StorageConfig(data_dir="~/k", log_dir="~/l").log_dir == Path("~/l").expanduser()


def test_maintenance_repr_hides_the_pin_hash() -> None:
    maintenance = MaintenanceConfig()
    assert maintenance.uses_demo_pin
    assert DEMO_PIN_HASH not in repr(maintenance)
    assert DEMO_PIN_HASH.split("$")[3] not in repr(KioskConfig())


def test_services_duplicates_collapse() -> None:
    config = KioskConfig.model_validate({"services": {"enabled": ["guide", "guide", "code"]}})
    assert config.services.enabled == ["guide", "code"]


# -- TOML helpers --------------------------------------------------------------------------------
def test_key_lines() -> None:
    text = """# comment
title = "a = b"   # not a key
[ui]
tips = [
  "one [",
  "two",
]
"quoted.key" = 1
language = 'en'
[[terminal.opening_hours]]
days = "daily"
[[terminal.opening_hours]]
close = "12:00"
[devices.printer]
options.encoding = "gb18030"
note = \"\"\"
fake = 1
\"\"\"
type = "fake"
"""
    lines = tomlutil.key_lines(text)
    assert lines[("title",)] == 2
    assert lines[("ui", "tips")] == 4
    assert lines[("ui", "quoted.key")] == 8
    assert lines[("ui", "language")] == 9
    assert lines[("terminal", "opening_hours", 0, "days")] == 11
    assert lines[("terminal", "opening_hours", 1, "close")] == 13
    assert lines[("devices", "printer", "options", "encoding")] == 15
    assert lines[("devices", "printer", "type")] == 19
    assert ("devices", "printer", "fake") not in lines


def test_dumps_round_trips() -> None:
    data = {
        "a": 1, "b": 2.5, "c": True, "d": "引号\"和\\", "e": [1, "x"],
        "t": {"x": 1, "inner": {"y": "z"}},
        "dev": {"p": {"options": {"k": [1, 2], "n": {"m": 1}}, "url": ""}},
        "rows": [{"days": "daily"}, {"days": "sat"}],
        "empty": [],
    }
    assert tomllib.loads(tomlutil.dumps(data)) == data

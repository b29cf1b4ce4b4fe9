"""Loading the configuration: profiles, layers, environment overrides and error messages."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import pytest

from config import ConfigError, KioskConfig, available_profiles, dump_config, load_config
from config.pin import DEMO_PIN_HASH
from config.schema import DEVICE_KINDS, SERVICE_IDS


def write(tmp_path: Path, text: str, name: str = "site.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    return str(excinfo.value)


# -- profiles and defaults -----------------------------------------------------------------------
def test_the_four_profiles_are_shipped() -> None:
    assert available_profiles() == ["bank", "demo", "hall", "village"]


@pytest.mark.parametrize("name", ["bank", "demo", "hall", "village"])
def test_every_profile_loads(name: str) -> None:
    config = load_config(name, env={})
    assert config.profile == name
    assert len(config.config_hash()) == 16
    # every required device is enabled (the schema refuses otherwise)
    for kind in config.health.required_devices:
        assert config.devices.get(kind).enabled


DEMO_ONLY = {"KIOSK_UI__SIMULATOR": "false",
             "KIOSK_DEVICES__PRINTER__OPTIONS": "{}"}  # the demo's simulator panel and previews


def test_an_empty_config_is_the_demo_terminal() -> None:
    demo = load_config("demo", env={})
    assert demo.ui.simulator and demo.devices.printer.options["preview"] is True
    assert KioskConfig().config_hash() == load_config("demo", env=DEMO_ONLY).config_hash()
    assert load_config(None, env={}).config_hash() == KioskConfig().config_hash()


def test_defaults() -> None:
    config = load_config(None, env={})
    assert config.profile == ""
    assert config.terminal.id == "DEMO-0001"
    assert config.terminal.region_code == "370102"
    assert config.terminal.timezone == "Asia/Shanghai"
    assert config.terminal.opening_hours == []
    assert config.branding.primary_color == "#1f5fbf"
    assert config.services.enabled == list(SERVICE_IDS)
    assert [config.devices.get(kind).type for kind in DEVICE_KINDS] == ["fake"] * 6
    assert config.health.required_devices == ["idcard", "printer"]
    assert config.health.grace_s == 10
    assert config.backends.queue.type == "embedded"
    assert config.backends.platform.timeout_s == 5
    assert config.mqtt.enabled is False
    assert config.mqtt.url == "mqtt://127.0.0.1:1883"
    assert (config.ui.language, config.ui.idle_timeout_s, config.ui.idle_prompt_s) == (
        "zh_CN", 60, 20)
    assert (config.ui.width, config.ui.height) == (1920, 1080)
    assert len(config.ui.tips) == 3
    assert config.maintenance.pin_hash == DEMO_PIN_HASH
    assert config.storage.data_dir == Path("~/.local/share/aishandong-kiosk").expanduser()
    assert config.storage.log_dir == config.storage.data_dir / "logs"
    assert config.storage.log_level == "INFO"


def test_demo_profile_is_all_simulated_and_offline() -> None:
    config = load_config("demo", env={})
    assert all(config.devices.get(kind).type == "fake" for kind in DEVICE_KINDS)
    assert config.backends.queue.type == config.backends.platform.type == "embedded"
    assert config.mqtt.enabled is False


def test_hall_profile() -> None:
    config = load_config("hall", env={})
    assert config.backends.queue.type == "http"
    assert config.backends.queue.url.startswith("https://")
    assert config.mqtt.enabled and config.mqtt.tls and config.mqtt.port == 8883
    assert config.mqtt.cert_file and config.mqtt.key_file and config.mqtt.ca_file
    assert config.devices.idcard.url == "/dev/ttyUSB0"
    assert {kind: config.devices.get(kind).type for kind in DEVICE_KINDS} == {
        "idcard": "sam", "smartcard": "pcsc", "printer": "escpos", "scanner": "serial",
        "camera": "opencv", "ratingpad": "serial"}
    hours = [(h.days, h.open, h.close) for h in config.terminal.opening_hours]
    assert hours == [("mon-fri", "09:00", "17:00"), ("sat", "09:00", "12:00")]


def test_bank_profile() -> None:
    config = load_config("bank", env={})
    assert config.terminal.host.startswith("中国建设银行")
    assert config.services.enabled == ["guide", "code", "proof", "progress", "rating"]
    assert config.branding.primary_color != KioskConfig().branding.primary_color
    [hours] = config.terminal.opening_hours
    assert hours.day_set == frozenset(range(7))
    assert (hours.open, hours.close) == ("09:00", "17:00")


def test_village_profile() -> None:
    config = load_config("village", env={})
    assert config.devices.enabled_kinds() == ["idcard", "printer", "ratingpad"]
    assert config.backends.queue.type == "embedded"
    assert config.backends.platform.type == "http"  # codes, proofs, progress are real records
    assert config.terminal.open_24h is True
    assert "queue" not in config.services.enabled


# -- layers --------------------------------------------------------------------------------------
def test_env_overrides_nested_keys_with_typed_values() -> None:
    config = load_config("demo", env={
        "KIOSK_UI__IDLE_TIMEOUT_S": "30",
        "KIOSK_UI__FULLSCREEN": "true",
        "KIOSK_DEVICES__IDCARD__URL": "/dev/ttyS3",
        "KIOSK_HEALTH__GRACE_S": "2.5",
        "UNRELATED": "x",
    })
    assert config.ui.idle_timeout_s == 30
    assert config.ui.fullscreen is True
    assert config.devices.idcard.url == "/dev/ttyS3"
    assert config.health.grace_s == 2.5
    assert config.sources()["ui.idle_timeout_s"] == "environment variable KIOSK_UI__IDLE_TIMEOUT_S"


def test_env_keys_are_case_insensitive() -> None:
    config = load_config("demo", env={"kiosk_Ui__Idle_Timeout_S": "45"})
    assert config.ui.idle_timeout_s == 45


def test_env_overrides_lists_and_tables() -> None:
    config = load_config("hall", env={
        "KIOSK_SERVICES__ENABLED": '["guide", "code"]',
        "KIOSK_TERMINAL__OPENING_HOURS": '[{days = "daily", open = "08:00", close = "24:00"}]',
        "KIOSK_DEVICES__PRINTER__OPTIONS": '{encoding = "utf8"}',
    })
    assert config.services.enabled == ["guide", "code"]
    assert [(h.days, h.close) for h in config.terminal.opening_hours] == [("daily", "24:00")]
    assert config.devices.printer.options == {"encoding": "utf8"}  # table replaced as a whole


def test_env_text_keys_keep_the_raw_text() -> None:
    config = load_config("demo", env={"KIOSK_TERMINAL__REGION_CODE": "370203",
                                      "KIOSK_TERMINAL__ID": "1234",
                                      "KIOSK_UI__LANGUAGE": "en"})
    assert config.terminal.region_code == "370203"
    assert config.terminal.id == "1234"
    assert config.ui.language == "en"


def test_env_deeper_key_wins_over_a_table_for_the_same_device() -> None:
    config = load_config("demo", env={
        "KIOSK_DEVICES__IDCARD": '{type = "fake", url = "/dev/ttyUSB5"}',
        "KIOSK_DEVICES__IDCARD__URL": "/dev/ttyUSB7",
    })
    assert config.devices.idcard.url == "/dev/ttyUSB7"


def test_env_none_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSK_UI__RATING_TIMEOUT_S", "40")
    assert load_config("demo").ui.rating_timeout_s == 40


def test_single_underscore_env_var_is_ignored_with_a_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="config.loader"):
        config = load_config("demo", env={"KIOSK_UI_IDLE_TIMEOUT_S": "30"})
    assert config.ui.idle_timeout_s == 60
    assert "KIOSK_UI_IDLE_TIMEOUT_S" in caplog.text


def test_config_file_over_profile_and_env_over_file(tmp_path: Path) -> None:
    site = write(tmp_path, """
[terminal]
id = "JN-LX-0042"

[ui]
idle_timeout_s = 90
idle_prompt_s = 25

[[terminal.opening_hours]]
days = "daily"
open = "07:00"
close = "22:00"
""")
    config = load_config("hall", config_file=site, env={"KIOSK_UI__IDLE_PROMPT_S": "30"})
    assert config.terminal.id == "JN-LX-0042"  # file over profile
    assert config.terminal.site == "济南市历下区政务服务中心"  # profile keys kept
    assert config.backends.queue.type == "http"
    assert config.ui.idle_timeout_s == 90
    assert config.ui.idle_prompt_s == 30  # env over file
    assert [(h.days, h.open) for h in config.terminal.opening_hours] == [("daily", "07:00")]
    sources = config.sources()
    assert sources["terminal.id"] == f"config file {site} line 3"
    assert sources["terminal.site"].startswith("profile hall (config/profiles/hall.toml line ")
    assert sources["ui.idle_prompt_s"] == "environment variable KIOSK_UI__IDLE_PROMPT_S"
    assert "ui.width" not in sources  # defaults are not listed


# -- errors --------------------------------------------------------------------------------------
FILE_ERRORS = [
    pytest.param("[ui]\nidle_timeout_s = 5\n",
                 ["line 2", "ui.idle_timeout_s = 5", "out of range", "from 10 to 600"],
                 id="int-out-of-range"),
    pytest.param('[ui]\nlanguage = "fr"\n',
                 ["line 2", 'ui.language = "fr"', '"zh_CN"', '"en"'], id="wrong-literal"),
    pytest.param('[terminal]\nregion_code = "37010"\n',
                 ["line 2", 'terminal.region_code = "37010"', "6 digits"], id="bad-pattern"),
    pytest.param('[terminal]\nid = "终端 1"\n',
                 ["line 2", "terminal.id", "3 to 40 letters, digits or hyphens"],
                 id="bad-terminal-id"),
    pytest.param("[ui]\n\nidle_timout_s = 30\n",
                 ["line 3", "unknown key ui.idle_timout_s", "did you mean ui.idle_timeout_s?"],
                 id="unknown-key"),
    pytest.param('[uii]\nlanguage = "en"\n',
                 ["line 2", "unknown key uii", "did you mean ui?"], id="unknown-section"),
    pytest.param('[devices.printer]\ntype = "laser"\n',
                 ["line 2", 'devices.printer.type = "laser"', "no printer backend", "fake"],
                 id="unknown-device-type"),
    pytest.param('[devices.printer]\nurl = "socket://127.0.0.1"\n',
                 ["line 2", "devices.printer.url", "host:port"], id="bad-device-url"),
    pytest.param('[backends.platform]\ntype = "http"\n',
                 ["line 2", 'backends.platform.url = ""', "http:// or https://"],
                 id="http-backend-without-url"),
    pytest.param('[mqtt]\nenabled = true\nurl = "mqtt://fleet.example.cn:1883"\n',
                 ["line 3", 'mqtt.url = "mqtt://fleet.example.cn:1883"', "encrypted",
                  "mqtts://", "allow_insecure = true"], id="insecure-mqtt"),
    pytest.param('[mqtt]\nurl = "http://127.0.0.1"\n',
                 ["line 2", "mqtt.url", "mqtt://host[:port] or mqtts://host[:port]"],
                 id="mqtt-scheme"),
    pytest.param('[[terminal.opening_hours]]\ndays = "mon-fry"\n',
                 ["line 2", 'terminal.opening_hours[0].days = "mon-fry"', '"daily"'],
                 id="bad-days"),
    pytest.param('[[terminal.opening_hours]]\nopen = "18:00"\nclose = "08:00"\n',
                 ["line 3", 'terminal.opening_hours[0].close = "08:00"', "after 18:00"],
                 id="close-before-open"),
    pytest.param('[services]\nenabled = ["guide", "taxi"]\n',
                 ["line 2", 'services.enabled[1] = "taxi"', '"queue"', '"help"'],
                 id="unknown-service"),
    pytest.param('[terminal]\ntimezone = "Mars/Olympus"\n',
                 ["line 2", "terminal.timezone", "Mars/Olympus", "IANA"], id="bad-timezone"),
    pytest.param("[terminal]\nlatitude = 91.5\n",
                 ["line 2", "terminal.latitude = 91.5", "from -90 to 90"], id="float-range"),
    pytest.param('[ui]\nwidth = "wide"\n',
                 ["line 2", 'ui.width = "wide"', "not a whole number"], id="wrong-type"),
    pytest.param("[ui]\nidle_timeout_s = 30\nidle_prompt_s = 40\n",
                 ["line 3", "ui.idle_prompt_s = 40", "less than idle_timeout_s",
                  "from 5 to 29"], id="prompt-after-timeout"),
    pytest.param("[devices.printer]\nenabled = false\n",
                 ["line 2", "health.required_devices", "printer is a required device"],
                 id="required-device-disabled"),
    pytest.param('[storage]\nlog_level = "LOUD"\n',
                 ["line 2", 'storage.log_level = "LOUD"', '"WARNING"'], id="log-level"),
]


@pytest.mark.parametrize(("text", "fragments"), FILE_ERRORS)
def test_bad_values_in_a_file_name_file_line_key_value_and_allowed(
        tmp_path: Path, text: str, fragments: list[str]) -> None:
    site = write(tmp_path, text)
    with pytest.raises(ConfigError) as excinfo:
        load_config("demo", config_file=site, env={})
    message = problems_of(excinfo)
    assert len(excinfo.value.problems) == 1, message
    assert message.startswith(f"config file {site} ")
    for fragment in fragments:
        assert fragment in message
    assert "\n" not in message


def test_bad_env_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_config("demo", env={"KIOSK_UI__IDLE_TIMEOUT_S": "9000"})
    [problem] = excinfo.value.problems
    assert problem.source == "environment variable KIOSK_UI__IDLE_TIMEOUT_S"
    assert problem.key == "ui.idle_timeout_s"
    assert problem.value == 9000
    assert problem.allowed == "a whole number from 10 to 600"
    assert str(excinfo.value) == ("environment variable KIOSK_UI__IDLE_TIMEOUT_S: "
                                  "ui.idle_timeout_s = 9000: out of range "
                                  "(allowed: a whole number from 10 to 600)")


def test_http_backend_without_url_from_env_blames_the_variable() -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_config("demo", env={"KIOSK_BACKENDS__QUEUE__TYPE": "http"})
    [problem] = excinfo.value.problems
    assert problem.source == "environment variable KIOSK_BACKENDS__QUEUE__TYPE"
    assert problem.key == "backends.queue.url"
    assert "http:// or https://" in problem.allowed


def test_unknown_device_type_lists_the_installed_types() -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_config("demo", env={"KIOSK_DEVICES__IDCARD__TYPE": "no-such-reader"})
    [problem] = excinfo.value.problems
    assert problem.key == "devices.idcard.type"
    assert problem.value == "no-such-reader"
    assert problem.allowed.startswith("one of ")
    assert "fake" in problem.allowed


def test_insecure_mqtt_is_allowed_to_loopback_or_when_asked() -> None:
    assert load_config("demo", env={"KIOSK_MQTT__URL": "mqtt://localhost:1884"}).mqtt.port == 1884
    config = load_config("demo", env={"KIOSK_MQTT__URL": "mqtt://10.1.2.3",
                                      "KIOSK_MQTT__ALLOW_INSECURE": "true"})
    assert config.mqtt.host == "10.1.2.3" and not config.mqtt.tls


def test_cross_check_blames_the_latest_layer(tmp_path: Path) -> None:
    site = write(tmp_path, "[ui]\nidle_prompt_s = 30\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config("demo", config_file=site, env={"KIOSK_UI__IDLE_TIMEOUT_S": "20"})
    [problem] = excinfo.value.problems
    assert problem.key == "ui.idle_prompt_s"
    assert problem.source == "environment variable KIOSK_UI__IDLE_TIMEOUT_S"


def test_every_problem_is_reported_one_per_line(tmp_path: Path) -> None:
    site = write(tmp_path, '[ui]\nwidth = 10\nlanguage = "de"\n[terminal]\nid = "?"\n')
    with pytest.raises(ConfigError) as excinfo:
        load_config("hall", config_file=site, env={"KIOSK_HEALTH__GRACE_S": "-1"})
    lines = str(excinfo.value).splitlines()
    assert len(lines) == len(excinfo.value.problems) == 4
    keys = [problem.key for problem in excinfo.value.problems]  # file order, then environment
    assert keys == ["ui.width", "ui.language", "terminal.id", "health.grace_s"]


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    site = write(tmp_path, '[ui]\nlanguage = "en"\nidle_timeout_s = = 3\n')
    with pytest.raises(ConfigError) as excinfo:
        load_config("demo", config_file=site, env={})
    message = problems_of(excinfo)
    assert message.startswith(f"config file {site} line 3: TOML syntax error")


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_config("demo", config_file=tmp_path / "nope.toml", env={})
    assert f"config file {tmp_path / 'nope.toml'}: file not found" in problems_of(excinfo)


@pytest.mark.parametrize("name", ["hal", "../demo", ""])
def test_unknown_profile_lists_the_available_ones(name: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_config(name, env={})
    message = problems_of(excinfo)
    assert f"unknown profile {name!r}" in message
    assert "allowed: one of bank, demo, hall, village" in message
    if name == "hal":
        assert "did you mean hall?" in message


def test_profile_cannot_be_set_in_a_file(tmp_path: Path) -> None:
    site = write(tmp_path, 'profile = "hall"\n')
    with pytest.raises(ConfigError) as excinfo:
        load_config("demo", config_file=site, env={})
    assert f"config file {site} line 1: profile = \"hall\"" in problems_of(excinfo)


def test_malformed_env_name_is_an_error() -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_config("demo", env={"KIOSK_UI____WIDTH": "800"})
    assert "environment variable KIOSK_UI____WIDTH" in problems_of(excinfo)


def test_pin_hash_never_appears_in_errors(tmp_path: Path) -> None:
    secret = "pbkdf2_sha256$5$00112233445566778899aabbccddeeff$" + "ab" * 32
    site = write(tmp_path, f'[maintenance]\npin_hash = "{secret}"\n')
    with pytest.raises(ConfigError) as excinfo:
        load_config("demo", config_file=site, env={})
    message = problems_of(excinfo)
    assert "maintenance.pin_hash = <hidden>" in message
    assert secret not in message and "ab" * 32 not in repr(excinfo.value.problems)


# -- showing and hashing -------------------------------------------------------------------------
def test_dump_config_masks_the_pin_and_reads_back(tmp_path: Path) -> None:
    config = load_config("hall", env={"KIOSK_UI__IDLE_TIMEOUT_S": "75"})
    text = dump_config(config)
    assert DEMO_PIN_HASH not in text
    assert "the demo PIN" in text
    assert "idle_timeout_s = 75  # environment variable KIOSK_UI__IDLE_TIMEOUT_S" in text
    assert "# profile: hall" in text
    assert f"# config hash: {config.config_hash()}" in text
    data = tomllib.loads(text)
    data["maintenance"].pop("pin_hash")
    assert KioskConfig.model_validate(data).config_hash() == config.config_hash()


def test_config_hash_follows_the_settings_not_the_profile_name() -> None:
    demo = load_config("demo", env=DEMO_ONLY)
    assert demo.config_hash() == load_config(None, env={}).config_hash()
    changed = load_config("demo", env={**DEMO_ONLY, "KIOSK_UI__IDLE_TIMEOUT_S": "61"})
    assert changed.config_hash() != demo.config_hash()
    assert int(demo.config_hash(), 16) >= 0 and len(demo.config_hash()) == 16


def test_command_line_check_and_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from config.__main__ import main

    assert main(["check", "--profile", "village"]) == 0
    assert "configuration OK (profile village" in capsys.readouterr().out
    site = write(tmp_path, "[ui]\nheight = 1\n")
    assert main(["check", "--config", str(site)]) == 2
    assert f"config file {site} line 2: ui.height = 1" in capsys.readouterr().err
    assert main(["show", "--profile", "bank"]) == 0
    shown = capsys.readouterr().out
    assert "[devices.printer]" in shown and DEMO_PIN_HASH not in shown


def test_a_new_backend_drops_the_old_backends_options(tmp_path: Path) -> None:
    """The demo printer's ``preview`` option means nothing to the ESC/POS driver: a site file
    that switches the backend starts its options afresh instead of failing the option check."""
    site = tmp_path / "site.toml"
    site.write_text('[devices.printer]\ntype = "escpos"\nurl = "tcp://127.0.0.1:9100"\n'
                    "options = { paper_width_mm = 80 }\n", "utf-8")
    config = load_config("demo", site, env={})
    assert config.devices.printer.type == "escpos"
    assert dict(config.devices.printer.options) == {"paper_width_mm": 80}
    same = tmp_path / "same.toml"  # the same backend keeps the profile's options
    same.write_text("[devices.printer.options]\npaper_width_mm = 58\n", "utf-8")
    assert load_config("demo", same, env={}).devices.printer.options.get("preview") is not None

"""`config check --deploy` and the start-up refusals outside the demo (#13 item 3, #16 item 5),
device options checked by each driver's own schema and strict booleans (#16 item 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from deploy_helpers import deployable_file

from config import ConfigError, load_config
from config.deploy import deploy_refusals, startup_refusals
from config.pin import DEMO_PIN_HASH
from kiosk.catalogue.bundle import DEMO_PUBLIC_KEY


@pytest.fixture(scope="module")
def terminal_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return deployable_file(tmp_path_factory.mktemp("deploy"))


def refusals(terminal_file: Path, profile: str = "hall", **env: str) -> dict[str, str]:
    config = load_config(profile, terminal_file, env={f"KIOSK_{k}": v for k, v in env.items()})
    return {refusal.key: str(refusal) for refusal in deploy_refusals(config)}


@pytest.mark.parametrize("profile", ["hall", "bank", "village"])
def test_each_site_profile_is_deployable_with_the_terminals_own_file(
        terminal_file: Path, profile: str) -> None:
    assert refusals(terminal_file, profile) == {}


@pytest.mark.parametrize("profile", ["hall", "bank", "village"])
def test_site_profiles_use_real_devices_and_refuse_the_demo_secrets(profile: str) -> None:
    found = refusals(Path("/dev/null"), profile)
    assert not [key for key in found if key.startswith("devices.")]
    assert {"maintenance.pin_hash", "catalogue.public_keys",
            "ratings.evaluation_public_key"} <= set(found)


@pytest.mark.parametrize(("env", "key", "words"), [
    ({"DEVICES__PRINTER__TYPE": "fake"}, "devices.printer.type", '"escpos"'),
    ({"UI__SIMULATOR": "true"}, "ui.simulator", "ui.simulator = false"),
    ({"MAINTENANCE__PIN_HASH": DEMO_PIN_HASH}, "maintenance.pin_hash", "kiosk-provision hash-pin"),
    ({"CATALOGUE__PUBLIC_KEYS": f'["{DEMO_PUBLIC_KEY}"]'}, "catalogue.public_keys",
     "platform's catalogue signing key"),
    ({"CATALOGUE__URL": "http://zwfw.example/bundle"}, "catalogue.url", "https://"),
    ({"BACKENDS__QUEUE__URL": "http://queue.example/api"}, "backends.queue.url", "https://"),
    ({"BACKENDS__PLATFORM__TYPE": "embedded"}, "backends.platform.type",
     'backends.platform.type = "http"'),
    ({"MQTT__URL": "mqtt://fleet.example:1883", "MQTT__ALLOW_INSECURE": "true"}, "mqtt.url",
     "mqtts://"),
    ({"MQTT__CERT_FILE": "", "MQTT__KEY_FILE": ""}, "mqtt.cert_file", "kiosk-provision enrol"),
    ({"RATINGS__EVALUATION_PUBLIC_KEY": ""}, "ratings.evaluation_public_key",
     "ratings.without_real_name_followup = true"),
])
def test_every_refusal_names_the_key_and_the_fix(terminal_file: Path, env: dict[str, str],
                                                 key: str, words: str) -> None:
    found = refusals(terminal_file, **env)
    assert list(found) == [key]
    assert "fix:" in found[key] and words in found[key]
    assert "\n" not in found[key]


def test_loopback_http_and_an_explicit_no_followup_are_accepted(terminal_file: Path) -> None:
    assert refusals(terminal_file, CATALOGUE__URL="http://127.0.0.1:8080/bundle",
                    BACKENDS__QUEUE__URL="http://localhost:8001/api") == {}
    assert refusals(terminal_file, RATINGS__EVALUATION_PUBLIC_KEY="",
                    RATINGS__WITHOUT_REAL_NAME_FOLLOWUP="true") == {}


def test_the_birth_record_reports_running_without_followup(terminal_file: Path) -> None:
    from kiosk.telemetry.payloads import birth_values

    config = load_config("hall", terminal_file, env={
        "KIOSK_RATINGS__EVALUATION_PUBLIC_KEY": "",
        "KIOSK_RATINGS__WITHOUT_REAL_NAME_FOLLOWUP": "true"})
    assert birth_values(config, "1.0")["real_name_followup"] is False
    assert birth_values(load_config("hall", terminal_file, env={}), "1.0")[
        "real_name_followup"] is True


def test_only_the_demo_profile_starts_with_demo_parts() -> None:
    demo = load_config("demo", env={})
    assert startup_refusals(demo) == []
    assert len(deploy_refusals(demo)) >= 6  # yet --deploy says why the demo is not deployable
    hall = load_config("hall", env={"KIOSK_DEVICES__IDCARD__TYPE": "fake"})
    assert "devices.idcard.type" in {r.key for r in startup_refusals(hall)}


# -- device options (#16 item 6) --------------------------------------------------------------
@pytest.mark.parametrize(("options", "words"), [
    ("{paper_width_mm = 57}", "paper_width_mm = 57 is not one of 58, 80"),
    ("{paper_width = 80}", "unknown option 'paper_width'"),
    ('{encoding = "utf-8"}', 'not one of "gb18030", "gbk", "gbk_fs", "utf8"'),
    ("{status_query = 1}", "status_query = 1 is not true or false"),
    ('{status_query = "yes"}', "is not true or false"),
    ("{baudrate = 9600.5}", "baudrate = 9600.5 is not a whole number"),
])
def test_printer_options_are_checked_by_the_drivers_schema(options: str, words: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_config("hall", env={"KIOSK_DEVICES__PRINTER__OPTIONS": options})
    [problem] = excinfo.value.problems
    assert problem.key.startswith("devices.printer.")
    assert words in str(problem)
    assert "KIOSK_DEVICES__PRINTER__OPTIONS" in str(problem)


@pytest.mark.parametrize(("kind", "options", "words"), [
    ("IDCARD", "{address = 1}", "address = 1 is not true or false"),
    ("IDCARD", "{baudrate = 4800}", "one of 115200, 57600, 38400, 19200, 9600"),
    ("SCANNER", '{aim = "yes"}', "is not true or false"),
    ("RATINGPAD", '{vendor = "acme"}', "ratingpad vendor 'acme' unknown"),
    ("SMARTCARD", '{share = "private"}', 'one of "shared", "exclusive"'),
    ("CAMERA", '{detector = "magic"}', "not one of"),
])
def test_every_backend_checks_its_options(kind: str, options: str, words: str) -> None:
    with pytest.raises(ConfigError, match="devices\\.") as excinfo:
        load_config("hall", env={f"KIOSK_DEVICES__{kind}__OPTIONS": options})
    assert words in str(excinfo.value)


def test_a_wrong_option_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[devices.printer]\ntype = "escpos"\nurl = "tcp://127.0.0.1:9100"\n'
                    "options = { paper_width_mm = 57 }\n", encoding="utf-8")
    with pytest.raises(ConfigError) as excinfo:
        load_config(None, path, env={})
    assert f"{path} line 4" in str(excinfo.value)
    # switching the demo's fake printer to a real one starts the options afresh: the fake's
    # preview option is not carried over to the ESC/POS driver (config/loader.py)
    path.write_text('[devices.printer]\ntype = "escpos"\nurl = "tcp://127.0.0.1:9100"\n')
    assert "preview" not in load_config("demo", path, env={}).devices.printer.options


@pytest.mark.parametrize("raw", ["1", "0", '"yes"', '"true"', '"on"'])
def test_config_booleans_are_true_or_false_only(tmp_path: Path, raw: str) -> None:
    path = tmp_path / "t.toml"
    path.write_text(f"[ui]\nfullscreen = {raw}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ui\.fullscreen .*not true or false"):
        load_config("demo", path, env={})


@pytest.mark.parametrize("raw", ["1", "0", "yes", "on"])
def test_environment_booleans_are_true_or_false_only(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"KIOSK_DEVICES__CAMERA__ENABLED.*not true or false"):
        load_config("demo", env={"KIOSK_DEVICES__CAMERA__ENABLED": raw})
    assert load_config("demo", env={"KIOSK_DEVICES__CAMERA__ENABLED": "false"}
                       ).devices.camera.enabled is False


# -- one paper width option (#16 item 8) -----------------------------------------------------
@pytest.mark.parametrize(("argv", "width"), [
    ([], 58),  # the driver's default, as the emulator and preview
    (["--profile", "hall"], 80),  # the configured printer's
    (["--profile", "hall", "--paper-width-mm", "58"], 58),
    (["--width", "80"], 80),  # the old spelling still works
])
def test_the_test_page_width_follows_the_config(argv: list[str], width: int) -> None:
    from provisioning.cli import _paper_width, build_parser

    args = build_parser().parse_args(["test", "printer", "--url", "tcp://127.0.0.1:9", *argv])
    assert _paper_width(args) == width


def test_one_name_for_the_paper_width_everywhere() -> None:
    from provisioning.cli import build_parser

    preview = build_parser().parse_args(["preview", "job.bin", "--out", "x.png"])
    assert preview.width == 58
    from drivers.printer.fake import FakePrinter

    assert FakePrinter().validate_options({})["paper_width_mm"] == 58

"""The typed configuration of one terminal (pydantic v2).

Every field has a default, so an empty file is a valid config: the demo terminal with
simulated devices and embedded back ends. Models are frozen (use ``model_copy(update=...)``)
and refuse unknown keys, so a typo in a site file is an error, not a silently ignored line.

Field metadata used by :mod:`config.errors` and :mod:`config.docs`: ``description`` for every
field, and ``json_schema_extra={"allowed": ...}`` where the allowed values cannot be read off
the type (patterns, free-form checks).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config import checks, pin
from config.catalogue import CatalogueSettings
from config.codes import CodesConfig
from config.fleet import FleetSettings
from config.help import HelpConfig
from config.parts import Section, config_field, config_problem
from config.queue import QueueSettings
from config.ratings import RatingSettings
from config.voice import VoiceConfig

ServiceId = Literal["queue", "guide", "code", "proof", "progress", "rating", "help"]
SERVICE_IDS: tuple[str, ...] = ServiceId.__args__  # type: ignore[attr-defined]
DeviceKind = Literal["idcard", "smartcard", "printer", "scanner", "camera", "ratingpad"]
#: must equal ``drivers.registry.KINDS`` (a test checks it)
DEVICE_KINDS: tuple[str, ...] = DeviceKind.__args__  # type: ignore[attr-defined]

DEFAULT_TIPS = [
    "刷身份证或扫码即可办理，无需排队",
    "如需帮助，请点击首页的“帮办”呼叫工作人员",
    "办理完成后请对本次服务进行评价，您的意见很重要",
]


_field = config_field


# -- terminal ------------------------------------------------------------------------------------
class OpeningHours(Section):
    """One line of the opening hours, e.g. `{days = "mon-fri", open = "09:00", close = "17:00"}`."""

    days: str = _field("daily", "Days this line applies to.", allowed=checks.DAYS_WORDS)
    open: str = _field("09:00", "Opening time, local time of the terminal.",
                       allowed=checks.TIME_WORDS)
    close: str = _field("17:00", "Closing time, later than `open` (a span over midnight is "
                        "two lines).", allowed=checks.TIME_WORDS)

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        checks.parse_days(value)
        return value.strip().lower()

    @field_validator("open")
    @classmethod
    def _open(cls, value: str) -> str:
        checks.parse_hhmm(value)
        return value.strip()

    @field_validator("close")
    @classmethod
    def _close(cls, value: str) -> str:
        checks.parse_hhmm(value, allow_24=True)
        return value.strip()

    @model_validator(mode="after")
    def _order(self) -> OpeningHours:
        if self.close_minute <= self.open_minute:
            raise config_problem(
                f"closes at {self.close}, not after it opens at {self.open}",
                subkey="close", value=self.close,
                allowed=f"a time after {self.open}, up to 24:00; split a span over midnight "
                        "into two lines")
        return self

    @property
    def day_set(self) -> frozenset[int]:
        """Weekdays as ``datetime.weekday()`` numbers (0 = Monday)."""
        return checks.parse_days(self.days)

    @property
    def open_minute(self) -> int:
        return checks.parse_hhmm(self.open)

    @property
    def close_minute(self) -> int:
        return checks.parse_hhmm(self.close, allow_24=True)

    def covers(self, weekday: int, minute: int) -> bool:
        return weekday in self.day_set and self.open_minute <= minute < self.close_minute


class TerminalConfig(Section):
    """Who and where this terminal is (also published for the service map)."""

    id: str = _field("DEMO-0001", "Terminal id, unique in the fleet; also the MQTT client id.",
                     pattern=r"^[A-Za-z0-9-]{3,40}$",
                     allowed="3 to 40 letters, digits or hyphens (e.g. JN-LX-0001)")
    name: str = _field("爱山东自助终端", "Display name of the terminal.", min_length=1,
                       max_length=60)
    site: str = _field("演示政务服务中心", "Hall or site where the terminal stands.",
                       min_length=1, max_length=80)
    region_code: str = _field("370102", "Administrative division code (行政区划代码) of the "
                              "site, sent with ratings.", pattern=r"^\d{6}$",
                              allowed="6 digits, e.g. 370102 (济南市历下区)")
    latitude: float = _field(36.6512, "Latitude in degrees (WGS-84), for the service map.",
                             ge=-90, le=90)
    longitude: float = _field(117.1201, "Longitude in degrees (WGS-84), for the service map.",
                              ge=-180, le=180)
    timezone: str = _field("Asia/Shanghai", "IANA time zone of the site.",
                           allowed="an IANA time zone name such as Asia/Shanghai")
    opening_hours: list[OpeningHours] = _field(
        default_factory=list, description="When the terminal serves; an empty list means 24 "
        "hours a day. Outside these hours the kiosk shows its closed screen.",
        allowed="a list of tables {days, open, close}; [] = open 24 hours")
    host: str = _field("", "Host organisation for a hosted terminal (bank, post office); "
                       "\"\" in a government hall.", max_length=80)
    open_24h: bool = _field(False, "The terminal stands in a 24-hour self-service zone: it "
                            "serves round the clock and opening_hours are only published.")
    nearest_24h_zone: str = _field("", "Where the nearest 24-hour self-service zone is, shown "
                                   "with the hours while the terminal is closed, e.g. "
                                   "\"历下区政务服务中心一楼24小时自助区（解放路3号）\".",
                                   max_length=120)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_open(self, when: datetime | None = None) -> bool:
        """Whether ``when`` (default: now; naive means site-local) falls in the opening hours."""
        if not self.opening_hours:
            return True
        if when is None:
            when = datetime.now(self.tzinfo)
        elif when.tzinfo is not None:
            when = when.astimezone(self.tzinfo)
        minute = when.hour * 60 + when.minute
        return any(line.covers(when.weekday(), minute) for line in self.opening_hours)

    def serves(self, when: datetime | None = None) -> bool:
        """Whether sessions may start now: always in a 24-hour zone, else within the hours."""
        return self.open_24h or self.is_open(when)

    def hours_text(self) -> str:
        """The opening hours in one line for the closed screen, e.g. "mon-fri 09:00-17:00"."""
        return "；".join(f"{line.days} {line.open}-{line.close}" for line in self.opening_hours)


# -- branding and services -----------------------------------------------------------------------
class BrandingConfig(Section):
    """What the attract and home screens show at the top."""

    title: str = _field("爱山东", "Main title.", min_length=1, max_length=40)
    subtitle: str = _field("政务服务自助终端", "Line under the title.", max_length=80)
    host_logo: str = _field("", "Path to the host's logo (PNG) for a hosted terminal; \"\" "
                            "for none.", allowed="a file path or \"\"")
    primary_color: str = _field("#1f5fbf", "Main colour of buttons and bars.",
                                pattern=r"^#[0-9A-Fa-f]{6}$",
                                allowed="a hex colour \"#RRGGBB\", e.g. \"#1f5fbf\"")

    @field_validator("host_logo")
    @classmethod
    def _expand(cls, value: str) -> str:
        return os.path.expanduser(value) if value else value

    @property
    def primary_rgba(self) -> tuple[float, float, float, float]:
        """The primary colour as Kivy's 0..1 RGBA tuple."""
        raw = self.primary_color.lstrip("#")
        red, green, blue = (int(raw[i:i + 2], 16) / 255 for i in (0, 2, 4))
        return (red, green, blue, 1.0)


class ServicesConfig(Section):
    """Which services the home screen offers."""

    enabled: list[ServiceId] = _field(
        default_factory=lambda: list(SERVICE_IDS),
        description="Service ids shown on the home screen, in this order: queue (取号/预约签到), "
        "guide (办事指南), code (居民码/企业码), proof (证明打印), progress (办件进度), rating "
        "(好差评), help (帮办).")

    @field_validator("enabled")
    @classmethod
    def _dedupe(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


# -- devices -------------------------------------------------------------------------------------
def device_types(kind: str) -> list[str]:
    """Backend types of a peripheral kind, from ``drivers.<kind>.BACKENDS``.

    While a kind's package does not exist yet only ``"fake"`` is accepted.
    """
    from drivers import registry  # lazy: the driver packages are optional at import time

    try:
        return registry.backend_types(kind)
    except ModuleNotFoundError as exc:
        package = registry.KINDS.get(kind, "")
        if exc.name and package and (package == exc.name or package.startswith(exc.name + ".")):
            return ["fake"]
        raise ValueError(f"cannot list the {kind} backends: {exc}") from exc
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot list the {kind} backends: {exc}") from exc


class DeviceConfig(Section):
    """One peripheral: which backend drives it and where it is attached."""

    kind: ClassVar[str] = ""

    enabled: bool = _field(True, "Whether the terminal has this peripheral.")
    type: str = _field("fake", "Backend (driver) type; \"fake\" is the in-process simulator.",
                       min_length=1,
                       allowed="a backend of this kind: see BACKENDS in drivers/<kind>/__init__.py"
                               " (\"fake\" always exists)")
    url: str = _field("", "Where the device is attached.", allowed=checks.DEVICE_URL_WORDS)
    options: dict[str, Any] = _field(default_factory=dict,
                                     description="Backend-specific options (baud rate, "
                                     "encoding, vendor adapter...), passed to the driver as is.",
                                     allowed="a table of driver options")

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if not cls.kind:
            return value
        allowed = device_types(cls.kind)
        if value not in allowed:
            raise config_problem(f"no {cls.kind} backend called {value!r}", value=value,
                                 allowed="one of " + ", ".join(allowed))
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return checks.check_device_url(value)

    @model_validator(mode="after")
    def _options(self) -> DeviceConfig:
        """The options by the backend's own schema (``drivers.options``): unknown options and
        wrong types stop the config check, not the start-up."""
        if not self.kind:
            return self
        from drivers.options import option_problems

        found = option_problems(self.kind, self.type, self.options)
        if found:
            first = found[0]
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            subkey = f"options.{first.key}" if first.key else "type"
            value = self.options.get(first.key) if first.key else self.type
            raise config_problem(f"{first}{more} for the {self.kind} backend {self.type!r}",
                                 subkey=subkey, value=value,
                                 allowed=first.allowed or "a backend whose module is installed")
        return self


class IdCardDevice(DeviceConfig):
    kind: ClassVar[str] = "idcard"


class SmartCardDevice(DeviceConfig):
    kind: ClassVar[str] = "smartcard"


class PrinterDevice(DeviceConfig):
    kind: ClassVar[str] = "printer"


class ScannerDevice(DeviceConfig):
    kind: ClassVar[str] = "scanner"


class CameraDevice(DeviceConfig):
    kind: ClassVar[str] = "camera"


class RatingPadDevice(DeviceConfig):
    kind: ClassVar[str] = "ratingpad"


class DevicesConfig(Section):
    """The peripherals, one table per kind (`[devices.idcard]`, `[devices.printer]`...)."""

    idcard: IdCardDevice = _field(default_factory=IdCardDevice,
                                  description="2nd-generation resident ID card reader (SAM).")
    smartcard: SmartCardDevice = _field(default_factory=SmartCardDevice,
                                        description="PC/SC reader for the social security card.")
    printer: PrinterDevice = _field(default_factory=PrinterDevice,
                                    description="Thermal receipt printer (ESC/POS).")
    scanner: ScannerDevice = _field(default_factory=ScannerDevice,
                                    description="QR / barcode scanner.")
    camera: CameraDevice = _field(default_factory=CameraDevice,
                                  description="Camera used to read QR codes shown on phones.")
    ratingpad: RatingPadDevice = _field(default_factory=RatingPadDevice,
                                        description="好差评 rating pad.")

    def get(self, kind: str) -> DeviceConfig:
        if kind not in DEVICE_KINDS:
            raise KeyError(kind)
        return getattr(self, kind)

    def enabled_kinds(self) -> list[str]:
        return [kind for kind in DEVICE_KINDS if self.get(kind).enabled]


class HealthConfig(Section):
    """When the kiosk declares itself out of service."""

    required_devices: list[DeviceKind] = _field(
        default_factory=lambda: ["idcard", "printer"],
        description="Peripherals without which the terminal cannot serve; each must be enabled.")
    grace_s: float = _field(10.0, "Seconds a required device may be unavailable before the "
                            "out-of-service screen shows.", ge=0, le=600)

    @field_validator("required_devices")
    @classmethod
    def _dedupe(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


# -- back ends -----------------------------------------------------------------------------------
class BackendConfig(Section):
    """A back end: the embedded one (works alone) or a network adapter."""

    type: Literal["embedded", "http"] = _field("embedded", "\"embedded\": built-in data, no "
                                               "network; \"http\": the network adapter at `url`.")
    url: str = _field("", "Base URL of the server, required for type \"http\".",
                      allowed="\"\" or an http:// or https:// URL")
    timeout_s: float = _field(5.0, "Time-out of one request in seconds.", ge=0.1, le=60)

    @model_validator(mode="after")
    def _http_needs_url(self) -> BackendConfig:
        if self.type == "http":
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise config_problem(
                    "type = \"http\" needs the server's http:// or https:// URL in url",
                    subkey="url", value=self.url,
                    allowed="an http:// or https:// URL (or type = \"embedded\")")
        return self


class BackendsConfig(Section):
    """The queue system and the service platform."""

    queue: BackendConfig = _field(default_factory=BackendConfig,
                                  description="Queue system (叫号/取号系统).")
    platform: BackendConfig = _field(
        default_factory=BackendConfig,
        description="Service platform (一体化政务服务平台): catalogue, guides, codes, documents, "
        "progress.")


# -- fleet ---------------------------------------------------------------------------------------
class MqttConfig(Section):
    """Health, ratings and events to the fleet server; remote commands from it."""

    enabled: bool = _field(False, "Whether the terminal reports to a fleet server.")
    url: str = _field("mqtt://127.0.0.1:1883", "Broker URL.",
                      allowed="mqtt://host[:port] or mqtts://host[:port]; plain mqtt:// only to "
                              "127.0.0.1/localhost unless allow_insecure = true")
    ca_file: str = _field("", "CA certificate (PEM) for mqtts://; \"\" = system CAs.",
                          allowed="a file path or \"\"")
    cert_file: str = _field("", "Client certificate (PEM), the terminal's identity.",
                            allowed="a file path or \"\" (set together with key_file)")
    key_file: str = _field("", "Client private key (PEM).",
                           allowed="a file path or \"\" (set together with cert_file)")
    keepalive_s: int = _field(30, "MQTT keep-alive in seconds.", ge=5, le=600)
    health_interval_s: int = _field(60, "Seconds between two health reports.", ge=5, le=3600)
    topic_prefix: str = _field("kiosk/v1", "Prefix of every topic (<prefix>/<terminal id>/...).",
                               pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$",
                               allowed="topic levels of letters, digits, _ or - separated by /, "
                                       "no wildcards, no leading or trailing /")
    allow_insecure: bool = _field(False, "Allow plain mqtt:// to a host other than loopback "
                                  "(lab networks only).")

    @field_validator("ca_file", "cert_file", "key_file")
    @classmethod
    def _expand(cls, value: str) -> str:
        return os.path.expanduser(value) if value else value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise ValueError(f"bad port in {value!r}") from None
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"cannot use broker URL {value!r}")
        return value

    @model_validator(mode="after")
    def _secure(self) -> MqttConfig:
        if self.tls is False and not checks.is_loopback_host(self.host) and not self.allow_insecure:
            raise config_problem(
                f"plain mqtt:// to the remote host {self.host} is refused: the messages carry no "
                "personal data, but in the field they must still be authenticated and "
                "encrypted so nobody can forge health or ratings or send commands",
                subkey="url", value=self.url,
                allowed="mqtts://host[:port] with ca_file/cert_file/key_file, plain mqtt:// only "
                        "to 127.0.0.1/localhost, or allow_insecure = true on a lab network")
        if bool(self.cert_file) != bool(self.key_file):
            missing = "key_file" if self.cert_file else "cert_file"
            raise config_problem("cert_file and key_file go together", subkey=missing,
                                 value="", allowed="both set (client certificate) or both \"\"")
        return self

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or (8883 if self.tls else 1883)


# -- ui, maintenance, storage --------------------------------------------------------------------
class UiConfig(Section):
    """The touch screen."""

    language: Literal["zh_CN", "en"] = _field("zh_CN", "Language the kiosk starts in.")
    elder_mode: bool = _field(False, "Start in the ageing-friendly mode (适老化: large text, "
                              "high contrast, voice prompts).")
    idle_timeout_s: int = _field(60, "Seconds without a touch before a session ends.",
                                 ge=10, le=600)
    idle_prompt_s: int = _field(20, "Seconds before the idle time-out at which \"need more "
                                "time?\" is asked; less than idle_timeout_s.", ge=5, le=120)
    rating_timeout_s: int = _field(30, "Seconds the rating screen waits; no answer is "
                                   "\"not rated\", never a default rating.", ge=5, le=300)
    fullscreen: bool = _field(False, "Full screen (true on terminals, false on a desk).")
    width: int = _field(1920, "Window width in pixels when not full screen.", ge=320, le=7680)
    height: int = _field(1080, "Window height in pixels when not full screen.", ge=320, le=7680)
    font: str = _field("", "Path to a CJK font file; \"\" = find Noto CJK or WenQuanYi.",
                       allowed="a font file path or \"\"")
    tips: list[str] = _field(default_factory=lambda: list(DEFAULT_TIPS),
                             description="Tips in the attract screen carousel.",
                             allowed="a list of texts")
    show_cursor: bool = _field(True, "Show the mouse cursor (false on touch terminals).")
    simulator: bool = _field(False, "Show the device simulator panel (a \"模拟设备\" button, "
                             "bottom left): place a card, run out of paper… Demo terminals only.")

    @field_validator("font")
    @classmethod
    def _expand(cls, value: str) -> str:
        return os.path.expanduser(value) if value else value

    @model_validator(mode="after")
    def _prompt_before_timeout(self) -> UiConfig:
        if self.idle_prompt_s >= self.idle_timeout_s:
            raise config_problem(
                f"idle_prompt_s ({self.idle_prompt_s}) must be less than idle_timeout_s "
                f"({self.idle_timeout_s})", subkey="idle_prompt_s", value=self.idle_prompt_s,
                allowed=f"a whole number from 5 to {self.idle_timeout_s - 1}",
                related=("ui.idle_timeout_s",))
        return self


class MaintenanceConfig(Section):
    """The technicians' maintenance screen."""

    pin_hash: str = _field(
        pin.DEMO_PIN_HASH, "PBKDF2 hash of the maintenance PIN (make one with "
        "`config.pin.hash_pin`); the default is the demo PIN 246810: replace it on every "
        "real terminal.", repr=False, default_doc="hash of the demo PIN 246810",
        allowed=f"pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>, iterations from "
                f"{pin.MIN_ITERATIONS} to {pin.MAX_ITERATIONS}")
    long_press_s: float = _field(3.0, "Seconds of long press on the logo that open the PIN "
                                 "pad.", ge=1, le=10)
    max_attempts: int = _field(5, "Wrong PINs in a row before the lock-out.", ge=1, le=20)
    lockout_s: int = _field(300, "Seconds the PIN pad stays locked after max_attempts.",
                            ge=10, le=3600)

    @field_validator("pin_hash")
    @classmethod
    def _pin_hash(cls, value: str) -> str:
        iterations, _, _ = pin.parse_pin_hash(value)
        if not pin.MIN_ITERATIONS <= iterations <= pin.MAX_ITERATIONS:
            raise ValueError(f"{iterations} iterations is outside {pin.MIN_ITERATIONS}.."
                             f"{pin.MAX_ITERATIONS}")
        return value

    @property
    def uses_demo_pin(self) -> bool:
        return self.pin_hash == pin.DEMO_PIN_HASH


class StorageConfig(Section):
    """Where the terminal keeps its data and logs."""

    data_dir: Path = _field("~/.local/share/aishandong-kiosk", "Data directory (outbox, "
                            "catalogue cache); ~ is expanded.", allowed="a directory path")
    log_dir: Path = _field("", "Log directory; \"\" = <data_dir>/logs.",
                           default_doc="<data_dir>/logs", allowed="a directory path or \"\"")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = _field(
        "INFO", "Lowest level written to the log (case-insensitive).")

    @field_validator("data_dir", mode="before")
    @classmethod
    def _expand_data(cls, value: Any) -> Any:
        return Path(os.path.expanduser(str(value))) if isinstance(value, str | Path) else value

    @field_validator("log_dir", mode="before")
    @classmethod
    def _default_logs(cls, value: Any, info: ValidationInfo) -> Any:
        if value in ("", None):
            data_dir = info.data.get("data_dir")
            return Path(data_dir) / "logs" if data_dir is not None else value
        return Path(os.path.expanduser(str(value))) if isinstance(value, str | Path) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


# -- the whole -----------------------------------------------------------------------------------
class KioskConfig(Section):
    """The configuration of one terminal."""

    profile: str = _field("", "Name of the profile the config was built from (set by the "
                          "loader; \"\" = none).", allowed="set by the loader")
    terminal: TerminalConfig = _field(default_factory=TerminalConfig,
                                      description=TerminalConfig.__doc__)
    branding: BrandingConfig = _field(default_factory=BrandingConfig,
                                      description=BrandingConfig.__doc__)
    services: ServicesConfig = _field(default_factory=ServicesConfig,
                                      description=ServicesConfig.__doc__)
    devices: DevicesConfig = _field(default_factory=DevicesConfig,
                                    description=DevicesConfig.__doc__)
    health: HealthConfig = _field(default_factory=HealthConfig, description=HealthConfig.__doc__)
    backends: BackendsConfig = _field(default_factory=BackendsConfig,
                                      description=BackendsConfig.__doc__)
    mqtt: MqttConfig = _field(default_factory=MqttConfig, description=MqttConfig.__doc__)
    ui: UiConfig = _field(default_factory=UiConfig, description=UiConfig.__doc__)
    maintenance: MaintenanceConfig = _field(default_factory=MaintenanceConfig,
                                            description=MaintenanceConfig.__doc__)
    storage: StorageConfig = _field(default_factory=StorageConfig,
                                    description=StorageConfig.__doc__)
    fleet: FleetSettings = _field(default_factory=FleetSettings,
                                  description=FleetSettings.__doc__)
    ratings: RatingSettings = _field(default_factory=RatingSettings,
                                     description=RatingSettings.__doc__)
    queue: QueueSettings = _field(default_factory=QueueSettings,
                                  description=QueueSettings.__doc__)
    catalogue: CatalogueSettings = _field(default_factory=CatalogueSettings,
                                          description=CatalogueSettings.__doc__)
    codes: CodesConfig = _field(default_factory=CodesConfig, description=CodesConfig.__doc__)
    voice: VoiceConfig = _field(default_factory=VoiceConfig, description=VoiceConfig.__doc__)
    help: HelpConfig = _field(default_factory=HelpConfig, description=HelpConfig.__doc__)

    _sources: dict[str, str] = PrivateAttr(default_factory=dict)
    _file: str = PrivateAttr(default="")  # the terminal's own file, set by load_config

    @model_validator(mode="after")
    def _required_devices_enabled(self) -> KioskConfig:
        for kind in self.health.required_devices:
            if not self.devices.get(kind).enabled:
                raise config_problem(
                    f"{kind} is a required device but devices.{kind}.enabled = false, so the "
                    "terminal would always be out of service",
                    key="health.required_devices", value=self.health.required_devices,
                    allowed="enabled device kinds: " + ", ".join(self.devices.enabled_kinds()),
                    related=(f"devices.{kind}.enabled",))
        return self

    def canonical_json(self) -> str:
        """The settings as sorted, compact JSON (``profile`` left out)."""
        data = self.model_dump(mode="json", exclude={"profile"})
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def config_hash(self) -> str:
        """First 16 hex digits of the SHA-256 of :meth:`canonical_json`: equal settings give
        an equal hash however they were assembled (the fleet shows it per terminal)."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()[:16]

    def config_file(self) -> str:
        """The terminal's own config file this was loaded from ("" when none was given)."""
        return self._file

    def sources(self) -> dict[str, str]:
        """Dotted key → where its value came from (filled by :func:`config.loader.load_config`;
        keys not listed have their built-in default)."""
        return dict(self._sources)

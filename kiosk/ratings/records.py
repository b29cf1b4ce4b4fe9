"""好差评 rating records: building, checking, code mappings and the sealed real-name part.

One internal level enum (:class:`kiosk.ratings.levels.Level`) is mapped here to every target:

* GB/T 39046-2020 table 9 (满意度代码 1 = 非常满意 … 5 = 非常不满意, 评价时间 YYYYMMDDThhmmss);
* the provincial interface (``satisfaction`` 1 = 非常不满意 … 5 = 非常满意, ``pf`` = 5 for a
  self-service terminal, ``assessNumber`` 1 first / 2 supplementary, ``userProp``).

A record carries a unique id, terminal, item code, handling number, time, level, reasons and
text; when (and only when) the person identified, the real-name part needed for the callback
of a bad review is sealed with the evaluation system's X25519 public key (libsodium sealed
box). The terminal holds only the public key, so it cannot read the part back, and the
outbox, logs and telemetry never see it in clear.

A prompt that times out is recorded as "not rated" (``level is None``), never as a level.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from nacl.exceptions import CryptoError
from nacl.public import PublicKey, SealedBox

from config.ratings import RatingSettings
from drivers.privacy import scrub
from kiosk.ratings import levels as basic
from kiosk.ratings.levels import LABELS, Level

#: provincial interface ``pf`` of a self-service terminal (PROTOCOLS §3)
CHANNEL_SELF_SERVICE = 5
NOT_RATED = "not_rated"
FIRST, SUPPLEMENTARY = 1, 2
PERSON, LEGAL_ENTITY = 1, 2


class RatingError(ValueError):
    """A rating that must not be recorded as it is (the message says what to fix)."""


# -- settings (the lead mounts this model as the ``ratings`` config section) -------------------
def public_key(text: str) -> PublicKey:
    """Parse a base64 X25519 public key, with an error that says what is expected."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise RatingError("evaluation_public_key is not base64; expected the 32-byte X25519 "
                          "public key of the evaluation system in base64 (44 characters)"
                          ) from None
    if len(raw) != 32:
        raise RatingError(f"evaluation_public_key decodes to {len(raw)} bytes, an X25519 "
                          "public key has 32")
    return PublicKey(raw)


def key_id(key: PublicKey) -> str:
    """Short fingerprint of a public key (the receiver picks its private key by it)."""
    return hashlib.sha256(bytes(key)).hexdigest()[:16]


# -- the real-name part ---------------------------------------------------------------------
@dataclass(frozen=True)
class RealNamePart:
    """Who rated, for the follow-up of a bad review. Never logged; sealed before storage."""

    name: str
    id_number: str = ""
    id_type: str = "resident"  # resident | hmt | foreigner | credit_code
    phone: str = ""
    user_prop: int = PERSON  # 1 person, 2 legal entity
    organisation: str = ""  # legal entity name when user_prop == 2

    def __repr__(self) -> str:  # keep personal data out of tracebacks and logs
        return f"RealNamePart(user_prop={self.user_prop}, <sealed fields>)"

    def to_json(self) -> bytes:
        return json.dumps({"name": self.name, "id_number": self.id_number,
                           "id_type": self.id_type, "phone": self.phone,
                           "user_prop": self.user_prop, "organisation": self.organisation},
                          ensure_ascii=False, sort_keys=True).encode("utf-8")


def seal_real_name(part: RealNamePart, key: PublicKey) -> str:
    """Encrypt for the evaluation system (sealed box: anonymous sender, only the holder of the
    private key can open it). Returns base64."""
    return base64.b64encode(SealedBox(key).encrypt(part.to_json())).decode("ascii")


def open_real_name(sealed: str, private_key: Any) -> dict[str, Any]:
    """The evaluation system's side (``nacl.public.PrivateKey``); the terminal never calls it."""
    try:
        plain = SealedBox(private_key).decrypt(base64.b64decode(sealed))
    except (CryptoError, binascii.Error, ValueError) as exc:
        raise RatingError(f"cannot open the real-name part: {exc}") from exc
    return json.loads(plain)


# -- working days -------------------------------------------------------------------------------
def add_working_days(start: date, days: int, holidays: Iterable[date] = (),
                     extra_workdays: Iterable[date] = ()) -> date:
    """The date ``days`` working days after ``start`` (Mon-Fri, minus holidays, plus 调休)."""
    off, on = set(holidays), set(extra_workdays)
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        working = (current.weekday() < 5 or current in on) and current not in off
        if working:
            left -= 1
    return current


def supplementary_deadline(first: datetime, settings: RatingSettings) -> date:
    """Last day on which a supplementary evaluation of an item first rated at ``first`` is
    accepted (the day of the first evaluation does not count)."""
    return add_working_days(first.date(), settings.supplementary_days, settings.holidays,
                            settings.extra_workdays)


def supplementary_allowed(first: datetime, now: datetime, settings: RatingSettings) -> bool:
    if now < first:
        return False
    return now.date() <= supplementary_deadline(first, settings)


# -- the record -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FullRatingRecord:
    """A checked rating, ready for the outbox. ``real_name_sealed`` is base64 or ""."""

    id: str
    terminal: str
    region_code: str
    item_code: str
    item_name: str
    handling_number: str
    at: datetime  # aware, site time zone
    level: Level | None
    reasons: tuple[str, ...] = ()
    text: str = ""
    assess_number: int = FIRST
    first_at: datetime | None = None  # the first evaluation, for a supplementary one
    user_prop: int | None = None
    real_name_sealed: str = ""
    key_id: str = ""
    source: Literal["pad", "screen", "timeout"] = "screen"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rated(self) -> bool:
        return self.level is not None

    @property
    def identified(self) -> bool:
        return bool(self.real_name_sealed)

    def values(self) -> dict[str, Any]:
        """The ``values`` of the MQTT rating payload (schema ``kiosk.rating``)."""
        return {
            "item_code": self.item_code,
            "item_name": self.item_name,
            "handling_number": self.handling_number,
            "time": self.at.isoformat(timespec="seconds"),
            "level": self.level.value if self.level else NOT_RATED,
            "label": self.level.label if self.level else "未评价",
            "gbt39046_code": self.level.gbt39046_code if self.level else None,
            "provincial_code": self.level.provincial_code if self.level else None,
            "channel": CHANNEL_SELF_SERVICE,
            "assess_number": self.assess_number,
            "first_time": self.first_at.isoformat(timespec="seconds") if self.first_at else None,
            "reasons": list(self.reasons),
            "text": self.text,
            "region_code": self.region_code,
            "source": self.source,
            "user_prop": self.user_prop,
            "identified": self.identified,
            "real_name_sealed": self.real_name_sealed or None,
            "key_id": self.key_id or None,
        }


def to_gbt39046(record: FullRatingRecord) -> dict[str, Any]:
    """GB/T 39046-2020 table 9 elements (评价人 is the sealed real-name part, or "")."""
    if record.level is None:
        raise RatingError("a not-rated record has no GB/T 39046 evaluation")
    return {
        "办件编号": record.handling_number,
        "评价渠道": CHANNEL_SELF_SERVICE,
        "评价人": record.real_name_sealed,
        "评价时间": record.at.strftime("%Y%m%dT%H%M%S"),
        "评价次数": record.assess_number,
        "满意度代码": record.level.gbt39046_code,
        "文字评价": "；".join([*record.reasons, record.text] if record.text else record.reasons),
        "行政区划": record.region_code,
    }


def to_provincial(record: FullRatingRecord) -> dict[str, Any]:
    """The provincial interface fields (satisfaction is reversed: 1 = 非常不满意)."""
    if record.level is None:
        raise RatingError("a not-rated record is not sent to the provincial interface")
    return {
        "projectNo": record.handling_number,
        "taskCode": record.item_code,
        "satisfaction": record.level.provincial_code,
        "pf": CHANNEL_SELF_SERVICE,
        "assessTime": record.at.strftime("%Y-%m-%d %H:%M:%S"),
        "assessNumber": record.assess_number,
        "userProp": record.user_prop or PERSON,
        "reasons": list(record.reasons),
        "content": record.text,
    }


class RatingRecordBuilder:
    """Checks a rating and builds its :class:`FullRatingRecord` (pure; no I/O)."""

    def __init__(self, terminal_id: str, region_code: str, timezone: str = "Asia/Shanghai",
                 settings: RatingSettings | None = None) -> None:
        self.terminal_id = terminal_id
        self.region_code = region_code
        self.tz = ZoneInfo(timezone)
        self.settings = settings or RatingSettings()
        self._key = (public_key(self.settings.evaluation_public_key)
                     if self.settings.evaluation_public_key else None)

    @classmethod
    def from_config(cls, config: Any, settings: RatingSettings | None = None
                    ) -> RatingRecordBuilder:
        """From a ``KioskConfig`` (its ``ratings`` section)."""
        settings = settings or getattr(config, "ratings", None) or RatingSettings()
        term = config.terminal
        return cls(term.id, term.region_code, term.timezone, settings)

    @property
    def can_seal(self) -> bool:
        return self._key is not None

    def build(self, *, item_code: str, level: Level | str | None,
              reasons: Sequence[str] = (), text: str = "", handling_number: str = "",
              item_name: str = "", real_name: RealNamePart | None = None,
              first_at: datetime | None = None, source: str = "screen",
              at: datetime | None = None, record_id: str | None = None) -> FullRatingRecord:
        """Check and build. ``first_at`` set = a supplementary evaluation of that first one.

        Raises :class:`RatingError` for: a bad level without a reason, an unknown reason, a
        too long text, a supplementary evaluation after its window, or reasons on a level
        that is not bad.
        """
        if isinstance(level, str):
            try:
                level = Level(level)
            except ValueError:
                raise RatingError(f"unknown level {level!r}; one of "
                                  f"{', '.join(x.value for x in Level)} or None") from None
        if not item_code:
            raise RatingError("item_code is empty: every rating belongs to a service item")
        now = (at or datetime.now(self.tz))
        if now.tzinfo is None:
            now = now.replace(tzinfo=self.tz)
        reasons = tuple(dict.fromkeys(r.strip() for r in reasons if r.strip()))
        text = scrub(text.strip())  # a phone or ID number typed in the text is masked
        if level is None:
            if reasons or text:
                raise RatingError("a not-rated record carries no reasons or text")
            real_name = None
        elif level.is_bad:
            if not reasons:
                raise RatingError(f"{level.label} needs at least one reason; choose from: "
                                  f"{'、'.join(self.settings.reasons)}")
        elif reasons:
            raise RatingError(f"reasons are asked only for 不满意/非常不满意, not {level.label}")
        unknown = [r for r in reasons if r not in self.settings.reasons]
        if unknown:
            raise RatingError(f"unknown reason(s) {'、'.join(unknown)}; configured: "
                              f"{'、'.join(self.settings.reasons)}")
        if len(text) > self.settings.text_max_chars:
            raise RatingError(f"the text has {len(text)} characters, at most "
                              f"{self.settings.text_max_chars} are allowed")
        assess = FIRST
        if first_at is not None:
            if first_at.tzinfo is None:
                first_at = first_at.replace(tzinfo=self.tz)
            if not supplementary_allowed(first_at, now, self.settings):
                deadline = supplementary_deadline(first_at, self.settings)
                raise RatingError(
                    f"a supplementary evaluation was possible until {deadline.isoformat()} "
                    f"({self.settings.supplementary_days} working days after the first one)")
            if not handling_number:
                raise RatingError("a supplementary evaluation needs the handling number")
            assess = SUPPLEMENTARY
        sealed, kid, user_prop = "", "", None
        if real_name is not None:
            user_prop = real_name.user_prop
            if self._key is not None:
                sealed, kid = seal_real_name(real_name, self._key), key_id(self._key)
        if source not in ("pad", "screen", "timeout"):
            raise RatingError(f"unknown source {source!r}: pad, screen or timeout")
        return FullRatingRecord(
            id=record_id or uuid.uuid4().hex, terminal=self.terminal_id,
            region_code=self.region_code, item_code=item_code, item_name=item_name,
            handling_number=handling_number, at=now.astimezone(self.tz), level=level,
            reasons=reasons, text=text, assess_number=assess,
            first_at=first_at.astimezone(self.tz) if first_at else None, user_prop=user_prop,
            real_name_sealed=sealed, key_id=kid,
            source="timeout" if level is None else source)  # type: ignore[arg-type]

    def from_basic(self, record: basic.RatingRecord, **kwargs: Any) -> FullRatingRecord:
        """From the session's :class:`kiosk.ratings.levels.RatingRecord` (item, level, reasons)."""
        return self.build(item_code=record.item, level=record.level, reasons=record.reasons,
                          record_id=record.id,
                          at=datetime.fromtimestamp(record.at, self.tz), **kwargs)


__all__ = [
    "CHANNEL_SELF_SERVICE", "LABELS", "NOT_RATED", "FullRatingRecord", "Level", "RatingError",
    "RatingRecordBuilder", "RatingSettings", "RealNamePart", "add_working_days", "key_id",
    "open_real_name", "public_key", "seal_real_name", "supplementary_allowed",
    "supplementary_deadline", "to_gbt39046", "to_provincial",
]

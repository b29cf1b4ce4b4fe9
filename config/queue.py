"""``QueueSettings``: the queue's own configuration, to be mounted as ``[queue]`` in the config.

The back end choice (``backends.queue.type`` = ``embedded`` | ``http``, ``url``,
``timeout_s``) and the opening hours (``terminal.opening_hours``) stay where they are; this
section holds what only the queue needs: categories, windows and their tide schedule, the
database, appointment check-in times, client retries and the offline number ranges. The same
file can serve the hall server and every kiosk of the hall.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import field_validator, model_validator

from config.parts import (  # the building blocks every section shares
    DAYS_WORDS,
    Section,
    config_field,
    config_problem,
    parse_days,
    parse_hhmm,
)

#: three digits: A001 … A999 (kiosk.queue.models takes it from here)
MAX_NUMBER = 999

TIME_WORDS = '"HH:MM" from 00:00 to 23:59 (end may also be 24:00)'

#: where a transferred ticket goes in its new queue (queue systems offer the same three:
#: sorted by when the resident arrived, first in line, last in line)
TransferPlace = Literal["keep_issue_time", "front", "back"]
TRANSFER_WORDS = ('"keep_issue_time" (its place by the time it was issued), "front" (first in '
                  'line, ahead of every priority) or "back" (last: its place by the time of '
                  'the transfer)')
LANE_WORDS = ('"strict" (priority tickets always first), "ratio:N" with N from 1 to 20 (one '
              'priority call after every N regular calls at a window) or "off" (one line by '
              'issue time)')
_LANE = re.compile(r"^(strict|off|ratio:([1-9]|1[0-9]|20))$")


def _f(default: Any = ..., description: str = "", *, allowed: str | None = None,
       **kwargs: Any) -> Any:
    return config_field(default, description, allowed=allowed, **kwargs)


def _fl(factory: Any, description: str, *, allowed: str | None = None,
        default_doc: str | None = None) -> Any:
    return config_field(description=description, allowed=allowed, default_doc=default_doc,
                        default_factory=factory)


class CategorySettings(Section):
    """A business category (业务类别): its tickets are the letter and three digits, A001…A999."""

    code: str = _f("A", "Prefix letter of the numbers.", pattern=r"^[A-Z]$",
                   allowed="one capital letter A-Z")
    name: str = _f("综合业务", "Name on the tile and the ticket.", min_length=1, max_length=20)
    daily_capacity: int = _f(300, "Tickets per day at most (appointment check-ins are not "
                             "refused for capacity).", ge=1, le=MAX_NUMBER)
    service_min: float = _f(10.0, "Minutes one resident takes at a window, used for the "
                            "estimated wait until recent service times exist.", ge=0.5, le=240)


class WindowSettings(Section):
    """A service window (窗口) and the categories it serves when no tide line applies."""

    id: str = _f("1", "Window id, used by staff and the calling display.",
                 pattern=r"^[A-Za-z0-9-]{1,16}$", allowed="1 to 16 letters, digits or hyphens")
    name: str = _f("1号窗口", "Name announced and shown (请A005号到1号窗口).", min_length=1,
                   max_length=20)
    area: str = _f("", "Area of the hall where the window is (A区); printed on tickets.",
                   max_length=20)
    categories: list[str] = _fl(list, "Category codes served by default.",
                                allowed="a list of category codes, e.g. [\"A\", \"B\"]")


class TideLine(Section):
    """A tide window (潮汐窗口) line: from `start` to `end` on `days`, `window` serves
    `categories` instead of its default ones."""

    window: str = _f("1", "Window id.", allowed="the id of one of the windows")
    days: str = _f("daily", "Days this line applies to.", allowed=DAYS_WORDS)
    start: str = _f("11:30", "Start, site-local time.", allowed=TIME_WORDS)
    end: str = _f("13:30", "End, later than start.", allowed=TIME_WORDS)
    categories: list[str] = _fl(list, "Category codes served during the line ([] = the window "
                                "is closed then).", allowed="a list of category codes")

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        parse_days(value)
        return value.strip().lower()

    @field_validator("start")
    @classmethod
    def _start(cls, value: str) -> str:
        parse_hhmm(value)
        return value.strip()

    @field_validator("end")
    @classmethod
    def _end(cls, value: str) -> str:
        parse_hhmm(value, allow_24=True)
        return value.strip()

    @model_validator(mode="after")
    def _order(self) -> TideLine:
        if self.end_minute <= self.start_minute:
            raise config_problem(f"ends at {self.end}, not after it starts at {self.start}",
                                 subkey="end", value=self.end,
                                 allowed=f"a time after {self.start}, up to 24:00")
        return self

    @property
    def start_minute(self) -> int:
        return parse_hhmm(self.start)

    @property
    def end_minute(self) -> int:
        return parse_hhmm(self.end, allow_24=True)

    def covers(self, weekday: int, minute: int) -> bool:
        return (weekday in parse_days(self.days)
                and self.start_minute <= minute < self.end_minute)


class SurgeRule(Section):
    """A tide rule by crowd (潮汐窗口): `window` also serves `category` while more than `above`
    tickets of it wait, and gives it back once `below` or fewer wait (halls open cross-window
    service at about 10 waiting)."""

    window: str = _f("1", "Window id that helps out.", allowed="the id of one of the windows")
    category: str = _f("A", "Category it takes on.", allowed="a category code")
    above: int = _f(10, "Take it on when more than this many wait.", ge=1, le=999)
    below: int = _f(3, "Give it back when this many or fewer wait (below `above`, so the "
                    "window does not flap).", ge=0, le=998)

    @model_validator(mode="after")
    def _order(self) -> SurgeRule:
        if self.below >= self.above:
            raise config_problem(f"below ({self.below}) must be less than above ({self.above})",
                                 subkey="below", value=self.below,
                                 allowed=f"0 to {self.above - 1}")
        return self


class OfflineRange(Section):
    """Numbers a terminal may give on its own while the hall server is unreachable.

    The hall server never issues them itself and accepts them later, so no number is given
    twice. The same list goes to the server and to every kiosk.
    """

    terminal: str = _f("DEMO-0001", "Terminal id (terminal.id of the kiosk).",
                       pattern=r"^[A-Za-z0-9-]{3,40}$",
                       allowed="a terminal id: 3 to 40 letters, digits or hyphens")
    first: int = _f(901, "First number of the range (the same in every category).",
                    ge=1, le=MAX_NUMBER)
    last: int = _f(950, "Last number of the range.", ge=1, le=MAX_NUMBER)

    @model_validator(mode="after")
    def _order(self) -> OfflineRange:
        if self.last < self.first:
            raise config_problem(f"last ({self.last}) is before first ({self.first})",
                                 subkey="last", value=self.last,
                                 allowed=f"a number from {self.first} to {MAX_NUMBER}")
        return self


def _default_categories() -> list[CategorySettings]:
    return [CategorySettings(code="A", name="综合业务", service_min=10),
            CategorySettings(code="B", name="社保医保", service_min=8),
            CategorySettings(code="C", name="不动产登记", service_min=20),
            CategorySettings(code="D", name="公积金", service_min=12)]


def _default_windows() -> list[WindowSettings]:
    return [WindowSettings(id="1", name="1号窗口", area="A区", categories=["A", "B"]),
            WindowSettings(id="2", name="2号窗口", area="A区", categories=["A"]),
            WindowSettings(id="3", name="3号窗口", area="B区", categories=["B", "C"]),
            WindowSettings(id="4", name="4号窗口", area="B区", categories=["C", "D"])]


class QueueSettings(Section):
    """The queue (取号/叫号): categories, windows, tide lines, appointments, offline numbers."""

    db_path: str = _f("", "SQLite database of the embedded engine; \"\" = "
                      "<storage.data_dir>/queue.sqlite. The hall server takes --db instead.",
                      allowed="a file path or \"\"")
    synchronous: Literal["full", "normal"] = _f(
        "full", "SQLite synchronous mode (WAL journal). \"full\" syncs the log at every "
        "commit, so a ticket in a resident's hand survives a power cut (one disk sync per "
        "ticket); \"normal\" is faster but may lose the last tickets on power loss.")
    categories: list[CategorySettings] = _fl(
        _default_categories, "Business categories, in tile order.",
        allowed="a list of tables {code, name, daily_capacity, service_min}",
        default_doc="A 综合业务, B 社保医保, C 不动产登记, D 公积金 (300 a day each)")
    windows: list[WindowSettings] = _fl(
        _default_windows, "Service windows and their default categories.",
        allowed="a list of tables {id, name, area, categories}",
        default_doc="1号窗口 A,B; 2号窗口 A (A区); 3号窗口 B,C; 4号窗口 C,D (B区)")
    tide: list[TideLine] = _fl(list, "Tide window schedule (潮汐窗口): who serves what when.",
                               allowed="a list of tables {window, days, start, end, categories}")
    surge: list[SurgeRule] = _fl(list, "Tide windows by crowd: a window takes on a category "
                                 "while many of it wait.",
                                 allowed="a list of tables {window, category, above, below}")
    history_size: int = _f(20, "Recent service times per category used for the estimated wait.",
                           ge=1, le=500)
    history_days: int = _f(7, "Only service times from the last this many days count.",
                           ge=1, le=90)
    checkin_early_min: int = _f(30, "Minutes before the booked time from which an appointment "
                                "can be checked in.", ge=0, le=240)
    checkin_late_min: int = _f(15, "Minutes after the booked time until which an appointment "
                               "can be checked in.", ge=0, le=240)
    key_file: str = _f("", "Secret key for the keyed hash of ID numbers of imported "
                       "appointments; \"\" = <database>.key, created on first use (mode "
                       "600). The hall server requires it set and outside the database's folder.",
                       allowed="a file path or \"\"")
    retries: int = _f(2, "Retries of a request to the hall server after a time-out or a "
                      "dropped connection (requests carry an id, so a retry never issues twice).",
                      ge=0, le=10)
    retry_backoff_s: float = _f(0.2, "Pause before the first retry; doubled each time.",
                                ge=0, le=10)
    offline_enabled: bool = _f(False, "When the hall server cannot be reached, give numbers "
                               "from this terminal's range in offline_ranges.")
    offline_ranges: list[OfflineRange] = _fl(
        list, "Reserved number ranges, one per terminal; the hall server skips them.",
        allowed="a list of tables {terminal, first, last}, not overlapping")
    offline_db_path: str = _f("", "Where the kiosk keeps its offline tickets until the server "
                              "accepts them; \"\" = <storage.data_dir>/queue-offline.sqlite.",
                              allowed="a file path or \"\"")
    offline_probe_s: float = _f(10.0, "While offline: seconds between attempts to reach the "
                                "server and hand over the offline tickets.", ge=0.1, le=600)

    api_key_file: str = _f("", "Kiosk side: file holding this terminal's API key for the hall "
                           "server (from `kiosk queue terminal add ID`, mode 600); \"\" = none "
                           "(the server will answer 401).", allowed="a file path or \"\"")
    public_url: str = _f("", "Public base URL of the hall server for the phone ticket page "
                         "(the QR on a ticket opens <public_url>/t/<ticket>); \"\" = the base "
                         "of backends.queue.url.", allowed="\"\" or an http(s):// URL")
    checkin_per_min: int = _f(10, "Hall server: check-ins a kiosk may try per minute (ID "
                              "numbers cannot be probed faster).", ge=1, le=600)
    retention_days: int = _f(30, "Hall server: days tickets, appointments and help requests "
                             "are kept; then only the day's statistics remain.", ge=1, le=3650)
    priority_lane: str = _f(
        "strict", "How call-next treats the priority lane (绿色通道 and appointments): "
        "\"strict\" calls them before any regular ticket; \"ratio:N\" makes one priority "
        "call after every N regular calls at a window (regular tickets still move when "
        "priority ones keep coming); \"off\" calls everyone by issue time.",
        allowed=LANE_WORDS)
    transfer_to_category: TransferPlace = _f(
        "keep_issue_time", "Where a ticket transferred to another category's queue goes.",
        allowed=TRANSFER_WORDS)
    transfer_to_window: TransferPlace = _f(
        "front", "Where a ticket transferred to one window goes among that window's tickets.",
        allowed=TRANSFER_WORDS)
    no_show_after_recalls: int = _f(1, "Hall server: recalls (重呼) before a ticket may be "
                                    "marked no-show (0 = at once).", ge=0, le=10)

    login_failures: int = _f(5, "Hall server: wrong passwords in a row for one staff account "
                             "before sign-in is locked for login_lockout_s.", ge=1, le=100)
    login_address_failures: int = _f(20, "Hall server: wrong passwords in a row from one "
                                     "client address (any account) before that address is "
                                     "locked.", ge=1, le=1000)
    login_lockout_s: float = _f(30.0, "Hall server: first lock-out; it doubles with each "
                                "further wrong password until a correct one.", ge=1, le=3600)
    login_lockout_max_s: float = _f(3600.0, "Hall server: the longest lock-out.", ge=1,
                                    le=86400)

    @field_validator("priority_lane")
    @classmethod
    def _lane(cls, value: str) -> str:
        text = str(value).strip().lower().replace(" ", "")
        if not _LANE.match(text):
            raise config_problem(f"unknown priority lane rule {value!r}", value=value,
                                 allowed=LANE_WORDS)
        return text

    @property
    def lane_mode(self) -> str:
        """``strict``, ``ratio`` or ``off``."""
        return self.priority_lane.split(":", 1)[0]

    @property
    def lane_ratio(self) -> int:
        """N of ``ratio:N`` (0 for the other rules)."""
        mode, _, n = self.priority_lane.partition(":")
        return int(n) if mode == "ratio" else 0

    @model_validator(mode="after")
    def _consistent(self) -> QueueSettings:
        codes = [c.code for c in self.categories]
        if not codes:
            raise config_problem("no categories: the queue needs at least one", subkey="categories",
                                 value=[], allowed="a list of tables {code, name, ...}")
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise config_problem(f"category code {dupes[0]} is used twice", subkey="categories",
                                 value=codes, allowed="each letter once")
        if self.login_lockout_max_s < self.login_lockout_s:
            raise config_problem(f"login_lockout_max_s ({self.login_lockout_max_s:g}) is less "
                                 f"than login_lockout_s ({self.login_lockout_s:g})",
                                 subkey="login_lockout_max_s", value=self.login_lockout_max_s,
                                 allowed=f"{self.login_lockout_s:g} to 86400")
        ids = [w.id for w in self.windows]
        dupes = sorted({w for w in ids if ids.count(w) > 1})
        if dupes:
            raise config_problem(f"window id {dupes[0]!r} is used twice", subkey="windows",
                                 value=ids, allowed="each window id once")
        for index, window in enumerate(self.windows):
            self._known(window.categories, f"windows.{index}.categories", codes)
        for index, line in enumerate(self.tide):
            if line.window not in ids:
                raise config_problem(f"tide line {index + 1} names window {line.window!r}, which "
                                     "is not in windows", subkey=f"tide.{index}.window",
                                     value=line.window, allowed="one of " + ", ".join(ids))
            self._known(line.categories, f"tide.{index}.categories", codes)
        for index, rule in enumerate(self.surge):
            if rule.window not in ids:
                raise config_problem(f"surge rule {index + 1} names window {rule.window!r}, "
                                     "which is not in windows", subkey=f"surge.{index}.window",
                                     value=rule.window, allowed="one of " + ", ".join(ids))
            self._known([rule.category], f"surge.{index}.category", codes)
        self._ranges_apart()
        return self

    @staticmethod
    def _known(used: list[str], key: str, codes: list[str]) -> None:
        for code in used:
            if code not in codes:
                raise config_problem(f"unknown category {code!r}", subkey=key, value=used,
                                     allowed="codes from categories: " + ", ".join(codes))

    def _ranges_apart(self) -> None:
        seen: dict[str, OfflineRange] = {}
        for index, item in enumerate(self.offline_ranges):
            if item.terminal in seen:
                raise config_problem(f"terminal {item.terminal} has two offline ranges",
                                     subkey=f"offline_ranges.{index}.terminal",
                                     value=item.terminal, allowed="one range per terminal")
            for other in seen.values():
                if item.first <= other.last and other.first <= item.last:
                    raise config_problem(
                        f"offline range {item.first}-{item.last} of {item.terminal} overlaps "
                        f"{other.first}-{other.last} of {other.terminal}: a number could be "
                        "given twice", subkey=f"offline_ranges.{index}", value=item.first,
                        allowed="ranges that do not overlap")
            seen[item.terminal] = item

    # -- look-ups --------------------------------------------------------------------------------
    @property
    def category_map(self) -> dict[str, CategorySettings]:
        return {c.code: c for c in self.categories}

    @property
    def window_map(self) -> dict[str, WindowSettings]:
        return {w.id: w for w in self.windows}

    @property
    def reserved(self) -> frozenset[int]:
        """Every number in some terminal's offline range: never issued by the server."""
        return frozenset(n for r in self.offline_ranges for n in range(r.first, r.last + 1))

    def range_for(self, terminal: str) -> OfflineRange | None:
        return next((r for r in self.offline_ranges if r.terminal == terminal), None)

    def resolve_db_path(self, data_dir: Path | str) -> Path:
        return Path(self.db_path).expanduser() if self.db_path else Path(data_dir) / "queue.sqlite"

    def resolve_offline_path(self, data_dir: Path | str) -> Path:
        if self.offline_db_path:
            return Path(self.offline_db_path).expanduser()
        return Path(data_dir) / "queue-offline.sqlite"

    def resolve_key_path(self, db_path: Path | str) -> Path:
        return Path(self.key_file).expanduser() if self.key_file else Path(f"{db_path}.key")


def load_settings_file(path: Path | str) -> QueueSettings:
    """A TOML file with the ``[queue]`` table (or its keys at the top level).

    Raises ``ValueError`` naming the file and every problem.
    """
    import tomllib

    from pydantic import ValidationError

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read queue settings {path}: {exc}") from None
    data = data.get("queue", data)
    try:
        return QueueSettings.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top)"
            ctx = err.get("ctx") or {}
            words = ctx.get("allowed") or _allowed(err["loc"])
            allowed = f" (allowed: {words})" if words else ""
            lines.append(f"  queue.{where}: {err['msg']}{allowed}")
        raise ValueError(f"queue settings {path} rejected:\n" + "\n".join(lines)) from None


def _allowed(loc: tuple[Any, ...]) -> str:
    """The ``allowed`` words of the field at a validation error's location, if any."""
    import typing

    model: Any = QueueSettings
    words = ""
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return ""
        info = fields[part]
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        words = str(extra.get("allowed", ""))
        annotation = info.annotation
        if typing.get_origin(annotation) is list:
            annotation = typing.get_args(annotation)[0]
        model = annotation
    return words

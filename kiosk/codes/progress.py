"""办件进度: application progress as the service platform reports it, and the embedded samples.

An :class:`Application` is what the terminal shows and prints: the item, the handling number
(办件编号), the day it was accepted, the step it is at, the steps done with their dates, the
promised completion day, where the result is collected and whether this terminal can hand it
out (自助出件). The embedded platform makes **sample** applications (``sample=True``), derived
from a keyed hash of the person's ID number so that the same person always sees the same ones
and a handling number typed on the keypad finds its application without any stored list;
numbers the platform did not make fail their check digit and are "not found".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Any

#: handling numbers: letters, digits and dashes, 8 to 40 characters (spaces are dropped)
HANDLING_NUMBER_RE = re.compile(r"^[A-Z0-9-]{8,40}$")


class ProgressNotFound(LookupError):
    """No application with that handling number (or none for the person)."""


class BadHandlingNumber(ValueError):
    """The typed or scanned text is not a handling number; the message says what is."""


def normalise_handling_number(text: str) -> str:
    """Upper case, spaces dropped; raises :class:`BadHandlingNumber` naming the field."""
    cleaned = re.sub(r"\s+", "", str(text)).upper()
    if not cleaned:
        raise BadHandlingNumber("办件编号（handling_number）为空：请输入回执上的办件编号")
    if not HANDLING_NUMBER_RE.fullmatch(cleaned):
        raise BadHandlingNumber("办件编号（handling_number）应为 8 到 40 位字母、数字或短横线，"
                                "请核对回执后重新输入")
    return cleaned


@dataclass(frozen=True)
class Step:
    name: str
    done_on: str = ""  # ISO date; "" = not done yet

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "done_on": self.done_on}


@dataclass(frozen=True)
class Application:
    handling_number: str
    item: str
    accepted_on: str  # ISO date
    current_step: str
    steps: tuple[Step, ...]
    promised_on: str  # ISO date
    pickup_place: str
    self_pickup: bool  # the result can be collected at this terminal (自助出件)
    finished: bool = False
    sample: bool = False
    follow_url: str = ""  # a page to follow the application on the phone

    def to_json(self) -> dict[str, Any]:
        return {"handling_number": self.handling_number, "item": self.item,
                "accepted_on": self.accepted_on, "current_step": self.current_step,
                "steps": [s.to_json() for s in self.steps], "promised_on": self.promised_on,
                "pickup_place": self.pickup_place, "self_pickup": self.self_pickup,
                "finished": self.finished, "sample": self.sample,
                "follow_url": self.follow_url}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Application:
        return cls(handling_number=str(data["handling_number"]), item=str(data["item"]),
                   accepted_on=str(data["accepted_on"]),
                   current_step=str(data["current_step"]),
                   steps=tuple(Step(str(s["name"]), str(s.get("done_on", "")))
                               for s in data["steps"]),
                   promised_on=str(data["promised_on"]),
                   pickup_place=str(data.get("pickup_place", "")),
                   self_pickup=bool(data.get("self_pickup", False)),
                   finished=bool(data.get("finished", False)),
                   sample=bool(data.get("sample", False)),
                   follow_url=str(data.get("follow_url", "")))


@dataclass(frozen=True)
class _Template:
    item: str
    steps: tuple[str, ...]
    days: int  # promised working time in calendar days (samples)
    place: str
    self_pickup: bool


TEMPLATES: tuple[_Template, ...] = (
    _Template("社会保障卡申领", ("受理", "审核", "制卡", "待领取"), 20,
              "历下区政务服务中心一楼 社保综合窗口", True),
    _Template("城乡居民基本养老保险待遇申领", ("受理", "审核", "审批", "办结"), 15,
              "结果将邮寄到您登记的地址", False),
    _Template("高龄老人补贴申请", ("受理", "村（居）初审", "街道审核", "区民政局审批", "办结"), 20,
              "街道便民服务中心 民政窗口", False),
    _Template("不动产登记资料查询", ("受理", "查询", "出具结果"), 3,
              "可在本终端自助打印（自助出件）", True),
)

#: sample ID numbers that have no applications (the empty state in demos and tests)
NO_APPLICATIONS: frozenset[str] = frozenset({"370104198506120044"})


@dataclass
class SampleProgress:
    """Deterministic sample applications under a secret (the embedded platform's key)."""

    secret: bytes
    region: str = "3701"
    today: dt.date | None = None
    follow_base_url: str = "https://platform.example.invalid/progress"
    _cache: dict[str, Application] = field(default_factory=dict, repr=False)

    def _mac(self, text: str) -> bytes:
        return hmac.new(self.secret, text.encode(), hashlib.sha256).digest()

    def _check_digit(self, body: str) -> str:
        return str(self._mac("check:" + body)[0] % 10)

    def numbers_for(self, id_number: str) -> list[str]:
        if id_number in NO_APPLICATIONS:
            return []
        digest = self._mac("person:" + id_number)
        today = self.today or dt.date.today()
        numbers = []
        for index in range(2):
            accepted = today - dt.timedelta(days=3 + digest[index] % 20 + 25 * index)
            serial = int.from_bytes(digest[4 + 3 * index:7 + 3 * index], "big") % 10**6
            template = (digest[10] + index) % len(TEMPLATES)
            body = f"{self.region}{accepted:%Y%m%d}{template}{serial:06d}"
            numbers.append(body + self._check_digit(body))
        return numbers

    def for_person(self, id_number: str) -> list[Application]:
        return [self.by_number(number) for number in self.numbers_for(id_number)]

    def by_number(self, number: str) -> Application:
        number = normalise_handling_number(number)
        body, check = number[:-1], number[-1:]
        if (len(number) != 20 or not number.isdigit()
                or not hmac.compare_digest(check, self._check_digit(body))):
            raise ProgressNotFound(number)
        accepted = dt.date(int(body[4:8]), int(body[8:10]), int(body[10:12]))
        template = TEMPLATES[int(body[12]) % len(TEMPLATES)]
        today = self.today or dt.date.today()
        elapsed = (today - accepted).days
        per_step = max(1, template.days // len(template.steps))
        done: list[Step] = []
        for index, name in enumerate(template.steps):
            day = accepted + dt.timedelta(days=index * per_step)
            done.append(Step(name, day.isoformat() if day <= today and (
                index == 0 or elapsed >= index * per_step) else ""))
        finished = all(step.done_on for step in done)
        current = next((s.name for s in done if not s.done_on), template.steps[-1])
        if finished:
            current = "已办结"
        return Application(
            handling_number=number, item=template.item, accepted_on=accepted.isoformat(),
            current_step=current, steps=tuple(done),
            promised_on=(accepted + dt.timedelta(days=template.days)).isoformat(),
            pickup_place=template.place, self_pickup=template.self_pickup, finished=finished,
            sample=True, follow_url=f"{self.follow_base_url.rstrip('/')}/{number}")

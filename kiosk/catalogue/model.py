"""The service catalogue as data: items with their standard elements (事项要素) and guides.

A :class:`Catalogue` is what a signed bundle carries (see :mod:`kiosk.catalogue.bundle`). Every
model is frozen and refuses unknown keys, so a bundle from a newer platform that adds or
renames fields is refused with a message naming the field instead of being half understood.
Cross-references (life-event ids, unique item codes, synonym groups) are checked by
:meth:`Catalogue._references`.

Field names follow the elements the seeds list (000 §二): name, code, type, department,
implementing body, basis; target group, conditions, process, materials, intermediary services,
legal and promised time limits, fees, result, quantity limits, special procedures; where and
online entry; level, life-event topics (一件事) and categories.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.catalogue import CODE_PATTERN, Level  # the [catalogue] section checks them

#: the payload schema this kiosk understands; a bundle with another one is refused
SCHEMA_ID = "aishandong.catalogue/1"

LEVEL_NAMES = {"district": "区县级", "town": "镇（街道）级", "community": "社区级",
               "village": "村级"}

ItemType = Literal["行政许可", "行政给付", "行政确认", "行政征收", "行政奖励", "行政裁决",
                   "行政检查", "其他行政权力", "公共服务"]
Target = Literal["person", "entity"]  # 自然人 / 法人
TARGET_NAMES = {"person": "自然人", "entity": "法人"}



class Model(BaseModel):
    """Base of every catalogue model: frozen, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Material(Model):
    """One document the applicant brings (申请材料)."""

    name: str = Field(min_length=1, max_length=80)
    originals: int = Field(0, ge=0, le=20, description="原件份数 (0 = only shown, not kept)")
    copies: int = Field(0, ge=0, le=20, description="复印件份数")
    e_certificate: bool = Field(False, description="an electronic licence (电子证照) can "
                                "replace it: the applicant need not bring it")
    required: bool = Field(True, description="False: only in the situation in `note`")
    note: str = Field("", max_length=200)

    def detail(self) -> str:
        """``原件 1 份，复印件 1 份；可用电子证照代替`` (what the checklist prints)."""
        parts = []
        if self.originals:
            parts.append(f"原件 {self.originals} 份")
        if self.copies:
            parts.append(f"复印件 {self.copies} 份")
        if not parts:
            parts.append("原件（现场核验后退还）")
        text = "，".join(parts)
        if self.e_certificate:
            text += "；可用电子证照代替"
        if self.note:
            text += f"；{self.note}"
        if not self.required:
            text = "（特定情形提供）" + text
        return text


class Step(Model):
    """One step of the process (办理流程)."""

    name: str = Field(min_length=1, max_length=30)
    detail: str = Field("", max_length=300)


class TimeLimit(Model):
    """Legal and promised time limits (法定/承诺办结时限) in working days; 0 = on the spot."""

    legal_days: int | None = Field(None, ge=0, le=365)
    promised_days: int | None = Field(None, ge=0, le=365)
    note: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _promise_within_law(self) -> TimeLimit:
        if (self.legal_days is not None and self.promised_days is not None
                and self.promised_days > self.legal_days):
            raise ValueError(f"promised_days ({self.promised_days}) exceeds legal_days "
                             f"({self.legal_days})")
        return self

    @staticmethod
    def _days(days: int) -> str:
        return "即时办结" if days == 0 else f"{days} 个工作日"

    def text(self) -> str:
        """``法定 20 个工作日，承诺 5 个工作日``."""
        parts = []
        if self.legal_days is not None:
            parts.append("法定 " + self._days(self.legal_days))
        if self.promised_days is not None:
            parts.append("承诺 " + self._days(self.promised_days))
        text = "，".join(parts) or "请咨询窗口"
        return f"{text}（{self.note}）" if self.note else text


class Fee(Model):
    free: bool = True
    text: str = Field("", max_length=200, description="the standard when not free")

    def describe(self) -> str:
        return "不收费" if self.free and not self.text else (self.text or "不收费")


class Where(Model):
    """Where to go (办理地点)."""

    place: str = Field(min_length=1, max_length=80, description="hall or station")
    floor: str = Field("", max_length=20)
    window: str = Field("", max_length=40)
    hours: str = Field("", max_length=80)
    phone: str = Field("", max_length=40, description="咨询电话 of the office (not a person)")

    def text(self) -> str:
        return " ".join(part for part in (self.place, self.floor, self.window) if part)


class Guide(Model):
    """The plain-language guide (白话版办事指南) of an item."""

    summary: str = Field(min_length=1, max_length=300,
                         description="one or two plain sentences: what it is, who it is for")
    conditions: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()
    materials: tuple[Material, ...] = ()
    intermediary: tuple[str, ...] = Field((), description="中介服务; empty = none")
    time_limit: TimeLimit = TimeLimit()
    fees: Fee = Fee()
    result: str = Field("", max_length=200, description="办理结果: what the person gets")
    quantity_limit: str = Field("", max_length=100, description="数量限制")
    special: tuple[str, ...] = Field((), description="特别程序 (on-site checks, publicity...)")
    tips: tuple[str, ...] = Field((), description="practical hints in plain words")
    sample: bool = Field(False, description="values are sample data, not an official guide")


class Item(Model):
    """One service item (政务服务事项) as the platform publishes it."""

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=80)
    type: ItemType = "公共服务"
    department: str = Field(min_length=1, max_length=60, description="主管部门")
    implementing_body: str = Field(min_length=1, max_length=80, description="实施主体")
    basis: tuple[str, ...] = Field((), description="设定依据 (laws, regulations)")
    targets: tuple[Target, ...] = ("person",)
    level: Level
    life_events: tuple[str, ...] = Field((), description="ids of Catalogue.life_events")
    categories: tuple[str, ...] = ()
    queue_category: str = Field("", max_length=20, description="the queue system's business "
                                "category for \"take a number for this\"; \"\" = no queue")
    keywords: tuple[str, ...] = Field((), description="everyday words people search for")
    popularity: int = Field(0, ge=0, le=100, description="relative demand, for ranking")
    where: Where | None = None
    online_url: str = Field("", max_length=300, description="continue on the phone (爱山东)")
    source: str = Field("", max_length=80, description="where the item list comes from")
    guide: Guide | None = None

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]


class LifeEvent(Model):
    """A life-event topic (一件事), e.g. 生育服务; the browse screen lists them in order."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,30}$")
    name: str = Field(min_length=1, max_length=20)
    description: str = Field("", max_length=100)


class HotTerm(Model):
    """A frequently searched word (热搜词) and how often people look for it (0-100).

    It ranks items containing the word higher when a query is ambiguous (``ylbx`` is both
    医疗保险 and 养老保险) and the search screen offers the words as one-tap chips.
    """

    term: str = Field(min_length=1, max_length=20)
    weight: int = Field(ge=0, le=100)


class Catalogue(Model):
    """The payload of a bundle: one published version of the catalogue."""

    schema_id: str = Field(alias="schema")
    version: str = Field(pattern=r"^[0-9A-Za-z._-]{1,40}$")
    serial: int = Field(ge=1, description="strictly increasing with every publication; a "
                        "lower serial than the active one is refused (replay)")
    published_at: datetime
    publisher: str = Field(min_length=1, max_length=80)
    sample_data: bool = Field(False, description="the content is sample data (demo)")
    notice: str = Field("", max_length=300)
    life_events: tuple[LifeEvent, ...] = ()
    synonyms: tuple[tuple[str, ...], ...] = Field((), description="groups of words that mean "
                                                  "the same (低保 ↔ 最低生活保障)")
    hot_terms: tuple[HotTerm, ...] = ()
    items: tuple[Item, ...] = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _references(self) -> Catalogue:
        if self.schema_id != SCHEMA_ID:
            raise ValueError(f"schema {self.schema_id!r} is not {SCHEMA_ID!r}, the one this "
                             "kiosk understands; update the kiosk software or publish for it")
        seen: set[str] = set()
        for item in self.items:
            if item.code in seen:
                raise ValueError(f"item code {item.code} appears twice")
            seen.add(item.code)
        events = {event.id for event in self.life_events}
        if len(events) != len(self.life_events):
            raise ValueError("life event ids are not unique")
        for item in self.items:
            unknown = [e for e in item.life_events if e not in events]
            if unknown:
                raise ValueError(f"item {item.code} names unknown life events {unknown}; "
                                 f"known: {sorted(events)}")
        for group in self.synonyms:
            if len(group) < 2 or any(not word.strip() for word in group):
                raise ValueError(f"synonym group {list(group)} needs two or more words")
        return self

    def get(self, code: str) -> Item | None:
        for item in self.items:
            if item.code == code:
                return item
        return None

    def dump(self) -> dict:
        """JSON-ready dict with ``schema`` as the key (the bundle's form)."""
        return self.model_dump(mode="json", by_alias=True)

"""Layouts as data, and the renderer that fills them in.

A :class:`Layout` is a tuple of specs (``T`` text, ``Q`` QR code, ``B`` barcode, ``Img`` image,
``Each`` repetition over a list, ``Table`` columns) plus the static blocks of
:mod:`drivers.printer.document` (``Rule``, ``Feed``, ``Cut``). Templates use ``str.format``
syntax over a mapping of fields (``"{hall_name}"``, ``"{item[name]}"``); a missing field renders
as an empty string and any spec with ``when="field"`` is skipped unless that field is truthy.

Masking is not done here: the slip builders in :mod:`kiosk.printing.slips` decide what each
field holds. A layout never sees a raw ID number unless the document itself requires it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drivers.printer.document import (
    Align,
    Barcode,
    Block,
    Cut,
    Document,
    Feed,
    Image,
    QrCode,
    Rule,
    Text,
)
from drivers.printer.fonts import text_width

#: characters per line at size 1 (12-dot columns): what the table layout pads to
COLUMNS = {58: 32, 80: 48}


@dataclass(frozen=True)
class T:
    """A text paragraph from a template."""

    template: str
    size: int = 1
    align: Align = "left"
    bold: bool = False
    when: str | None = None


@dataclass(frozen=True)
class Q:
    """A QR code whose payload is a template (usually one field)."""

    template: str
    module_size: int = 6
    ec: str = "M"
    when: str | None = None


@dataclass(frozen=True)
class B:
    template: str
    symbology: str = "CODE128"
    when: str | None = None


@dataclass(frozen=True)
class Img:
    """An image from a ``bytes`` field holding a PNG (the hall or host logo)."""

    field: str
    when: str | None = None


@dataclass(frozen=True)
class Each:
    """Repeat ``blocks`` for every element of the list ``field``; inside, ``{item}`` is the
    element (``{item[key]}`` for a mapping) and ``{index}`` counts from 1."""

    field: str
    blocks: tuple[Spec, ...]
    when: str | None = None


@dataclass(frozen=True)
class Table:
    """Rows (sequences of strings) from ``field`` under ``header``, in columns whose widths are
    fractions of the paper width (equal when not given); a CJK character counts as two
    columns. Without ``header`` the header comes from the field ``<field>_header``."""

    field: str
    header: tuple[str, ...] = ()
    widths: tuple[float, ...] = ()
    when: str | None = None


Spec = T | Q | B | Img | Each | Table | Rule | Feed | Cut


@dataclass(frozen=True)
class Layout:
    name: str
    title: str  # goes into Document.title and logs: never personal data
    blocks: tuple[Spec, ...]


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


class _Formatter(string.Formatter):
    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, str):
            return kwargs.get(key, "")
        return super().get_value(key, args, kwargs)

    def get_field(self, field_name: str, args: Sequence[Any],
                  kwargs: Mapping[str, Any]) -> tuple[Any, str]:
        try:
            return super().get_field(field_name, args, kwargs)
        except (KeyError, IndexError, AttributeError, TypeError):
            return "", field_name


_formatter = _Formatter()


def fill(template: str, fields: Mapping[str, Any]) -> str:
    """``template`` with ``fields`` substituted; unknown fields become empty."""
    return _formatter.vformat(template, (), _Fields(fields))


def pad(text: str, columns: int) -> str:
    """Cut or pad ``text`` to ``columns`` display columns (CJK counts 2)."""
    out = ""
    for ch in text:
        if text_width(out + ch) > columns * 12:
            break
        out += ch
    return out + " " * max(0, columns - text_width(out) // 12)


def render(layout: Layout, fields: Mapping[str, Any], paper_width_mm: int = 58) -> Document:
    """Fill ``layout`` with ``fields`` and return the printable :class:`Document`."""
    blocks: list[Block] = []
    _render(layout.blocks, dict(fields), blocks, COLUMNS[paper_width_mm])
    return Document(tuple(blocks), title=layout.title)


def _render(specs: Sequence[Spec], fields: dict[str, Any], out: list[Block], cols: int) -> None:
    for spec in specs:
        when = getattr(spec, "when", None)
        if when and not fields.get(when):
            continue
        if isinstance(spec, T):
            text = fill(spec.template, fields)
            if text.strip():
                out.append(Text(text, spec.size, spec.align, spec.bold))
        elif isinstance(spec, Q):
            data = fill(spec.template, fields)
            if data:
                out.append(QrCode(data, spec.module_size, spec.ec))  # type: ignore[arg-type]
        elif isinstance(spec, B):
            data = fill(spec.template, fields)
            if data:
                out.append(Barcode(data, spec.symbology))  # type: ignore[arg-type]
        elif isinstance(spec, Img):
            png = fields.get(spec.field)
            if png:
                out.append(Image(bytes(png)))
        elif isinstance(spec, Each):
            for index, item in enumerate(fields.get(spec.field) or (), start=1):
                _render(spec.blocks, {**fields, "item": item, "index": index}, out, cols)
        elif isinstance(spec, Table):
            out.extend(_table(spec, fields, cols))
        else:
            out.append(spec)


def _table(spec: Table, fields: Mapping[str, Any], cols: int) -> list[Block]:
    rows = [tuple(str(c) for c in row) for row in fields.get(spec.field) or ()]
    header = tuple(spec.header or fields.get(f"{spec.field}_header") or ())
    count = max([len(header), *(len(r) for r in rows)], default=0)
    if not count:
        return []
    fractions = spec.widths or tuple(1 / count for _ in range(count))
    widths = [max(2, int(cols * f)) for f in fractions[:count]]

    def line(row: Sequence[str]) -> str:
        return "".join(pad(c, w) for c, w in zip(row, widths, strict=False)).rstrip()

    blocks: list[Block] = []
    if header:
        blocks += [Rule(), Text(line(header), bold=True), Rule()]
    if rows:
        blocks.append(Text("\n".join(line(row) for row in rows)))
    return blocks

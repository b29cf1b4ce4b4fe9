"""Device-independent print documents.

A :class:`Document` is a tuple of blocks. Layouts (``kiosk.printing``) build documents; a
printer backend turns them into bytes (ESC/POS) or text (the fake). Documents may carry
personal data (a name on a proof, a code): never log a document, log its ``title``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Text:
    """A paragraph. ``size`` is the magnification 1..4 (width and height), newlines allowed."""

    text: str
    size: int = 1
    align: Align = "left"
    bold: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.size <= 4:
            raise ValueError(f"text size must be 1..4, not {self.size}")
        if self.align not in ("left", "center", "right"):
            raise ValueError(f"bad align {self.align!r}")

    def __repr__(self) -> str:  # may be personal data
        return f"Text(<{len(self.text)} chars>, size={self.size}, align={self.align!r})"


@dataclass(frozen=True)
class QrCode:
    """A QR code, printed centred. ``module_size`` in dots (1..16), ``ec`` one of L M Q H."""

    data: str
    module_size: int = 6
    ec: Literal["L", "M", "Q", "H"] = "M"

    def __post_init__(self) -> None:
        if not 1 <= self.module_size <= 16:
            raise ValueError(f"QR module size must be 1..16, not {self.module_size}")
        if self.ec not in ("L", "M", "Q", "H"):
            raise ValueError(f"bad QR error correction {self.ec!r}")

    def __repr__(self) -> str:
        return f"QrCode(<{len(self.data)} chars>, module_size={self.module_size}, ec={self.ec!r})"


@dataclass(frozen=True)
class Barcode:
    """A 1-D barcode, printed centred with its human-readable text below."""

    data: str
    symbology: Literal["CODE128", "CODE39", "EAN13"] = "CODE128"

    def __repr__(self) -> str:
        return f"Barcode(<{len(self.data)} chars>, {self.symbology})"


@dataclass(frozen=True)
class Image:
    """A PNG image, scaled down to the paper width if wider, dithered to black and white."""

    png: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Image(<{len(self.png)} bytes>)"


@dataclass(frozen=True)
class Rule:
    """A full-width horizontal line made of ``char``."""

    char: str = "-"


@dataclass(frozen=True)
class Feed:
    """Blank lines."""

    lines: int = 1


@dataclass(frozen=True)
class Cut:
    """Feed past the cutter and cut (partial cut on printers that can)."""


Block = Text | QrCode | Barcode | Image | Rule | Feed | Cut


@dataclass(frozen=True)
class Document:
    """What gets printed. ``title`` is personal-data-free ("排队小票") and goes to logs."""

    blocks: tuple[Block, ...]
    title: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.blocks, tuple):
            object.__setattr__(self, "blocks", tuple(self.blocks))

    def __repr__(self) -> str:
        return f"Document({self.title!r}, {len(self.blocks)} blocks)"


__all__ = ["Align", "Barcode", "Block", "Cut", "Document", "Feed", "Image", "QrCode", "Rule",
           "Text"]

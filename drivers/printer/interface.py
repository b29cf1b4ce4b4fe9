"""The printer contract: status, events, errors and the abstract :class:`Printer`."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from drivers.base import Device, DeviceError, DeviceEvent
from drivers.printer.document import Document


class PaperLevel(enum.StrEnum):
    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PrinterStatus:
    """Last known printer condition. ``None`` means "the printer did not say" (never "fine")."""

    online: bool | None = None
    paper: PaperLevel = PaperLevel.UNKNOWN
    cover_open: bool | None = None
    cutter_error: bool | None = None
    error: bool | None = None

    @classmethod
    def ok(cls) -> PrinterStatus:
        return cls(online=True, paper=PaperLevel.OK, cover_open=False, cutter_error=False,
                   error=False)

    @classmethod
    def unknown(cls) -> PrinterStatus:
        return cls()

    @property
    def can_print(self) -> bool:
        """True only when everything is known to be fine (near end still prints)."""
        return (self.online is True
                and self.paper in (PaperLevel.OK, PaperLevel.NEAR_END)
                and self.cover_open is False
                and self.cutter_error is False
                and self.error is not True)

    @property
    def reason(self) -> str:
        """Short plain-Chinese explanation for the UI and technicians ("" when all is well)."""
        if self.online is None and self.paper is PaperLevel.UNKNOWN:
            return "打印机无响应"
        if self.paper is PaperLevel.OUT:
            return "打印纸已用完"
        if self.cover_open:
            return "打印机盖未关好"
        if self.cutter_error:
            return "切纸刀故障"
        if self.online is False:
            return "打印机离线"
        if self.error:
            return "打印机故障"
        if self.online is None or self.paper is PaperLevel.UNKNOWN or self.cover_open is None \
                or self.cutter_error is None:
            return "打印机状态未知"
        if self.paper is PaperLevel.NEAR_END:
            return "打印纸即将用完"
        return ""

    def as_detail(self) -> dict[str, object]:
        """Flat dict for ``DeviceHealth.detail`` and telemetry."""
        return {"online": self.online, "paper": self.paper.value, "cover_open": self.cover_open,
                "cutter_error": self.cutter_error, "error": self.error,
                "can_print": self.can_print}


@dataclass(frozen=True)
class PrinterStatusChanged(DeviceEvent):
    status: PrinterStatus


@dataclass(frozen=True)
class PrintJobFinished(DeviceEvent):
    job_id: str
    ok: bool
    reason: str = ""


class PrinterError(DeviceError):
    """A transient failure (connection dropped, write timed out): a retry may help."""


class PrintRefused(DeviceError):
    """The printer cannot print now (paper out, cover open, offline); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Printer(Device):
    """Abstract thermal printer. Subclasses implement :meth:`print_document`."""

    kind: ClassVar[str] = "printer"

    def print_document(self, doc: Document) -> str:
        """Print ``doc`` and return the job id. Blocking: call it from a worker thread.

        Raises :class:`PrintRefused` when the printer cannot print (nothing was sent) and
        :class:`PrinterError` when sending failed.
        """
        raise NotImplementedError

    def status(self) -> PrinterStatus:
        """The last known status (does not talk to the printer)."""
        raise NotImplementedError

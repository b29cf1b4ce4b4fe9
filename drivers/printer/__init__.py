"""Thermal receipt printers (ESC/POS) behind one interface.

``BACKENDS`` maps the config ``type`` to the driver class, imported lazily by
:mod:`drivers.registry`: ``fake`` (in-process, records documents) and ``escpos`` (serial, USB or
TCP 9100 printers speaking ESC/POS).
"""

from drivers.printer.document import (
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
from drivers.printer.interface import (
    PaperLevel,
    Printer,
    PrinterError,
    PrinterStatus,
    PrinterStatusChanged,
    PrintJobFinished,
    PrintRefused,
)

BACKENDS: dict[str, str] = {
    "fake": "drivers.printer.fake:FakePrinter",
    "escpos": "drivers.printer.escpos_driver:EscposPrinter",
}

__all__ = [
    "BACKENDS",
    "Barcode",
    "Block",
    "Cut",
    "Document",
    "Feed",
    "Image",
    "PaperLevel",
    "PrintJobFinished",
    "PrintRefused",
    "Printer",
    "PrinterError",
    "PrinterStatus",
    "PrinterStatusChanged",
    "QrCode",
    "Rule",
    "Text",
]

"""Real-time status over ``DLE EOT n`` (PROTOCOLS.md §7), decoded without guessing.

Every reply byte has bits 1 and 4 set and bits 0 and 7 clear; anything else is not a status
reply. A missing reply leaves the matching fields ``None``: no answer is never "OK".
"""

from __future__ import annotations

from drivers.printer import commands as cmd
from drivers.printer.interface import PaperLevel, PrinterStatus

#: all four queries in one write; the printer answers them in order, one byte each
QUERY = b"".join(cmd.status_query(n) for n in (1, 2, 3, 4))


def is_status_byte(value: int) -> bool:
    return value & 0x93 == 0x12


def decode(replies: bytes) -> PrinterStatus:
    """Status from the replies to :data:`QUERY` (``replies[0]`` answers ``n=1`` …)."""
    values: list[int | None] = [None, None, None, None]
    for i, value in enumerate(replies[:4]):
        if not is_status_byte(value):
            break  # out of step: trust nothing after it
        values[i] = value
    n1, n2, n3, n4 = values
    if n1 is None:
        return PrinterStatus.unknown()
    online = not n1 & 0x08
    cover_open = bool(n2 & 0x04) if n2 is not None else None
    if n4 is not None:
        paper = (PaperLevel.OUT if n4 & 0x60 else
                 PaperLevel.NEAR_END if n4 & 0x0C else PaperLevel.OK)
    elif n2 is not None:  # no paper sensor query support: the offline cause still tells "out"
        paper = PaperLevel.OUT if n2 & 0x20 else PaperLevel.OK
    else:
        paper = PaperLevel.UNKNOWN
    if n2 is not None and n2 & 0x20:
        paper = PaperLevel.OUT
    cutter_error = bool(n3 & 0x08) if n3 is not None else None
    error: bool | None = None
    if n2 is not None or n3 is not None:
        error = bool((n2 or 0) & 0x40) or bool((n3 or 0) & 0x60)
    return PrinterStatus(online=online, paper=paper, cover_open=cover_open,
                         cutter_error=cutter_error, error=error)

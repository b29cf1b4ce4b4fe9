"""A queue :class:`Ticket` as the printing package's :class:`~kiosk.printing.QueueTicket`.

The screen prints what it shows: number, category and the hall area where its windows are,
people ahead and the estimated wait (unknown for an offline ticket), the masked name of an
appointment holder. Nothing else about the resident reaches the paper.
"""

from __future__ import annotations

from kiosk.printing.slips import QueueTicket
from kiosk.queue.models import Ticket


def ticket_slip(ticket: Ticket, hall_name: str, follow_url: str = "") -> QueueTicket:
    service = ticket.category_name + (f"（{ticket.area}）" if ticket.area else "")
    return QueueTicket(hall_name=hall_name, number=ticket.number, service=service,
                       people_ahead=ticket.people_ahead or 0,
                       estimated_wait_min=ticket.estimated_wait_min,
                       issued_at=ticket.issued_at, follow_url=follow_url,
                       holder_name=ticket.holder)

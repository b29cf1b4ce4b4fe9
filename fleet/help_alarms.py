"""The fleet's rule for 帮办 calls (issue #15, contract in docs/mqtt.md "帮办 calls").

A ``help`` event with state ``requested`` opens a call at a terminal. When neither an
``acknowledged`` nor a ``done`` (nor ``cancelled``) event for the same ``help_id`` arrived
within the call's ``unanswered_alarm_s`` after the event's own ``ts``, a ``help_unanswered``
alarm (key = ``help_id``) is raised; it clears when an answer arrives. An operator who goes to
the terminal acknowledges the alarm on the console (the usual alarm lifecycle). Run by the
alarm timer (:func:`fleet.services.alarms.evaluate_all`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet.models import Event, Terminal
from fleet.services.alarms import Change, clear_alarm, open_alarm, raise_alarm

TYPE = "help_unanswered"
ANSWERS = ("acknowledged", "done", "cancelled")
#: calls older than this are no longer looked at (their alarm, if any, stays until handled)
HORIZON_MS = 24 * 3600 * 1000


def evaluate_help_calls(session: Session, now: int, changes: list[Change]) -> None:
    calls: dict[tuple[str, str], Event] = {}
    answered: set[tuple[str, str]] = set()
    for event in session.scalars(select(Event).where(Event.name == "help",
                                                     Event.ts >= now - HORIZON_MS)):
        data = event.data or {}
        key = (event.terminal, str(data.get("help_id", "")))
        if not key[1]:
            continue
        if data.get("state") == "requested":
            calls[key] = event
        elif data.get("state") in ANSWERS:
            answered.add(key)
    for (terminal, help_id), event in calls.items():
        data = event.data or {}
        if (terminal, help_id) in answered:
            if open_alarm(session, terminal, TYPE, help_id) is not None:
                clear_alarm(session, terminal, TYPE, now, key=help_id, changes=changes)
            continue
        limit = int(data.get("unanswered_alarm_s") or 120) * 1000
        if now - event.ts < limit:
            continue
        term = session.get(Terminal, terminal)
        region = term.region_code if term is not None else ""
        place = str(data.get("place", ""))[:100]
        raise_alarm(session, (terminal, region), TYPE,
                    f"帮办 call not acknowledged within {limit // 1000} s at {place}", now,
                    key=help_id, changes=changes)

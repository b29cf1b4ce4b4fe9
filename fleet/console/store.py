"""The console's own table: notes written when an operator acknowledges an alarm.

The service layer's ``alarms.acknowledge`` records who and when; the issue also asks for a
note, which the alarms table has no column for. The console keeps it in
``console_alarm_notes`` (``fleet.models.AlarmNote``, Alembic revision 0005); the note is
also written to the server log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fleet.models import AlarmNote

alarm_notes = AlarmNote.__table__


def add_alarm_note(session: Session, alarm_id: int, user: str, note: str, now: int) -> None:
    session.execute(insert(alarm_notes).values(alarm_id=alarm_id, at=now, user=user,
                                               note=note[:2000]))


def alarm_notes_for(session: Session, alarm_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    if not alarm_ids:
        return out
    for row in session.execute(select(alarm_notes).where(alarm_notes.c.alarm_id.in_(alarm_ids))
                               .order_by(alarm_notes.c.id)):
        out.setdefault(row.alarm_id, []).append({"at": row.at, "user": row.user,
                                                 "note": row.note})
    return out

"""The console's own table: notes written when an operator acknowledges an alarm.

The service layer's ``alarms.acknowledge`` records who and when; the issue also asks for a
note, which the fleet schema has no column for. The console keeps it here, in a table of its
own metadata (not in the fleet's Alembic chain), created on first use; the note is also
written to the server log. See docs/console.md ("Deviations").
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text, insert, select
from sqlalchemy.orm import Session

metadata = MetaData()
alarm_notes = Table(
    "console_alarm_notes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alarm_id", Integer, index=True, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("user", String(64), nullable=False),
    Column("note", Text, nullable=False),
)
_ready: set[int] = set()
_lock = threading.Lock()


def ensure_tables(engine: Any) -> None:
    with _lock:
        if id(engine) not in _ready:
            metadata.create_all(engine, checkfirst=True)
            _ready.add(id(engine))


def add_alarm_note(session: Session, alarm_id: int, user: str, note: str, now: int) -> None:
    ensure_tables(session.get_bind())
    session.execute(insert(alarm_notes).values(alarm_id=alarm_id, at=now, user=user,
                                               note=note[:2000]))


def alarm_notes_for(session: Session, alarm_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    ensure_tables(session.get_bind())
    out: dict[int, list[dict[str, Any]]] = {}
    if not alarm_ids:
        return out
    for row in session.execute(select(alarm_notes).where(alarm_notes.c.alarm_id.in_(alarm_ids))
                               .order_by(alarm_notes.c.id)):
        out.setdefault(row.alarm_id, []).append({"at": row.at, "user": row.user,
                                                 "note": row.note})
    return out

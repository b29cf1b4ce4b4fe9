"""The queue's SQLite file: connection settings and schema.

WAL journal so readers (status, the calling display, a staff CLI in another process) never
block the writer; ``BEGIN IMMEDIATE`` for every change so two processes issuing at once
serialise on SQLite's write lock instead of failing; ``synchronous`` from the settings
(``full`` by default: see :class:`config.queue.QueueSettings`). The ``UNIQUE(day,
category, number)`` constraint is the last line of defence against a number given twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from kiosk.queue.lane import FRONT

#: 1: the first schema; 2: ``tickets.place`` (the order of call after a transfer, see
#: :mod:`kiosk.queue.lane`) and ``lane_counters``. A program refuses a file of a newer version.
SCHEMA_VERSION = 2
BUSY_TIMEOUT_S = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    day TEXT NOT NULL, category TEXT NOT NULL,
    last INTEGER NOT NULL,          -- last number issued by the server's own counter
    issued INTEGER NOT NULL,        -- tickets of the day, all sources (capacity)
    PRIMARY KEY (day, category)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tickets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    request_id TEXT UNIQUE,         -- idempotency key of the issuing request
    day TEXT NOT NULL, category TEXT NOT NULL, number INTEGER NOT NULL,
    priority INTEGER NOT NULL, state TEXT NOT NULL,
    holder TEXT NOT NULL DEFAULT '', -- masked name only
    terminal TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,           -- online | offline | appointment
    appointment TEXT,
    issued_at REAL NOT NULL, called_at REAL, finished_at REAL,
    window TEXT, call_request TEXT UNIQUE,
    serve_category TEXT,            -- the queue it waits in after a transfer (NULL: category)
    target_window TEXT,             -- transferred to one window
    place REAL,                     -- order within its lane: issue time, or see kiosk.queue.lane
    UNIQUE (day, category, number));
CREATE INDEX IF NOT EXISTS tickets_queue ON tickets (day, category, state, priority, issued_at);
CREATE INDEX IF NOT EXISTS tickets_history ON tickets (category, state, finished_at);
CREATE INDEX IF NOT EXISTS tickets_window ON tickets (day, window, state);
CREATE INDEX IF NOT EXISTS tickets_calls ON tickets (day, called_at);
CREATE TABLE IF NOT EXISTS appointments (
    ref TEXT PRIMARY KEY,
    code TEXT UNIQUE,
    id_hash TEXT NOT NULL DEFAULT '', -- HMAC-SHA256 of the ID number, key outside the database
    holder TEXT NOT NULL DEFAULT '',  -- masked name only
    category TEXT NOT NULL,
    start REAL NOT NULL, day TEXT NOT NULL,
    state TEXT NOT NULL,             -- booked | checked_in | cancelled
    ticket_id TEXT, imported_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS appointments_person ON appointments (id_hash, day);
CREATE TABLE IF NOT EXISTS lane_counters (
    day TEXT NOT NULL, window TEXT NOT NULL,
    regular INTEGER NOT NULL,       -- regular calls since the window's last priority call
    PRIMARY KEY (day, window)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS window_overrides (
    window TEXT NOT NULL, day TEXT NOT NULL, categories TEXT NOT NULL,
    PRIMARY KEY (window, day)) WITHOUT ROWID;
"""


def connect(path: Path | str, synchronous: str = "full", schema: str = SCHEMA,
            migrate: Callable[[sqlite3.Connection], None] | None = None) -> sqlite3.Connection:
    """Open (creating if needed) a queue database in WAL mode with the schema in place.

    ``migrate`` brings an older file's tables up to date inside the same ``BEGIN IMMEDIATE``
    transaction (all or nothing, one process at a time). It must look at the tables, not at
    ``user_version``: the hall's tables share the file and its version number."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                           check_same_thread=False)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"{path}: cannot use WAL journal (got {mode}); the "
                                           "queue needs a local file system")
        conn.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise sqlite3.OperationalError(
                    f"{path} was written by a newer version (schema {version}, this program "
                    f"knows {SCHEMA_VERSION}): upgrade the program, do not edit the file")
            for statement in schema.split(";"):
                if statement.strip():
                    conn.execute(statement)
            if migrate is not None:
                migrate(conn)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    return conn


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def migrate_tickets(conn: sqlite3.Connection) -> None:
    """Schema 1 → 2 (idempotent): transfers' columns, and ``place``. Waiting tickets an old
    version sent to a window were that window's next call: they get a place at the front."""
    add_columns(conn, "tickets", {"serve_category": "TEXT", "target_window": "TEXT"})
    if "place" not in columns(conn, "tickets"):
        conn.execute("ALTER TABLE tickets ADD COLUMN place REAL")
        conn.execute("UPDATE tickets SET place = CASE WHEN state = 'waiting' AND target_window "
                     f"IS NOT NULL THEN issued_at - {FRONT!r} ELSE issued_at END")
    # a process of the previous version that had the file open before the upgrade still
    # inserts without a place: the ticket then queues by its issue time
    conn.execute("CREATE TRIGGER IF NOT EXISTS tickets_place_default AFTER INSERT ON tickets "
                 "WHEN NEW.place IS NULL BEGIN UPDATE tickets SET place = NEW.issued_at "
                 "WHERE seq = NEW.seq; END")
    conn.execute("DROP INDEX IF EXISTS tickets_serve")
    conn.execute("CREATE INDEX IF NOT EXISTS tickets_place ON tickets "
                 "(day, COALESCE(serve_category, category), state, priority, place)")


def add_columns(conn: sqlite3.Connection, table: str, columns: dict[str, str]) -> None:
    """Add missing nullable columns (an older file gains them; existing rows read NULL)."""
    have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
    for name, kind in columns.items():
        if name not in have:
            try:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
            except sqlite3.OperationalError as exc:  # another process added it meanwhile
                if "duplicate column" not in str(exc):
                    raise

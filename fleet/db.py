"""Database set-up: SQLite (WAL) as the embedded default, PostgreSQL (psycopg 3) for a city.

    db = Database("sqlite:///fleet.db")        # or "postgresql://fleet@127.0.0.1:5432/fleet"
    db.upgrade()                               # Alembic: migrate to head
    with db.session() as s:                    # commits on success, rolls back on error
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def engine_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 (SQLAlchemy would pick psycopg2 otherwise)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = engine_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False},
                               **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine_url(url).replace("%", "%%"))
    return config


class Database:
    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name  # "sqlite" | "postgresql"

    def upgrade(self) -> None:
        """Create or migrate the schema to the newest Alembic revision."""
        from alembic import command

        config = alembic_config(self.url)
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def ingest_lock(self) -> Iterator[None]:
        """SQLite: one ingest transaction at a time across the processes on this file,
        through an OS file lock beside it, taken before ``BEGIN IMMEDIATE``. SQLite's own
        busy handler waits in sleeps of up to 100 ms, so a worker waiting on the other's
        commit lost most of its time sleeping; the file lock wakes it at the release (and
        the kernel releases it when a worker dies). PostgreSQL: nothing (row locks)."""
        path = self.sqlite_path
        if path is None:
            yield
            return
        import fcntl

        with open(f"{path}-ingest.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @property
    def sqlite_path(self) -> str | None:
        """The database file of a file-based SQLite URL (``None`` otherwise)."""
        if self.dialect != "sqlite":
            return None
        database = self.engine.url.database
        return database if database and database != ":memory:" else None

    def dispose(self) -> None:
        self.engine.dispose()

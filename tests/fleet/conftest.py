"""Fleet server fixtures: a real PostgreSQL for the session, a database per test on SQLite
and on PostgreSQL (``fleet_db`` is parametrised: every test using it runs on both)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from fleet.auth import Principal
from fleet.db import Database
from fleet.ingest import Ingestor, Message
from fleet.settings import Settings
from fleet.testing import PostgresServer


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer() as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fleet.db'}"
    return request.getfixturevalue("postgres").database()


@pytest.fixture
def fleet_db(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(db=db_url)


class Feeder:
    """Feeds payloads through the real ingest core, as the worker would."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.ingestor = Ingestor(db, settings, worker="test")
        self.now = 1_765_000_000_000

    def __call__(self, topic: str, payload: Any, *, received: int | None = None,
                 retained: bool = False) -> Any:
        raw = payload if isinstance(payload, bytes) else json.dumps(
            payload, ensure_ascii=False).encode()
        return self.ingestor.process([Message(topic, raw, received or self.now, retained, 1)])

    def many(self, items: list[tuple[str, Any]], received: int | None = None) -> Any:
        return self.ingestor.process([Message(t, json.dumps(p).encode(), received or self.now,
                                              False, 1) for t, p in items])


@pytest.fixture
def feed(fleet_db: Database, settings: Settings) -> Feeder:
    return Feeder(fleet_db, settings)


ADMIN = Principal("admin", "admin")
VIEWER = Principal("viewer", "viewer")
OPERATOR = Principal("operator", "operator")
EVALUATOR = Principal("evaluator", "evaluator")

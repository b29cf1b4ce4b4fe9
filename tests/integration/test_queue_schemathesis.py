"""Property-based test of the hall server's OpenAPI (schemathesis) against the live server on
loopback, with a kiosk key and an admin's staff session: no 5xx, and every response (status,
content type, headers, body) conforms to the description."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from kiosk.queue import QueueEngine, QueueHttpServer, QueueSettings

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("fuzz")
    engine = QueueEngine(folder / "db" / "hall.sqlite",
                         QueueSettings(synchronous="normal", checkin_per_min=600),
                         key_path=folder / "secret" / "id.key")
    with QueueHttpServer(engine, speech_dir=folder / "speech") as server:
        key = server.hall.add_terminal("K-0001")
        server.hall.add_staff("boss", "password-a", ["1", "2", "3", "4"], role="admin")
        login = httpx.post(f"{server.url}/api/v1/session",
                           json={"name": "boss", "password": "password-a"})
        token = login.cookies["kq_session"]
        for category in "ABCD":  # something to call, serve and look up
            for _ in range(3):
                httpx.post(f"{server.url}/api/v1/tickets", json={"category": category},
                           headers={"X-Api-Key": key})
        yield {"url": server.url, "headers": {
            "X-Api-Key": key, "X-CSRF-Token": login.json()["csrf"],
            "Cookie": f"kq_session={token}"}}
    engine.close()


@pytest.fixture(scope="module")
def api_schema(live: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_url(f"{live['url']}/openapi.json")


def test_the_api_conforms_to_its_openapi(api_schema: Any, live: dict[str, Any]) -> None:
    """Every operation, fuzzed with hypothesis (valid and invalid input), checked by every
    schemathesis check. (schemathesis' pytest plugin does not run under pytest 9 yet, so the
    operations are driven here with its Python API.)"""
    failures: list[str] = []
    ran = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        # derandomized: the same examples on every run, so CI is repeatable;
        # KIOSK_FUZZ_RANDOM=1 explores new ones while developing
        @settings(max_examples=25, deadline=None, database=None,
                  derandomize=not os.environ.get("KIOSK_FUZZ_RANDOM"),
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: Any) -> None:
            case.call_and_validate(base_url=live["url"], headers=dict(live["headers"]))

        try:
            fuzz()
        except Exception as exc:  # collect them all, then fail with every finding
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:3000])
        ran += 1
    assert ran >= 24
    assert not failures, "\n\n".join(failures)
    # the credentials were used: staff actions and kiosk issues went through
    calls = httpx.get(f"{live['url']}/api/v1/calls?limit=100", headers=live["headers"]).json()
    assert calls and {c["kind"] for c in calls} <= {"call", "recall"}
    tiles = httpx.get(f"{live['url']}/api/v1/categories", headers=live["headers"]).json()
    assert sum(t["capacity_left"] for t in tiles) < 4 * 300 - 12


def test_the_fuzz_covered_every_operation(api_schema: Any) -> None:
    """The description is not empty and names the three credentials."""
    raw = api_schema.raw_schema
    assert len(raw["paths"]) >= 20
    schemes = raw["components"]["securitySchemes"]
    assert {"kioskKey", "kioskBearer", "staffSession", "csrf"} <= set(schemes)


def test_files_outside_the_api_are_not_described(live: dict[str, Any]) -> None:
    spec = httpx.get(f"{live['url']}/openapi.json").json()
    # the pages and streams (/staff, /display, /t/...) are HTML and event streams, not API
    assert not [p for p in spec["paths"] if not p.startswith("/api/v1/")]

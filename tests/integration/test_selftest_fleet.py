"""The self-test's round trip through the fleet, on real parts: a TLS mosquitto whose ACL the
enrolment wrote, `kiosk-fleet serve` with its ingest worker and command key, a terminal enrolled
with `kiosk-provision enrol`. The terminal's nonce goes up as an event, is stored, and comes back
as a signed `selftest_echo` the kiosk's verifier accepts; a wrong key or a silent fleet fails
with what to fix. Both paths: the command line's own client, and the running kiosk's reporter
(what the maintenance screen uses)."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fleet_stack import TERMINAL, Stack, enrol, fleet_stack, terminal_dir

from config import load_config
from fleet.commands import new_key, public_b64
from provisioning.selftest_fleet import check_fleet, live_round_trip

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with fleet_stack(tmp_path_factory.mktemp("selftest-fleet")) as built:
        built.wait_ingest_subscribed()
        yield built


@pytest.fixture(scope="module")
def enrolled(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = terminal_dir(tmp_path_factory.mktemp("terminal"))
    result = enrol(folder, "--fleet", stack.url, "--token", stack.token())
    assert result.returncode == 0, result.stdout + result.stderr
    return load_config("hall", folder / "kiosk.toml", env={})


def _rows(stack: Stack, sql: str) -> list[tuple]:
    with sqlite3.connect(stack.dir / "fleet.db") as db:
        return db.execute(sql).fetchall()


def _selftest_nonces(stack: Stack) -> list[str]:
    rows = _rows(stack, "SELECT data FROM events WHERE name = 'selftest' AND terminal = "
                        f"'{TERMINAL}'")
    return [json.loads(data)["nonce"] for (data,) in rows]


def test_the_command_line_round_trip_is_echoed_after_the_fleet_stored_it(
        stack: Stack, enrolled: Any) -> None:
    before = _selftest_nonces(stack)
    broker, trip = check_fleet(enrolled, echo_wait_s=20)
    assert broker.outcome == "pass", broker.detail
    assert trip.name == "fleet round trip"
    assert trip.outcome == "pass", trip.detail
    assert re.fullmatch(r"signed echo after \d+ ms", trip.detail)
    stored = _selftest_nonces(stack)
    assert len(stored) == len(before) + 1  # the echo came after the event was committed
    assert re.fullmatch(r"[0-9a-f]{32}", stored[-1])


def test_an_echo_signed_with_another_key_is_refused(stack: Stack, enrolled: Any) -> None:
    other = public_b64(new_key())
    config = enrolled.model_copy(update={"fleet": enrolled.fleet.model_copy(
        update={"command_keys": [other]})})
    broker, trip = check_fleet(config, echo_wait_s=20)
    assert broker.outcome == "pass"
    assert trip.outcome == "fail"
    assert "the fleet answered, but its echo was refused (bad_signature" in trip.detail
    assert "re-enrol" in trip.detail


def test_the_running_kiosk_round_trip_through_its_reporter(
        stack: Stack, enrolled: Any, tmp_path: Path) -> None:
    """The maintenance screen's path: the event through the outbox, the echo through the
    reporter's verifier into ``RemoteCommands.echoes``; the kiosk reports the echo's result."""
    from kiosk.mainthread import MainThreadHandoff
    from kiosk.telemetry.remote import RemoteCommands
    from kiosk.telemetry.reporter import Reporter

    handoff = MainThreadHandoff()
    remote = RemoteCommands(SimpleNamespace(in_session=False), handoff)
    reporter = Reporter(enrolled, lambda: {}, tmp_path / "outbox.db",
                        command_handler=remote.handle)
    reporter.start()
    try:
        assert reporter.wait_connected(20)
        kiosk = SimpleNamespace(config=enrolled, reporter=reporter, remote=remote)
        broker, trip = live_round_trip(kiosk, echo_wait_s=20)
        assert broker.outcome == "pass"
        assert trip.outcome == "pass", trip.detail
        assert re.fullmatch(r"signed echo after \d+ ms", trip.detail)
        assert reporter.wait_drained(10)  # the echo's own result went up too
    finally:
        reporter.stop()
        handoff.close()


def test_a_silent_fleet_fails_with_what_to_check(stack: Stack, enrolled: Any) -> None:
    """Last in this module: the fleet server (and its ingest) is stopped."""
    stack.server.stop()
    broker, trip = check_fleet(enrolled, echo_wait_s=3)
    assert broker.outcome == "pass"  # the broker still takes the event
    assert trip.outcome == "fail"
    assert trip.detail.startswith("fleet did not answer within 3 s: check that `kiosk-fleet "
                                  "serve`")
    assert "command_key_file" in trip.detail and "kiosk-provision enrol" in trip.detail

"""The CodeScanned event and the fake scanner."""

from __future__ import annotations

import threading

import pytest

from drivers import registry
from drivers.base import DeviceState
from drivers.scanner import CodeScanned, Scanner, mask_payload
from drivers.scanner.fake import FakeScanner

SECRET = "RC:370102198506120037:abcdef"


@pytest.fixture
def scanner():
    dev = FakeScanner()
    events: list = []
    dev.subscribe(events.append)
    dev.events = events
    yield dev
    dev.stop()


def test_code_scanned_repr_masks_payload() -> None:
    event = CodeScanned("scanner", payload=SECRET, source="scanner")
    text = repr(event)
    assert SECRET not in text and "370102" not in text
    assert f"<{len(SECRET)} chars: 'RC'…>" in text
    assert str(event) == text
    assert mask_payload("") == "<0 chars: ''…>"


def test_code_scanned_kind_follows_emitter() -> None:
    assert CodeScanned("camera", payload="x", source="camera").kind == "camera"
    assert CodeScanned("scanner", payload="x").source == "scanner"


def test_start_ready_and_scan(scanner) -> None:
    assert isinstance(scanner, Scanner)
    assert not scanner.scan("early")  # not started
    scanner.start()
    assert scanner.state is DeviceState.READY
    scanner.events.clear()
    assert scanner.scan("T-A005")
    (event,) = scanner.events
    assert isinstance(event, CodeScanned)
    assert (event.kind, event.payload, event.source) == ("scanner", "T-A005", "scanner")


def test_unavailable_drops_scans(scanner) -> None:
    scanner.start()
    scanner.set_available(False, "no answer")
    assert scanner.health().state is DeviceState.UNAVAILABLE
    assert scanner.health().reason == "no answer"
    scanner.events.clear()
    assert not scanner.scan("x")
    assert scanner.events == []
    scanner.set_available(True)
    assert scanner.state is DeviceState.READY
    assert scanner.scan("x")


def test_concurrent_scans_all_delivered(scanner) -> None:
    scanner.start()
    scanner.events.clear()
    threads = [threading.Thread(target=lambda i=i: [scanner.scan(f"{i}-{n}") for n in range(100)])
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
        assert not t.is_alive()
    payloads = {e.payload for e in scanner.events}
    assert len(payloads) == 400


def test_registry_loads_fake() -> None:
    assert isinstance(registry.open_device("scanner", "fake"), FakeScanner)

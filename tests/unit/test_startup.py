"""Start-up: the catalogue after the attract screen, and READY=1 for the supervisor."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest

from config.loader import load_config
from kiosk.cli.ready import notify_ready, process_age_s
from kiosk.core import build_kiosk


def test_the_deferred_start_loads_the_catalogue_on_a_worker(tmp_path: Path) -> None:
    config = load_config("demo", env={})
    config = config.model_copy(update={"storage": config.storage.model_copy(
        update={"data_dir": tmp_path})})
    kiosk = build_kiosk(config)
    try:
        kiosk.start(defer=True)
        assert not kiosk.started.is_set()
        assert not kiosk.catalogue.available  # nothing built on the caller's thread
        kiosk.start_deferred()
        assert kiosk.started.wait(60)
        assert kiosk.catalogue.available and len(kiosk.catalogue.service.view) > 0
    finally:
        kiosk.stop()


def test_ready_is_sent_on_the_notify_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"kiosk-unit-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind("\0" + name)
        listener.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        age = notify_ready()
        message = listener.recv(4096).decode()
    assert message.splitlines()[0] == "READY=1"
    assert "STATUS=attract screen after" in message
    assert 0 < age < 24 * 3600
    assert process_age_s() >= age


def test_no_notify_socket_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify_ready() > 0
    monkeypatch.setenv("NOTIFY_SOCKET", "@nobody-listens-here")
    assert notify_ready() > 0  # logged, not raised: the kiosk runs without systemd too

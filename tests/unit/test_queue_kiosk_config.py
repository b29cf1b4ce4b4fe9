"""The kiosk's side of the hall server: its credential from queue.api_key_file and the phone
ticket page from queue.public_url (or the hall server's URL)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from kiosk.queue import QueueSettings
from kiosk.queue.factory import read_api_key, ticket_page_url


def config(kind: str = "http", url: str = "https://queue.hall.example:8443/api/v1"):  # type: ignore[no-untyped-def]
    return SimpleNamespace(backends=SimpleNamespace(queue=SimpleNamespace(type=kind, url=url)))


def test_the_phone_page_is_on_the_public_url_or_the_hall_server() -> None:
    public = QueueSettings(public_url="https://q.jinan.example/")
    assert ticket_page_url(config(), "ab12", public) == "https://q.jinan.example/t/ab12"
    assert ticket_page_url(config(), "ab12", QueueSettings()) == \
        "https://queue.hall.example:8443/t/ab12"
    assert ticket_page_url(config("embedded", ""), "ab12", QueueSettings()) == ""
    assert ticket_page_url(config(), "a/b", public).endswith("/t/a%2Fb")


def test_the_kiosk_key_is_read_from_a_private_file(tmp_path: Path) -> None:
    assert read_api_key(QueueSettings()) == ""
    key = tmp_path / "queue.key"
    key.write_text("kq_secret\n", encoding="utf-8")
    key.chmod(0o600)
    assert read_api_key(QueueSettings(api_key_file=str(key))) == "kq_secret"
    key.chmod(0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        read_api_key(QueueSettings(api_key_file=str(key)))
    with pytest.raises(ValueError, match="kiosk queue terminal add"):
        read_api_key(QueueSettings(api_key_file=str(tmp_path / "missing.key")))
    empty = tmp_path / "empty.key"
    empty.write_text("", encoding="utf-8")
    empty.chmod(0o600)
    with pytest.raises(ValueError, match="is empty"):
        read_api_key(QueueSettings(api_key_file=str(empty)))

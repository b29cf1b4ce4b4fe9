"""Same-source sync against a real HTTP server on 127.0.0.1 (the reference BundleServer).

New version, unchanged (304, also after a restart), bad signature, truncated download, wrong
schema, server errors, rollback, the "new version" notice, and readers that never see a
half-loaded catalogue while versions change under them.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from config.catalogue import CatalogueSettings
from kiosk.catalogue.bundle import generate_key, gzip_json, public_key_text, sign_payload
from kiosk.catalogue.model import Catalogue
from kiosk.catalogue.runtime import CatalogueRuntime, build_catalogue
from kiosk.catalogue.samples import (
    is_consistent,
    numbered_bundle,
    numbered_version,
    sample_catalogue,
    version_name,
)
from kiosk.catalogue.server import BundleServer

KEY = generate_key()
STRANGER = generate_key()


@pytest.fixture(scope="module")
def base() -> Catalogue:
    return sample_catalogue()


@pytest.fixture(scope="module")
def bundles(base: Catalogue) -> dict[int, bytes]:
    return {n: numbered_bundle(base, n, KEY, drop=n % 3) for n in range(1, 9)}


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with BundleServer() as running:
        yield running


@pytest.fixture
def embedded(tmp_path: Path, bundles: dict[int, bytes]) -> Path:
    path = tmp_path / "embedded.bundle.json"
    path.write_bytes(bundles[1])
    return path


def runtime_for(server: BundleServer, tmp_path: Path, embedded: Path,
                **settings: object) -> CatalogueRuntime:
    config = CatalogueSettings(url=server.url, public_keys=[public_key_text(KEY)],
                               poll_interval_s=3600, timeout_s=5, **settings)
    runtime = build_catalogue(config, tmp_path / "data", embedded=embedded)
    runtime.service.load()
    return runtime


def bundle_files(tmp_path: Path) -> dict[str, bytes]:
    folder = tmp_path / "data" / "catalogue" / "bundles"
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


def test_new_version_is_staged_then_swapped_between_sessions(
        server: BundleServer, tmp_path: Path, embedded: Path, bundles: dict[int, bytes]) -> None:
    runtime = runtime_for(server, tmp_path, embedded)
    assert runtime.view.version == version_name(1)
    etag = server.publish(bundles[2])
    result = runtime.sync_now()
    assert (result.outcome, result.version, result.http_status) == ("updated", version_name(2),
                                                                    200)
    assert server.requests[-1]["if_none_match"] == ""  # nothing installed from here yet
    assert runtime.view.version == version_name(1)  # a session may be running
    assert runtime.birth_record()["pending"] == version_name(2)
    assert runtime.between_sessions()
    record = runtime.birth_record()
    assert (record["version"], record["serial"], record["pending"]) == (
        version_name(2), bundles and numbered_version(sample_catalogue(), 2).serial, None)
    assert record["offered"] == 93 - 2
    assert runtime.service.store.etag_for(server.url) == etag


def test_unchanged_is_a_304_and_the_etag_survives_a_restart(
        server: BundleServer, tmp_path: Path, embedded: Path, bundles: dict[int, bytes]) -> None:
    etag = server.publish(bundles[2])
    runtime = runtime_for(server, tmp_path, embedded)
    assert runtime.sync_now().outcome == "updated"
    result = runtime.sync_now()
    assert (result.outcome, result.http_status) == ("unchanged", 304)
    assert server.requests[-1] == {"path": "/catalogue/v1/bundle", "if_none_match": etag,
                                   "status": 304}
    restarted = runtime_for(server, tmp_path, embedded)  # power cut, new process
    assert restarted.view.version == version_name(2)
    assert restarted.sync_now().outcome == "unchanged"
    assert server.requests[-1]["status"] == 304


def test_bad_signature_is_refused_and_the_old_version_stays(
        server: BundleServer, tmp_path: Path, embedded: Path, bundles: dict[int, bytes],
        base: Catalogue) -> None:
    runtime = runtime_for(server, tmp_path, embedded, )
    server.publish(bundles[2])
    runtime.sync_now()
    runtime.between_sessions()
    on_disk = bundle_files(tmp_path)

    server.publish(numbered_bundle(base, 3, STRANGER))  # signed, but not by the platform
    result = runtime.sync_now()
    assert (result.outcome, result.reason) == ("refused", "unknown_key")

    envelope = json.loads(bundles[3])  # the platform's bundle, altered on the way
    envelope["payload"] = envelope["payload"][:-8] + "AAAAAAA="
    server.publish(json.dumps(envelope).encode())
    result = runtime.sync_now()
    assert (result.outcome, result.reason) == ("refused", "signature")
    assert "does not verify" in result.detail

    assert runtime.view.version == version_name(2) and runtime.service.pending is None
    assert bundle_files(tmp_path) == on_disk
    assert runtime.service.status()["last_sync"]["reason"] == "signature"
    server.publish(bundles[3])
    assert runtime.sync_now().outcome == "updated"


def test_truncated_download_is_refused_and_nothing_is_written(
        server: BundleServer, tmp_path: Path, embedded: Path, bundles: dict[int, bytes]) -> None:
    runtime = runtime_for(server, tmp_path, embedded)
    server.publish(bundles[2])
    server.fault = "truncate"
    result = runtime.sync_now()
    assert (result.outcome, result.reason) == ("refused", "truncated")
    assert "of" in result.detail and "bytes" in result.detail
    assert bundle_files(tmp_path) == {}
    assert runtime.view.version == version_name(1) and runtime.service.pending is None
    server.fault = ""
    assert runtime.sync_now().outcome == "updated"


def test_wrong_schema_and_garbage_are_refused(server: BundleServer, tmp_path: Path,
                                              embedded: Path, base: Catalogue) -> None:
    runtime = runtime_for(server, tmp_path, embedded)
    future = numbered_version(base, 2).dump()
    future["schema"] = "aishandong.catalogue/2"
    future["items"][0]["video_url"] = "https://x.invalid/v.mp4"
    server.publish(sign_payload(gzip_json(future), version=future["version"],
                                serial=future["serial"], key=KEY))
    result = runtime.sync_now()
    assert (result.outcome, result.reason) == ("refused", "schema")
    assert "aishandong.catalogue/2" in result.detail

    missing = numbered_version(base, 2).dump()
    del missing["items"][5]["name"]
    server.publish(sign_payload(gzip_json(missing), version=missing["version"],
                                serial=missing["serial"], key=KEY))
    result = runtime.sync_now()
    assert result.reason == "schema" and "items.5.name" in result.detail

    server.fault = "garbage"  # a proxy's error page with status 200
    assert runtime.sync_now().reason == "format"
    assert runtime.view.version == version_name(1)


def test_server_trouble_is_an_error_not_a_crash(server: BundleServer, tmp_path: Path,
                                                embedded: Path, bundles: dict[int, bytes]
                                                ) -> None:
    runtime = runtime_for(server, tmp_path, embedded)
    server.publish(bundles[2])
    server.fault = "error"
    result = runtime.sync_now()
    assert (result.outcome, result.http_status) == ("error", 503)
    url = server.url
    server.stop()
    result = runtime.sync_now()
    assert result.outcome == "error" and "cannot reach" in result.detail
    assert runtime.view.version == version_name(1)
    assert url == runtime.syncer.url  # type: ignore[union-attr]


def test_rollback_then_only_a_newer_publication_is_taken(
        server: BundleServer, tmp_path: Path, embedded: Path, bundles: dict[int, bytes]) -> None:
    runtime = runtime_for(server, tmp_path, embedded)
    for n in (2, 3):
        server.publish(bundles[n])
        assert runtime.sync_now().outcome == "updated"
    runtime.between_sessions()
    result = runtime.rollback()  # version 3 turned out wrong (remote command)
    assert (result.outcome, result.version) == ("rolled_back", version_name(2))
    assert runtime.view.version == version_name(3)  # still in the running session
    runtime.between_sessions()
    assert runtime.view.version == version_name(2)
    assert runtime.service.status()["stored"]["rolled_back_from"] == runtime.service.store.\
        rolled_back_from
    # the server still offers version 3: not taken again
    assert runtime.sync_now().outcome == "unchanged"
    server.publish(bundles[4])
    assert runtime.sync_now().version == version_name(4)
    runtime.between_sessions()
    assert runtime.view.version == version_name(4)


def test_notice_wakes_the_syncer_thread(server: BundleServer, tmp_path: Path, embedded: Path,
                                        bundles: dict[int, bytes]) -> None:
    runtime = runtime_for(server, tmp_path, embedded)
    server.publish(bundles[1])
    runtime.start()  # the first poll finds nothing new; the next is an hour away
    try:
        deadline = time.monotonic() + 5
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.requests, "the syncer did not poll at start"
        first = len(server.requests)
        assert not runtime.notify_new_version(serial=numbered_version(
            sample_catalogue(), 1).serial)  # already have it: no request
        server.publish(bundles[3])
        assert runtime.notify_new_version(serial=numbered_version(sample_catalogue(), 3).serial,
                                          version=version_name(3))
        deadline = time.monotonic() + 5
        while runtime.service.pending is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert runtime.service.pending is not None
        assert runtime.service.pending.version == version_name(3)
        assert len(server.requests) == first + 1
    finally:
        runtime.stop()
    assert runtime.syncer is not None and not runtime.syncer.running


def test_no_session_ever_sees_a_half_loaded_catalogue(
        server: BundleServer, tmp_path: Path, embedded: Path, bundles: dict[int, bytes]) -> None:
    """Sessions run on a 'UI' thread and search while new versions arrive and good and bad
    bundles alternate; every view a session sees is one whole version, and it does not
    change during the session."""
    runtime = runtime_for(server, tmp_path, embedded)
    gate = threading.Lock()  # held for a session; the swap happens only outside sessions
    stop = threading.Event()
    problems: list[str] = []
    seen: set[str] = set()
    sessions = 0

    def sessions_loop() -> None:
        nonlocal sessions
        while not stop.is_set():
            with gate:
                view = runtime.view
                seen.add(view.version)
                for query in ("dbsq", "残疾人", "ylbx", "高龄津贴") * 3:
                    hits = view.search(query, 0)
                    if not is_consistent(tuple(h.item for h in hits), view.version):
                        problems.append(f"mixed results in {view.version}")
                    if runtime.view is not view:
                        problems.append("the catalogue changed during a session")
                if not is_consistent(view.items, view.version):
                    problems.append(f"mixed items in {view.version}")
                if len(view.items) != len(view.catalogue.items) or len(view.index) != len(
                        view.items):
                    problems.append(f"partial view of {view.version}")
                sessions += 1
            time.sleep(0.001)

    reader = threading.Thread(target=sessions_loop, name="sessions", daemon=True)
    reader.start()
    try:
        for n in range(2, 9):
            server.publish(bundles[n])
            server.fault = "truncate" if n % 2 else ""
            runtime.sync_now()
            server.fault = ""
            runtime.sync_now()
            with gate:  # Kiosk.tick with no session running
                runtime.between_sessions()
            time.sleep(0.01)
    finally:
        stop.set()
        reader.join(10)
    assert not reader.is_alive()
    assert not problems, problems[:5]
    assert runtime.view.version == version_name(8)
    assert sessions > 10 and len(seen) >= 3


def test_production_terminal_waits_for_its_first_trusted_catalogue(
        server: BundleServer, tmp_path: Path, bundles: dict[int, bytes]) -> None:
    """The platform's key is configured, so the demo-signed sample on board is not trusted:
    no catalogue (and no crash) until the first download, which is then swapped in."""
    settings = CatalogueSettings(url=server.url, public_keys=[public_key_text(KEY)],
                                 poll_interval_s=3600, timeout_s=5)
    runtime = build_catalogue(settings, tmp_path / "data")  # the real embedded sample bundle
    assert runtime.service.start() is False
    assert not runtime.available
    assert runtime.birth_record() == {"available": False, "version": None, "serial": None,
                                      "offered": 0, "sample_data": False, "pending": None}
    server.publish(bundles[2])
    server.fault = "truncate"  # nothing good yet
    assert runtime.sync_now().outcome == "refused" and not runtime.available
    server.fault = ""
    assert runtime.sync_now().outcome == "updated"
    assert runtime.between_sessions() and runtime.available
    assert runtime.view.version == version_name(2)
    restarted = build_catalogue(settings, tmp_path / "data")
    assert restarted.service.start() and restarted.view.version == version_name(2)

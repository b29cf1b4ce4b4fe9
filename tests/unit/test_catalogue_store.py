"""Bundles on disk (real files), version rules, rollback, recovery; the service's swap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.catalogue.bundle import BundleError, generate_key, public_key_text, trust
from kiosk.catalogue.model import Catalogue
from kiosk.catalogue.samples import is_consistent, numbered_bundle, sample_catalogue, version_name
from kiosk.catalogue.service import CatalogueEvent, CatalogueService
from kiosk.catalogue.store import EMBEDDED, CatalogueStore, atomic_write
from kiosk.catalogue.view import OfferFilter

KEY = generate_key()
KEYS = trust([public_key_text(KEY)])


@pytest.fixture(scope="module")
def base() -> Catalogue:
    return sample_catalogue()


@pytest.fixture(scope="module")
def bundles(base: Catalogue) -> dict[int, bytes]:
    return {n: numbered_bundle(base, n, KEY) for n in range(1, 8)}


@pytest.fixture
def embedded(tmp_path: Path, bundles: dict[int, bytes]) -> Path:
    path = tmp_path / "embedded.bundle.json"
    path.write_bytes(bundles[1])
    return path


def make_store(tmp_path: Path, embedded: Path | None, keep: int = 3) -> CatalogueStore:
    return CatalogueStore(tmp_path / "cache", KEYS, keep=keep, embedded=embedded)


def test_fresh_terminal_uses_the_embedded_bundle_and_writes_nothing(
        tmp_path: Path, embedded: Path) -> None:
    store = make_store(tmp_path, embedded)
    assert store.load().version == version_name(1)
    assert store.active_source == EMBEDDED
    assert not (tmp_path / "cache").exists()


def test_install_keeps_previous_versions_and_prunes(tmp_path: Path, embedded: Path,
                                                    bundles: dict[int, bytes]) -> None:
    store = make_store(tmp_path, embedded, keep=3)
    store.load()
    result = store.install(bundles[2], etag='"e2"', url="http://x/b")
    assert result.changed and result.previous is not None
    assert result.previous.version == version_name(1)
    assert store.active.version == version_name(2)
    assert store.history == [EMBEDDED]
    for n in (3, 4, 5):
        store.install(bundles[n])
    files = sorted(p.name for p in (tmp_path / "cache" / "bundles").iterdir())
    assert len(files) == 3  # active + two kept for rollback
    assert store.state_file.exists()
    state = json.loads(store.state_file.read_text())
    assert state["active"].startswith(str(store.active.serial))
    assert len(state["history"]) == 2
    assert store.etag_for("http://x/b") == '"e2"' and store.etag_for("http://y/") == ""
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_version_rules(tmp_path: Path, embedded: Path, bundles: dict[int, bytes],
                       base: Catalogue) -> None:
    store = make_store(tmp_path, embedded)
    store.install(bundles[3])
    again = store.install(bundles[3])
    assert not again.changed
    with pytest.raises(BundleError) as older:
        store.install(bundles[2])
    assert older.value.reason == "downgrade" and "rollback" in str(older.value)
    other = numbered_bundle(base, 3, KEY, drop=1)  # same serial, other content
    with pytest.raises(BundleError) as conflict:
        store.install(other)
    assert conflict.value.reason == "conflict"
    assert store.active.version == version_name(3)


def test_rollback_and_no_reinstall_of_the_rolled_back_serial(
        tmp_path: Path, embedded: Path, bundles: dict[int, bytes]) -> None:
    store = make_store(tmp_path, embedded)
    store.install(bundles[2])
    store.install(bundles[3])
    back = store.rollback()
    assert back.bundle.version == version_name(2)
    assert store.rolled_back_from == back.previous.serial  # type: ignore[union-attr]
    with pytest.raises(BundleError) as again:
        store.install(bundles[3])
    assert again.value.reason == "rolled_back"
    assert store.install(bundles[4]).bundle.version == version_name(4)
    # back to the embedded one, then nothing older is left
    store2 = make_store(tmp_path / "two", embedded)
    store2.install(bundles[2])
    assert store2.rollback().bundle.version == version_name(1)
    assert store2.active_source == EMBEDDED
    with pytest.raises(BundleError, match="no older verified catalogue"):
        store2.rollback()


def test_restart_reverifies_and_skips_a_damaged_file(tmp_path: Path, embedded: Path,
                                                     bundles: dict[int, bytes]) -> None:
    store = make_store(tmp_path, embedded)
    for n in (2, 3):
        store.install(bundles[n])
    active_file = store.bundles / store.active_source
    raw = active_file.read_bytes()
    active_file.write_bytes(raw[: len(raw) // 2])  # a partly written file (disk trouble)
    restarted = make_store(tmp_path, embedded)
    assert restarted.load().version == version_name(2)
    assert not active_file.exists()  # pruned from the state and the disk
    # flipping one byte of the signed payload is caught on load too
    path = restarted.bundles / restarted.active_source
    data = bytearray(path.read_bytes())
    position = data.index(b'"payload": "') + 40
    data[position] = ord("A") if data[position] != ord("A") else ord("B")
    path.write_bytes(bytes(data))
    assert make_store(tmp_path, embedded).load().version == version_name(1)


def test_damaged_state_file_is_rebuilt_from_the_bundles(tmp_path: Path, embedded: Path,
                                                        bundles: dict[int, bytes]) -> None:
    store = make_store(tmp_path, embedded)
    for n in (2, 3, 4):
        store.install(bundles[n])
    store.state_file.write_text("{not json")
    restarted = make_store(tmp_path, embedded)
    assert restarted.load().version == version_name(4)
    assert json.loads(restarted.state_file.read_text())["active"] == restarted.active_source


def test_software_update_with_a_newer_embedded_bundle(tmp_path: Path,
                                                      bundles: dict[int, bytes]) -> None:
    old = tmp_path / "old.json"
    old.write_bytes(bundles[1])
    store = make_store(tmp_path, old)
    store.install(bundles[2])
    new = tmp_path / "new.json"
    new.write_bytes(bundles[5])
    assert make_store(tmp_path, new).load().version == version_name(5)


def test_nothing_usable_is_a_clear_error(tmp_path: Path) -> None:
    store = CatalogueStore(tmp_path / "cache", KEYS, embedded=tmp_path / "missing.json")
    with pytest.raises(BundleError, match="no usable catalogue"):
        store.load()


def test_atomic_write_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "f.json"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["f.json"]


# -- the service ---------------------------------------------------------------------------------
def test_a_new_version_waits_for_the_session_to_end(tmp_path: Path, embedded: Path,
                                                    bundles: dict[int, bytes]) -> None:
    service = CatalogueService(make_store(tmp_path, embedded))
    events: list[CatalogueEvent] = []
    service.subscribe(events.append)
    during_session = service.load()
    result = service.install(bundles[2])
    assert result.outcome == "updated" and result.version == version_name(2)
    assert service.view is during_session  # the resident's catalogue does not change
    assert service.pending is not None and service.pending.version == version_name(2)
    assert is_consistent(service.pending.items, version_name(2))
    assert [e.kind for e in events] == ["staged"]
    assert service.status()["pending"] == version_name(2)
    assert service.apply_pending()  # session ended
    assert service.view.version == version_name(2) and service.pending is None
    assert not service.apply_pending()
    assert [(e.kind, e.version, e.previous_version) for e in events] == [
        ("staged", version_name(2), version_name(1)),
        ("activated", version_name(2), version_name(1))]


def test_refused_install_keeps_the_view_and_says_why(tmp_path: Path, embedded: Path,
                                                     bundles: dict[int, bytes]) -> None:
    service = CatalogueService(make_store(tmp_path, embedded), auto_apply=True)
    events: list[CatalogueEvent] = []
    service.subscribe(events.append)
    service.load()
    result = service.install(bundles[2][:-200])
    assert (result.outcome, result.reason) == ("refused", "truncated")
    assert service.view.version == version_name(1)
    assert events[-1].kind == "refused" and "ends early" in events[-1].detail
    assert service.install(bundles[2]).outcome == "updated"
    assert service.view.version == version_name(2)  # auto_apply: no UI, swap at once


def test_rollback_through_the_service(tmp_path: Path, embedded: Path,
                                      bundles: dict[int, bytes]) -> None:
    service = CatalogueService(make_store(tmp_path, embedded), auto_apply=True)
    service.load()
    service.install(bundles[2])
    result = service.rollback()
    assert (result.outcome, result.version) == ("rolled_back", version_name(1))
    assert service.view.version == version_name(1)
    assert service.status()["stored"]["rolled_back_from"] == service.store.rolled_back_from > 0


def test_offer_filter_limits_what_the_terminal_shows(tmp_path: Path, embedded: Path) -> None:
    village = CatalogueService(make_store(tmp_path, embedded),
                               OfferFilter(levels=frozenset({"village"})))
    view = village.load()
    assert len(view) == 7 and {item.level for item in view.items} == {"village"}
    assert view.get("ZJ-019") is None and view.get("CJ-006") is not None
    assert all(hit.item.level == "village" for hit in view.search("残疾人", 0))
    assert "医疗保险" not in view.hot_terms() and "资格认证" in view.hot_terms()
    medical = OfferFilter(categories=frozenset({"医疗保障"}), include_codes=frozenset({"SQ-021"}),
                          exclude_codes=frozenset({"ZJ-058"}))
    view = CatalogueService(make_store(tmp_path / "m", embedded), medical).load()
    assert view.get("SQ-021") is not None and view.get("ZJ-058") is None
    assert all("医疗保障" in i.categories or i.code == "SQ-021" for i in view.items)


def test_browse_by_life_event_and_department(tmp_path: Path, embedded: Path) -> None:
    view = CatalogueService(make_store(tmp_path, embedded)).load()
    events = view.life_events()
    assert [g.key for g in events][:3] == ["hardship", "elderly", "pension"]
    elderly = next(g for g in events if g.key == "elderly")
    assert elderly.name == "老年人服务" and "ZJ-019" in [i.code for i in elderly.items]
    popularity = [i.popularity for i in elderly.items]
    assert popularity == sorted(popularity, reverse=True)
    departments = view.departments()
    assert departments[0].name == "区医疗保障局"  # 24 of the 93 items
    assert sum(len(g.items) for g in departments) == 93
    assert view.popular(3)[0].code == "ZJ-010"
    assert view.hot_terms()[0] == "医疗保险"


def test_syncer_backs_off_after_failures_and_recovers(tmp_path: Path, embedded: Path,
                                                      bundles: dict[int, bytes]) -> None:
    from kiosk.catalogue.sync import CatalogueSyncer, Fetched, FetchError

    answers: list[object] = [FetchError("http", "cannot reach x: refused")] * 3 + [
        Fetched(200, bundles[2], '"e2"'), Fetched(304, etag='"e2"')]
    calls: list[str] = []

    def fetch(url: str, *, etag: str, timeout_s: float, max_bytes: int) -> Fetched:
        calls.append(etag)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    service = CatalogueService(make_store(tmp_path, embedded))
    service.load()
    syncer = CatalogueSyncer(service, "http://127.0.0.1:9/b", interval_s=600, retry_min_s=30,
                             fetch=fetch)
    assert syncer._delay() == 600
    delays = []
    for _ in range(3):
        assert syncer.sync_now().outcome == "error"
        delays.append(syncer._delay())
    assert delays == [30, 60, 120]
    assert syncer.sync_now().outcome == "updated" and syncer._delay() == 600
    assert syncer.sync_now().outcome == "unchanged"
    assert calls == ["", "", "", "", '"e2"']  # the ETag of the installed bundle is sent
    with pytest.raises(ValueError, match=r"catalogue\.url"):
        CatalogueSyncer(service, "")

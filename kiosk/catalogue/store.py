"""Verified bundles on disk, which one is active, and rollback. Every write is atomic.

Layout of the cache folder (``<storage.data_dir>/catalogue`` by default)::

    bundles/<serial>-<sha12>.bundle.json   verified bundles, byte for byte as received
    state.json                             {"active": file, "history": [files, newest first],
                                            "etag": …, "etag_url": …, "rolled_back_from": n}

A bundle is written to a temporary file, flushed to disk and renamed into place, and only
then is ``state.json`` replaced the same way; a power cut at any moment leaves either the old
or the new state, never a half-written one. On start every candidate is verified again
(signature and schema): a file damaged on disk is skipped and the next one used, down to the
bundle shipped with the software.

Version rules for :meth:`CatalogueStore.install`: a serial lower than the active one is a
replay and refused (``downgrade``); the same serial with other content is refused
(``conflict``); the same bundle again is "unchanged"; after a rollback from serial *n*,
bundles up to *n* are refused (``rolled_back``) until the platform publishes a newer one.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.catalogue.bundle import (
    DEFAULT_MAX_BUNDLE_BYTES,
    EMBEDDED_BUNDLE,
    BundleError,
    VerifiedBundle,
    verify_bundle,
)

log = logging.getLogger(__name__)

EMBEDDED = "embedded"


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, nothing else."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@dataclass(frozen=True)
class Installed:
    """The outcome of :meth:`CatalogueStore.install`."""

    bundle: VerifiedBundle
    changed: bool  # False: this exact bundle was already active
    previous: VerifiedBundle | None


class CatalogueStore:
    def __init__(self, folder: str | Path, keys: dict[str, Ed25519PublicKey], *,
                 keep: int = 3, max_bytes: int = DEFAULT_MAX_BUNDLE_BYTES,
                 embedded: Path | None = EMBEDDED_BUNDLE) -> None:
        if keep < 2:
            raise ValueError("keep must be at least 2 (the active bundle and one for rollback)")
        self.folder = Path(folder)
        self.bundles = self.folder / "bundles"
        self.keys = keys
        self.keep = keep
        self.max_bytes = max_bytes
        self.embedded = embedded
        self._lock = threading.RLock()
        self._state: dict[str, Any] = {}
        self._active: VerifiedBundle | None = None
        self._active_name = ""

    # -- state file ----------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.folder / "state.json"

    def _read_state(self) -> dict[str, Any]:
        try:
            state = json.loads(self.state_file.read_text("utf-8"))
            if isinstance(state, dict):
                return state
            log.warning("catalogue state %s is not an object; rebuilding it", self.state_file)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("catalogue state %s unreadable (%s); rebuilding it", self.state_file, exc)
        return {"recover": True}

    def _write_state(self) -> None:
        self._state["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        data = json.dumps(self._state, indent=1, sort_keys=True).encode("utf-8")
        atomic_write(self.state_file, data)

    # -- reading bundles -----------------------------------------------------------------------
    def _verify_file(self, path: Path) -> VerifiedBundle | None:
        try:
            return verify_bundle(path.read_bytes(), self.keys, max_bytes=self.max_bytes)
        except FileNotFoundError:
            log.warning("catalogue bundle %s is missing", path.name)
        except (OSError, BundleError) as exc:
            log.warning("catalogue bundle %s refused on load: %s", path.name, exc)
        return None

    def _embedded(self) -> VerifiedBundle | None:
        if self.embedded is None:
            return None
        bundle = self._verify_file(self.embedded)
        if bundle is None:
            log.error("the embedded catalogue %s does not verify with the configured keys",
                      self.embedded)
        return bundle

    def load(self) -> VerifiedBundle:
        """Find the active bundle (verifying it again); raise BundleError if there is none."""
        with self._lock:
            self._state = self._read_state()
            recovered = bool(self._state.pop("recover", False))
            if recovered:
                self._recover()
            names = [self._state.get("active", ""), *list(self._state.get("history", []))]
            chosen: VerifiedBundle | None = None
            chosen_name = ""
            kept: list[str] = []
            for name in [n for n in names if n]:
                if name == EMBEDDED:
                    bundle = self._embedded()
                else:
                    bundle = self._verify_file(self.bundles / name)
                if bundle is None:
                    continue
                kept.append(name)
                if chosen is None:
                    chosen, chosen_name = bundle, name
            embedded = self._embedded()
            if embedded is not None and (chosen is None or (embedded.serial > chosen.serial
                                         and embedded.serial > self.rolled_back_from)):
                # a software update brought a newer catalogue than the cached one
                if chosen is not None:
                    log.info("embedded catalogue %s is newer than cached %s", embedded.version,
                             chosen.version)
                chosen, chosen_name = embedded, EMBEDDED
                kept = [EMBEDDED] + [n for n in kept if n != EMBEDDED]
            if chosen is None:
                raise BundleError("io", f"no usable catalogue: nothing valid in {self.folder} "
                                  "and no embedded bundle that verifies with "
                                  "catalogue.public_keys")
            if chosen_name != EMBEDDED:
                kept = [chosen_name] + [n for n in kept if n != chosen_name]
            changed = recovered or kept != [n for n in names if n]
            self._state["active"] = kept[0]
            self._state["history"] = kept[1:self.keep]
            self._active, self._active_name = chosen, chosen_name
            if changed and self.folder.exists():
                try:
                    self._write_state()
                    self._prune()
                except OSError as exc:  # read-only use (a staff command) must still work
                    log.warning("cannot update %s: %s", self.state_file, exc)
            return chosen

    def _recover(self) -> None:
        """state.json was damaged: take the verified bundles on disk, newest first."""
        found = []
        for path in sorted(self.bundles.glob("*.bundle.json")):
            bundle = self._verify_file(path)
            if bundle is not None:
                found.append((bundle.serial, path.name))
        found.sort(reverse=True)
        self._state = {"active": found[0][1] if found else "",
                       "history": [name for _, name in found[1:]]}

    # -- accessors -----------------------------------------------------------------------------
    @property
    def active(self) -> VerifiedBundle:
        """The active bundle; BundleError when there is none (see :meth:`current`)."""
        if self._active is None:
            return self.load()
        return self._active

    def current(self) -> VerifiedBundle | None:
        """The active bundle, or None on a terminal that has no usable catalogue yet (a
        production key and only the demo-signed sample on board: it waits for the first sync)."""
        if self._active is None:
            try:
                self.load()
            except BundleError:
                return None
        return self._active

    @property
    def active_source(self) -> str:
        """"embedded" or the bundle's file name."""
        return self._active_name

    @property
    def history(self) -> list[str]:
        return list(self._state.get("history", []))

    @property
    def rolled_back_from(self) -> int:
        return int(self._state.get("rolled_back_from", 0))

    def etag_for(self, url: str) -> str:
        """The ETag of the last bundle installed from ``url`` ("" = none)."""
        if self._state.get("etag_url") == url:
            return str(self._state.get("etag", ""))
        return ""

    # -- changing ------------------------------------------------------------------------------
    def install(self, raw: bytes, *, etag: str = "", url: str = "") -> Installed:
        """Verify ``raw`` and make it the active bundle on disk (or raise BundleError)."""
        bundle = verify_bundle(raw, self.keys, max_bytes=self.max_bytes)
        with self._lock:
            current = self.current()
            if current is None:
                pass  # the first catalogue this terminal can trust
            elif bundle.serial == current.serial:
                if bundle.catalogue == current.catalogue:
                    self._remember_etag(etag, url)
                    return Installed(current, False, None)
                raise BundleError("conflict", f"bundle {bundle.version} has serial "
                                  f"#{bundle.serial} like the active {current.version} but "
                                  "different content; the platform must publish a new serial")
            elif bundle.serial < current.serial:
                raise BundleError("downgrade", f"bundle {bundle.version} (#{bundle.serial}) is "
                                  f"older than the active {current.version} "
                                  f"(#{current.serial}); refused as a replay. Use rollback to go "
                                  "back on purpose")
            if bundle.serial <= self.rolled_back_from:
                raise BundleError("rolled_back", f"bundle #{bundle.serial} is not newer than "
                                  f"#{self.rolled_back_from}, which was rolled back on this "
                                  "terminal; waiting for a newer publication")
            name = f"{bundle.serial}-{bundle.sha256[:12]}.bundle.json"
            atomic_write(self.bundles / name, raw)
            history = [self._state.get("active", ""), *self.history]
            self._state["active"] = name
            self._state["history"] = [n for n in history if n and n != name][:self.keep - 1]
            self._remember_etag(etag, url, write=False)
            self._write_state()
            self._prune()
            self._active, self._active_name = bundle, name
            return Installed(bundle, True, current)

    def _remember_etag(self, etag: str, url: str, *, write: bool = True) -> None:
        if not etag:
            return
        if (self._state.get("etag"), self._state.get("etag_url")) == (etag, url):
            return
        self._state["etag"], self._state["etag_url"] = etag, url
        if write:
            self._write_state()

    def rollback(self) -> Installed:
        """Go back to the previous verified bundle; the rolled-back serial is not re-installed."""
        with self._lock:
            current = self.active
            for index, name in enumerate(self.history):
                if name == EMBEDDED:
                    bundle = self._embedded()
                else:
                    bundle = self._verify_file(self.bundles / name)
                if bundle is None or bundle.serial >= current.serial:
                    continue
                rest = self.history[index + 1:]
                self._state.update(active=name, history=rest,
                                   rolled_back_from=max(self.rolled_back_from, current.serial))
                # the ETag stays: the server answers 304 while it still serves the bundle
                # that was rolled back, and sends the next publication in full
                self._write_state()
                self._prune()
                self._active, self._active_name = bundle, name
                return Installed(bundle, True, current)
            embedded = self._embedded()
            if (self._active_name != EMBEDDED and embedded is not None
                    and embedded.serial < current.serial):
                self._state.update(active=EMBEDDED, history=[],
                                   rolled_back_from=max(self.rolled_back_from, current.serial))
                self._write_state()
                self._prune()
                self._active, self._active_name = embedded, EMBEDDED
                return Installed(embedded, True, current)
            raise BundleError("io", f"no older verified catalogue to roll back to from "
                              f"{current.version}")

    def _prune(self) -> None:
        """Delete bundle files that neither the active version nor the history needs."""
        wanted = {self._state.get("active", "")} | set(self.history)
        if not self.bundles.exists():
            return
        for path in self.bundles.iterdir():
            if path.name not in wanted:
                try:
                    path.unlink()
                except OSError as exc:  # pragma: no cover - permissions
                    log.warning("cannot remove old bundle %s: %s", path.name, exc)

    def status(self) -> dict[str, Any]:
        bundle = self.current()
        if bundle is None:
            return {"version": None, "serial": None, "key_id": None, "sha256": None,
                    "source": None, "history": self.history,
                    "rolled_back_from": self.rolled_back_from or None}
        return {
            "version": bundle.version,
            "serial": bundle.serial,
            "key_id": bundle.key_id,
            "sha256": bundle.sha256[:16],
            "source": self._active_name or EMBEDDED,
            "history": self.history,
            "rolled_back_from": self.rolled_back_from or None,
        }

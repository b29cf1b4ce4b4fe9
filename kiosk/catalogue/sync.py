"""Same-source sync: fetch the platform's bundle over HTTP with ETag/If-None-Match.

:class:`CatalogueSyncer` polls ``catalogue.url`` every ``poll_interval_s`` on its own thread
and can be woken at once with :meth:`CatalogueSyncer.notify_new_version`: the MQTT client
calls it when the retained notice ``<prefix>/catalogue/notice`` (``{"version": …,
"serial": …}``) arrives. A download is accepted only whole: a ``Content-Length`` that the
body does not reach, a body over the size limit, a bad signature or a wrong schema are all
refused by :class:`kiosk.catalogue.service.CatalogueService` and the active version stays.

HTTP exchange (the reference server is :mod:`kiosk.catalogue.server`)::

    GET <url>                      If-None-Match: "<etag of the installed bundle>"
    200 OK   ETag: "<etag>"        body: the bundle (application/json)
    304 Not Modified               nothing new
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from kiosk.catalogue.service import CatalogueService, SyncResult

log = logging.getLogger(__name__)

USER_AGENT = "aishandong-kiosk-catalogue/1"


class FetchError(Exception):
    def __init__(self, reason: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Fetched:
    status: int  # 200 or 304
    body: bytes = b""
    etag: str = ""


def fetch_bundle(url: str, *, etag: str = "", timeout_s: float = 15.0,
                 max_bytes: int = 16 * 1024 * 1024) -> Fetched:
    """One conditional GET. Raises :class:`FetchError` (reason ``http``, ``truncated``,
    ``too_large``) for anything but a complete 200 or a 304."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if etag:
        headers["If-None-Match"] = etag
    request = urllib.request.Request(url, headers=headers)
    host = urlsplit(url).netloc
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Fetched(304, etag=etag)
        raise FetchError("http", f"{host} answered {exc.code} {exc.reason}", exc.code) from None
    except urllib.error.URLError as exc:
        raise FetchError("http", f"cannot reach {host}: {exc.reason}") from None
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        raise FetchError("http", f"cannot reach {host}: {exc}") from None
    with response:
        length_text = response.headers.get("Content-Length")
        expected = int(length_text) if length_text and length_text.isdigit() else None
        if expected is not None and expected > max_bytes:
            raise FetchError("too_large", f"bundle of {expected} bytes is over the limit of "
                             f"{max_bytes}", 200)
        try:
            body = response.read(max_bytes + 1)
        except http.client.IncompleteRead as exc:
            raise FetchError("truncated", f"download ended after {len(exc.partial)} of "
                             f"{expected} bytes", 200) from None
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            raise FetchError("truncated", f"download broke off: {exc}", 200) from None
        if len(body) > max_bytes:
            raise FetchError("too_large", f"bundle is over the limit of {max_bytes} bytes", 200)
        if expected is not None and len(body) != expected:
            raise FetchError("truncated", f"download ended after {len(body)} of {expected} "
                             "bytes", 200)
        return Fetched(response.status, body, response.headers.get("ETag", ""))


class CatalogueSyncer:
    """Keeps the catalogue in step with the platform; one background thread."""

    def __init__(self, service: CatalogueService, url: str, *, interval_s: float = 3600.0,
                 timeout_s: float = 15.0, max_bytes: int = 16 * 1024 * 1024,
                 retry_min_s: float = 30.0, fetch: Callable[..., Fetched] = fetch_bundle
                 ) -> None:
        if not url:
            raise ValueError("CatalogueSyncer needs catalogue.url (\"\" means: do not sync)")
        self.service = service
        self.url = url
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.retry_min_s = retry_min_s
        self._fetch = fetch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sync_lock = threading.Lock()
        self._failures = 0
        self.last_result: SyncResult | None = None
        self.last_attempt: float | None = None

    # -- one attempt ---------------------------------------------------------------------------
    def sync_now(self) -> SyncResult:
        """Fetch and install if there is something new; never raises."""
        with self._sync_lock:
            self.last_attempt = time.time()
            etag = self.service.store.etag_for(self.url)
            try:
                fetched = self._fetch(self.url, etag=etag, timeout_s=self.timeout_s,
                                      max_bytes=self.max_bytes)
            except FetchError as exc:
                outcome = "refused" if exc.reason in ("truncated", "too_large") else "error"
                result = SyncResult(outcome, reason=exc.reason, detail=str(exc),
                                    http_status=exc.status)
                log.warning("catalogue sync from %s: %s", self.url, exc)
                self.service.report_failure(result)
            else:
                if fetched.status == 304:
                    current = self.service.store.current()
                    result = SyncResult("unchanged", current.version if current else "",
                                        current.serial if current else 0, http_status=304)
                else:
                    result = self.service.install(fetched.body, etag=fetched.etag, url=self.url)
                    result = SyncResult(result.outcome, result.version, result.serial,
                                        result.reason, result.detail, fetched.status)
            self._failures = self._failures + 1 if result.outcome in ("error", "refused") else 0
            self.last_result = result
            self.service.last_result = result
            return result

    # -- background ----------------------------------------------------------------------------
    def notify_new_version(self, serial: int | None = None, version: str = "") -> bool:
        """The platform says a new version exists (MQTT notice): check now unless we
        already have it. Safe from any thread; returns whether a check was triggered."""
        current = self.service.store.current()
        if serial is not None and current is not None and serial <= current.serial:
            log.debug("catalogue notice for #%s: already at #%d", serial, current.serial)
            return False
        log.info("catalogue notice: %s (#%s) published; checking now", version or "a new version",
                 serial)
        self._wake.set()
        return True

    def _delay(self) -> float:
        if not self._failures:
            return self.interval_s
        return min(self.interval_s, self.retry_min_s * 2 ** min(self._failures - 1, 10))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sync_now()
            self._wake.wait(self._delay())
            self._wake.clear()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="catalogue-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop and join the thread (a download in flight ends within ``timeout_s``)."""
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("catalogue sync thread did not stop within %.1f s", timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

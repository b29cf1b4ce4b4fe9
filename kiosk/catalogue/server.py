"""Reference publishing server for catalogue bundles (the platform side of the sync).

It serves the newest bundle of a folder (by the serial in its header) or one set with
:meth:`BundleServer.publish`, with a strong ETag and ``If-None-Match`` → ``304``::

    GET /catalogue/v1/bundle   200 + ETag + the bundle, or 304 Not Modified
    GET /catalogue/v1/notice   {"version": …, "serial": …, "etag": …}  (what MQTT retains)

It does not sign or verify anything: bundles are signed offline with ``kiosk catalogue
build`` and verified by each terminal. ``fault`` injects what networks do to downloads
(tests, and a technician checking that a terminal keeps its catalogue): ``truncate`` sends
the headers of the whole bundle and half the body, ``error`` answers 503, ``garbage``
sends an HTML error page with status 200.

Run one: ``kiosk catalogue serve --dir bundles/ --port 8080``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kiosk.catalogue.bundle import BundleError, read_header

log = logging.getLogger(__name__)

BUNDLE_PATH = "/catalogue/v1/bundle"
NOTICE_PATH = "/catalogue/v1/notice"
FAULTS = ("", "truncate", "error", "garbage")


def etag_of(raw: bytes) -> str:
    return '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class Published:
    raw: bytes
    etag: str
    version: str
    serial: int


def _published(raw: bytes) -> Published:
    header = read_header(raw)
    return Published(raw, etag_of(raw), str(header["version"]), int(header["serial"]))


class BundleServer:
    def __init__(self, folder: str | Path | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.fault = ""
        self.requests: list[dict[str, Any]] = []
        self._published: Published | None = None
        self._cache: dict[Path, tuple[tuple[float, int], Published | None]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- what is published ---------------------------------------------------------------------
    def publish(self, raw: bytes) -> str:
        """Serve ``raw`` from now on (instead of the folder); returns its ETag."""
        published = _published(raw)
        with self._lock:
            self._published = published
        return published.etag

    def current(self) -> Published | None:
        with self._lock:
            if self._published is not None:
                return self._published
        if self.folder is None:
            return None
        best: Published | None = None
        for path in sorted(self.folder.glob("*.json")):
            try:
                stat = path.stat()
                key = (stat.st_mtime, stat.st_size)
                cached = self._cache.get(path)
                if cached is None or cached[0] != key:
                    try:
                        cached = (key, _published(path.read_bytes()))
                    except BundleError as exc:
                        log.warning("not serving %s: %s", path.name, exc)
                        cached = (key, None)
                    self._cache[path] = cached
            except OSError:
                continue
            candidate = cached[1]
            if candidate is not None and (best is None or candidate.serial > best.serial):
                best = candidate
        return best

    # -- HTTP ------------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "aishandong-catalogue/1"

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("%s %s", self.address_string(), format % args)

            def _send(self, status: int, body: bytes, content_type: str = "application/json",
                      etag: str = "") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                    self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                self.wfile.write(body)

            def send_response(self, code: int, message: str | None = None) -> None:
                # recorded before a byte of the answer leaves: a client that has its answer
                # always finds its request in ``server.requests``
                record = {"path": self.path,
                          "if_none_match": self.headers.get("If-None-Match", ""),
                          "status": code}
                with server._lock:
                    server.requests.append(record)
                super().send_response(code, message)

            def do_GET(self) -> None:
                self._serve(self.headers.get("If-None-Match", ""))

            def _serve(self, match: str) -> int:
                path = self.path.split("?", 1)[0]
                if path not in (BUNDLE_PATH, NOTICE_PATH):
                    self._send(404, b'{"error": "not found"}')
                    return 404
                published = server.current()
                if published is None:
                    self._send(404, b'{"error": "nothing published"}')
                    return 404
                if path == NOTICE_PATH:
                    body = json.dumps({"version": published.version, "serial": published.serial,
                                       "etag": published.etag}).encode()
                    self._send(200, body)
                    return 200
                fault = server.fault
                if fault == "error":
                    self._send(503, b'{"error": "maintenance"}')
                    return 503
                tags = {tag.strip() for tag in match.split(",") if tag.strip()}
                if published.etag in tags or "*" in tags:
                    self.send_response(304)
                    self.send_header("ETag", published.etag)
                    self.end_headers()
                    return 304
                if fault == "garbage":
                    self._send(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
                    return 200
                if fault == "truncate":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(published.raw)))
                    self.send_header("ETag", published.etag)
                    self.end_headers()
                    self.wfile.write(published.raw[:len(published.raw) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return 200
                self._send(200, published.raw, etag=published.etag)
                return 200

        return Handler

    # -- life cycle ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{BUNDLE_PATH}"

    def start(self) -> BundleServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.1},
                                            name="catalogue-server", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> BundleServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Blocking (the ``serve`` command); Ctrl-C stops it."""
        try:
            self._server.serve_forever(poll_interval=0.5)
        finally:
            self._server.server_close()

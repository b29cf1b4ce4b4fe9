"""The hall server: the engine over HTTP/1.1 (stdlib ``ThreadingHTTPServer``, keep-alive).

``kiosk queue serve --db PATH --host 127.0.0.1 --port N`` runs it; tests start it in a thread
with :class:`QueueHttpServer`. Routes come from :data:`kiosk.queue.api.ROUTES`, the OpenAPI
description is at ``/openapi.json``, the staff page at ``/staff``. Nothing in a request body
is logged (ID numbers travel in check-in bodies); the access log is at DEBUG level and holds
method, path and status only.

Plain HTTP: on a hall network put it behind a TLS-terminating reverse proxy, as the kiosks
refuse to send ID numbers over plain http:// to a host that is not loopback.
"""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from kiosk.queue import api
from kiosk.queue.engine import QueueEngine
from kiosk.queue.errors import QueueError
from kiosk.queue.openapi import build_spec
from kiosk.queue.staff_page import STAFF_HTML

log = logging.getLogger(__name__)

MAX_BODY = 5 * 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], engine: QueueEngine) -> None:
        self.engine = engine
        self.spec_cache: bytes | None = None
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """End idle keep-alive connections so their threads return."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kiosk-queue/1"
    timeout = 120  # an idle keep-alive connection is closed after this
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed ACK
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s %s", self.command, urlsplit(self.path).path, code)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- plumbing --------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode("utf-8"),
                   "application/json; charset=utf-8")

    def _error(self, status: int, code: str, message: str, **details: Any) -> None:
        self._json(status, {"error": {"code": code, "message": message, "details": details}})

    def _read_body(self) -> bytes | None:
        """The request body; None after answering 413/400 itself."""
        length_text = self.headers.get("Content-Length", "0") or "0"
        try:
            length = int(length_text)
        except ValueError:
            self.close_connection = True
            self._error(400, "invalid", "bad Content-Length")
            return None
        if length > MAX_BODY:
            self.close_connection = True
            self._error(413, "invalid", f"request body over {MAX_BODY} bytes")
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self, method: str) -> None:
        raw = self._read_body()
        if raw is None:
            return
        parts = urlsplit(self.path)
        path = parts.path
        if path == api.API_PREFIX or path.startswith(api.API_PREFIX + "/"):
            path = path[len(api.API_PREFIX):] or "/"
        if method == "GET" and self._static(path):
            return
        route, params, known = api.match(method, path)
        if route is None:
            if known:
                self._error(405, "no_route", f"{method} is not allowed on {path}")
            else:
                self._error(404, "no_route", f"no API route {path}; see /openapi.json")
            return
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            self._error(400, "invalid", "the request body is not valid JSON")
            return
        if not isinstance(body, dict):
            self._error(422, "invalid", "the request body must be a JSON object")
            return
        try:
            result = route.handler(self.server.engine, params, body, dict(parse_qsl(parts.query)))
        except QueueError as exc:
            self._json(exc.http_status, {"error": exc.to_dict()})
            return
        except sqlite3.Error as exc:
            log.error("queue database error on %s %s: %s", method, route.path, exc)
            self._error(503, "unavailable", "排队系统数据库暂时不可用，请稍后再试")
            return
        except Exception:
            log.exception("queue server failed on %s %s", method, route.path)
            self._error(500, "internal", "排队系统内部错误")
            return
        self._json(route.status, result)

    def _static(self, path: str) -> bool:
        if path == "/openapi.json":
            if self.server.spec_cache is None:
                self.server.spec_cache = json.dumps(build_spec(), ensure_ascii=False,
                                                    indent=1).encode("utf-8")
            self._send(200, self.server.spec_cache, "application/json; charset=utf-8")
            return True
        if path in ("/staff", "/staff/"):
            self._send(200, STAFF_HTML.encode("utf-8"), "text/html; charset=utf-8")
            return True
        if path == "/":
            self._send(302, b"", "text/plain", {"Location": "/staff"})
            return True
        return False


class QueueHttpServer:
    """The engine served over HTTP on ``host:port`` (port 0: any free port)."""

    def __init__(self, engine: QueueEngine, host: str = "127.0.0.1", port: int = 0) -> None:
        self.engine = engine
        self._httpd = _Server((host, port), engine)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = self._httpd.server_address[0]
        return f"http://{host}:{self.port}"

    def start(self) -> QueueHttpServer:
        """Serve from a background thread (tests, embedding)."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="queue-http",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        """Stop serving (from another thread than the one in :meth:`serve_forever`)."""
        self._httpd.shutdown()

    def stop(self) -> None:
        """Stop accepting, end open connections, join every thread, close the socket."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.drop_connections()
        self._httpd.server_close()

    def __enter__(self) -> QueueHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

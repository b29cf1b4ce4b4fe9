"""Reference server for the HTTP code interface (docs/codes.md), backed by an embedded platform
with the server's own key: the terminal cannot verify its codes offline and must ask.

Used by the tests and by anyone building the province-side adapter. Runs on 127.0.0.1 by
default; request bodies are never logged. Faults can be injected for tests
(:attr:`ReferenceCodeServer.faults`: a delay, or a forced HTTP status).

From a shell::

    python -m kiosk.codes.refserver --port 8086 --api-key secret
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kiosk.codes.embedded import EmbeddedCodePlatform
from kiosk.codes.http_adapter import API_PREFIX, kind_name
from kiosk.codes.platform import IssuedCode, IssueRefused, Person
from kiosk.codes.progress import BadHandlingNumber, ProgressNotFound
from kiosk.codes.proofdocs import ProofRefused, load_or_create_key
from kiosk.codes.refusals import CodeRefused
from kiosk.codes.tokens import TokenKind
from kiosk.codes.verify_page import progress_page, verify_page

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


@dataclass
class ServerFaults:
    delay_s: float = 0.0
    status: int = 0  # answer every request with this HTTP status (0: normal)
    garbage: bool = False  # answer with a body that is not JSON


class ReferenceCodeServer:
    def __init__(self, platform: EmbeddedCodePlatform | None = None, *, api_key: str = "",
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.platform = platform or EmbeddedCodePlatform(terminal_id="REF-PLATFORM")
        self.api_key = api_key
        self.faults = ServerFaults()
        self.requests = 0
        handler = type("Handler", (_Handler,), {"server_ref": self})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self.host, self.port = self._httpd.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"
        if self.platform.verify_base_url.endswith(".invalid"):
            self.platform.verify_base_url = self.url  # /verify/{code} is served here
        self._thread: threading.Thread | None = None

    def start(self) -> ReferenceCodeServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="codes-refserver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ReferenceCodeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- operations ----------------------------------------------------------------------------
    def _progress(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return _progress_of(self.platform, body)

    def page(self, path: str) -> tuple[int, str]:
        """The public pages a phone opens from a printed QR: ``/verify/{code}`` and
        ``/progress/{number}`` (HTML, no personal data beyond masked values)."""
        from urllib.parse import unquote

        if path.startswith("/verify/"):
            code = unquote(path[len("/verify/"):])
            try:
                return 200, verify_page(self.platform.verify_proof(code))
            except ProofRefused as exc:
                log.info("refserver: a proof code was refused (%s)", exc.reason)
                return 404, verify_page(None)
        if path.startswith("/progress/"):
            try:
                found = self.platform.progress_by_number(unquote(path[len("/progress/"):]))
            except (BadHandlingNumber, ProgressNotFound):
                return 404, progress_page(None)
            return 200, progress_page(found)
        return 404, ""

    def handle(self, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        platform = self.platform
        now = platform.now()
        if operation in ("resident", "enterprises", "enterprise"):
            person_data = body.get("person")
            if not isinstance(person_data, dict) or not person_data.get("id_number"):
                return 400, {"error": "bad_request", "message": "person.id_number is required"}
            person = Person(str(person_data["id_number"]), str(person_data.get("name", "")))
            try:
                if operation == "resident":
                    return 200, {"code": _issued_json(platform.issue_resident_code(person), now)}
                if operation == "enterprises":
                    return 200, {"enterprises": [e.to_json()
                                                 for e in platform.enterprises_for(person)]}
                code = platform.issue_enterprise_code(person, str(body.get("enterprise_id", "")))
                return 200, {"code": _issued_json(code, now)}
            except IssueRefused as exc:
                return 403, {"error": "not_authorised", "message": exc.message_zh}
        if operation == "progress":
            return self._progress(body)
        if operation in ("proofs", "proof"):
            person_data = body.get("person")
            if not isinstance(person_data, dict) or not person_data.get("id_number"):
                return 400, {"error": "bad_request", "message": "person.id_number is required"}
            person = Person(str(person_data["id_number"]), str(person_data.get("name", "")))
            if operation == "proofs":
                return 200, {"proofs": [k.__dict__ for k in platform.proof_kinds(person)]}
            try:
                document = platform.issue_proof(person, str(body.get("proof_id", "")))
            except IssueRefused as exc:
                return 403, {"error": "not_authorised", "message": exc.message_zh}
            return 200, {"document": document.to_json()}
        if operation == "proof/verify":
            code = body.get("code")
            if not isinstance(code, str):
                return 400, {"error": "bad_request", "message": "code must be a string"}
            try:
                return 200, {"valid": True, "proof": platform.verify_proof(code).to_json()}
            except ProofRefused as exc:
                return 200, {"valid": False, "reason": exc.reason}
        if operation == "verify":
            payload = body.get("code")
            if not isinstance(payload, str):
                return 400, {"error": "bad_request", "message": "code must be a string"}
            expect_name = body.get("expect")
            expect = {"resident": TokenKind.RESIDENT,
                      "enterprise": TokenKind.ENTERPRISE}.get(str(expect_name))
            try:
                verified = platform.verify(payload, expect)
            except CodeRefused as exc:
                return 200, {"valid": False, "reason": exc.reason.value, "detail": exc.detail}
            data = verified.to_json()
            data["expires_in_s"] = max(0.0, verified.expires_at - now)
            data["lifetime_s"] = verified.expires_at - verified.issued_at
            return 200, {"valid": True, "code": data}
        return 404, {"error": "not_found", "message": f"no operation {operation!r}"}


def _progress_of(platform: EmbeddedCodePlatform, body: dict[str, Any]
                 ) -> tuple[int, dict[str, Any]]:
    number = body.get("handling_number")
    if number is not None:
        try:
            found = platform.progress_by_number(str(number))
        except BadHandlingNumber as exc:
            return 400, {"error": "bad_handling_number", "message": str(exc)}
        except ProgressNotFound:
            return 404, {"error": "no_such_application",
                         "message": "没有找到这个办件编号，请核对回执"}
        return 200, {"applications": [found.to_json()]}
    person_data = body.get("person")
    if not isinstance(person_data, dict) or not person_data.get("id_number"):
        return 400, {"error": "bad_request",
                     "message": "person.id_number or handling_number is required"}
    person = Person(str(person_data["id_number"]), str(person_data.get("name", "")))
    return 200, {"applications": [a.to_json() for a in platform.progress_for(person)]}


def _issued_json(code: IssuedCode, now: float) -> dict[str, Any]:
    return {"text": code.text, "kind": kind_name(code.kind),
            "expires_in_s": max(0.0, code.expires_at - now), "lifetime_s": code.lifetime_s,
            "masked_name": code.masked_name,
            "enterprise": code.enterprise.to_json() if code.enterprise else None}


class _Handler(BaseHTTPRequestHandler):
    server_ref: ReferenceCodeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("refserver: " + format, *args)

    def _send(self, status: int, data: dict[str, Any] | bytes) -> None:
        raw = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(raw)))
        try:
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its time-out)
            log.debug("refserver: the client closed the connection before the answer")

    def _send_html(self, status: int, html: str) -> None:
        raw = html.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        if self.path.startswith(("/verify/", "/progress/")):
            status, html = self.server_ref.page(self.path.split("?", 1)[0])
            self._send_html(status, html)
        elif self.path == f"{API_PREFIX}/health":
            self._send(200, {"ok": True, "public_key": self.server_ref.platform.public_key})
        else:
            self._send(404, {"error": "not_found"})

    def do_POST(self) -> None:
        server = self.server_ref
        server.requests += 1
        faults = server.faults
        if faults.delay_s:
            time.sleep(faults.delay_s)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, {"error": "too_large"})
            return
        body_raw = self.rfile.read(length)
        if faults.status:
            self._send(faults.status, {"error": HTTPStatus(faults.status).phrase})
            return
        if faults.garbage:
            self._send(200, b"<html>proxy error</html>")
            return
        if server.api_key and self.headers.get("Authorization") != f"Bearer {server.api_key}":
            self._send(401, {"error": "unauthorised"})
            return
        if not self.path.startswith(API_PREFIX + "/"):
            self._send(404, {"error": "not_found"})
            return
        try:
            body = json.loads(body_raw.decode("utf-8")) if body_raw else {}
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except (UnicodeDecodeError, ValueError):
            self._send(400, {"error": "bad_request", "message": "the body must be a JSON object"})
            return
        status, data = server.handle(self.path[len(API_PREFIX) + 1:], body)
        self._send(status, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.codes.refserver",
                                     description="Reference server for the code interface.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8086)
    parser.add_argument("--api-key", default="", help="require this bearer token")
    parser.add_argument("--lifetime", type=int, default=180, help="code lifetime in seconds")
    parser.add_argument("--key-file", default="", help="PEM file of the platform's signing key "
                        "(made on first use); proofs verify across restarts")
    args = parser.parse_args(argv)
    key = load_or_create_key(args.key_file) if args.key_file else None
    platform = EmbeddedCodePlatform(key, terminal_id="REF-PLATFORM", lifetime_s=args.lifetime,
                                    proof_key=key)
    server = ReferenceCodeServer(platform, api_key=args.api_key, host=args.host,
                                 port=args.port).start()
    print(f"code platform reference server on {server.url}{API_PREFIX}/ "
          f"(public key {platform.public_key}); Ctrl+C stops it", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

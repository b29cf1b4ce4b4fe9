"""The service platform's code interface over HTTP (JSON), documented in docs/codes.md.

Every call is a ``POST`` of a JSON object to ``<base url>/codes/v1/<operation>`` with the
headers ``Authorization: Bearer <api key>`` (when configured), ``X-Terminal-Id`` and
``Cache-Control: no-store``. Personal data travels only in request bodies (never in URLs, which
end up in access logs), and only over HTTPS, except to a loopback reference server.

Codes returned by the platform are opaque to the terminal: it shows them and sends scanned ones
back to ``verify``. The platform says how many seconds a code has left (``expires_in_s``); the
adapter turns that into this terminal's clock, so clock differences do not shorten or stretch
a code's life. Network failures, time-outs and server errors become
:class:`kiosk.codes.refusals.PlatformUnavailable`.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from config.checks import is_loopback_host
from kiosk.codes.platform import (
    CodePlatform,
    Enterprise,
    IssuedCode,
    IssueRefused,
    Person,
    VerifiedCode,
)
from kiosk.codes.progress import (
    Application,
    BadHandlingNumber,
    ProgressNotFound,
    normalise_handling_number,
)
from kiosk.codes.proofdocs import (
    PROOF_KIND_BY_ID,
    ProofDocument,
    ProofKind,
    ProofRefused,
    VerifiedProof,
)
from kiosk.codes.refusals import CodeRefused, PlatformUnavailable, RefusalReason
from kiosk.codes.tokens import Role, TokenKind

log = logging.getLogger(__name__)

API_PREFIX = "/codes/v1"
MAX_RESPONSE_BYTES = 256 * 1024
_KINDS = {"resident": TokenKind.RESIDENT, "enterprise": TokenKind.ENTERPRISE}


def kind_name(kind: TokenKind) -> str:
    return kind.name.lower()


class HttpCodePlatform(CodePlatform):
    name = "http"
    verifies_unknown = True

    def __init__(self, base_url: str, *, timeout_s: float = 5.0, api_key: str = "",
                 terminal_id: str = "", clock: Callable[[], float] = time.time,
                 allow_insecure: bool = False) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the code platform needs an http(s):// base URL, not {base_url!r}")
        if parts.scheme == "http" and not allow_insecure and not is_loopback_host(parts.hostname):
            raise ValueError("the code platform must be reached over https:// (personal data "
                             "is sent); plain http:// is allowed only to 127.0.0.1/localhost")
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._api_key = api_key
        self.terminal_id = terminal_id
        self._clock = clock
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # -- transport -----------------------------------------------------------------------------
    def _post(self, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        url = f"{self.base_url}{API_PREFIX}/{operation}"
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Accept": "application/json", "Cache-Control": "no-store",
                   "X-Terminal-Id": self.terminal_id}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(url, json.dumps(body).encode("utf-8"), headers,
                                         method="POST")
        started = time.perf_counter()
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                status, raw = response.status, response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read(MAX_RESPONSE_BYTES + 1)
            exc.close()
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PlatformUnavailable(f"cannot reach the code platform at {self.base_url}: "
                                      f"{reason}") from exc
        log.debug("code platform %s -> %s in %.0f ms", operation, status,
                  (time.perf_counter() - started) * 1000)
        if len(raw) > MAX_RESPONSE_BYTES:
            raise PlatformUnavailable(f"the code platform's answer to {operation} is too large")
        try:
            data = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PlatformUnavailable(f"the code platform answered {operation} with "
                                      f"HTTP {status} and no JSON") from exc
        if not isinstance(data, dict):
            raise PlatformUnavailable(f"the code platform's answer to {operation} is not an "
                                      "object")
        if status == 403 and data.get("error") == "not_authorised":
            return status, data  # a refusal about this person, not about the terminal
        if status in (400, 404) and data.get("error") in ("no_such_application",
                                                          "bad_handling_number"):
            return status, data  # a refusal about this person, not about the terminal
        if status in (401, 403):
            raise PlatformUnavailable("the code platform refused this terminal's credentials "
                                      f"(HTTP {status}): check the API key")
        if status != 200:
            raise PlatformUnavailable(f"the code platform failed on {operation} "
                                      f"(HTTP {status}: {str(data.get('error', ''))[:80]})")
        return status, data

    @staticmethod
    def _person(person: Person) -> dict[str, str]:
        return {"id_number": person.id_number, "name": person.name}

    def _issued(self, data: dict[str, Any]) -> IssuedCode:
        try:
            code = data["code"]
            now = self._clock()
            expires_at = now + float(code["expires_in_s"])
            lifetime = float(code.get("lifetime_s", code["expires_in_s"]))
            enterprise = code.get("enterprise")
            return IssuedCode(
                text=str(code["text"]), kind=_KINDS[code["kind"]],
                issued_at=expires_at - lifetime, expires_at=expires_at,
                masked_name=str(code.get("masked_name", "")),
                enterprise=Enterprise.from_json(enterprise) if enterprise else None)
        except (KeyError, TypeError, ValueError) as exc:
            raise PlatformUnavailable(f"the code platform's code is incomplete: {exc!r}") from exc

    # -- the interface -------------------------------------------------------------------------
    def issue_resident_code(self, person: Person) -> IssuedCode:
        status, data = self._post("resident", {"person": self._person(person)})
        if status != 200:
            raise IssueRefused(str(data.get("message") or "暂时无法生成居民码，请稍后再试。"),
                               f"HTTP {status}: {data.get('error', '')}")
        return self._issued(data)

    def enterprises_for(self, person: Person) -> list[Enterprise]:
        status, data = self._post("enterprises", {"person": self._person(person)})
        if status != 200:
            raise IssueRefused(str(data.get("message") or "暂时无法查询企业信息。"),
                               f"HTTP {status}: {data.get('error', '')}")
        try:
            return [Enterprise.from_json(item) for item in data["enterprises"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise PlatformUnavailable(f"the enterprise list is incomplete: {exc!r}") from exc

    def issue_enterprise_code(self, person: Person, enterprise_id: str) -> IssuedCode:
        status, data = self._post("enterprise", {"person": self._person(person),
                                                 "enterprise_id": enterprise_id})
        if status != 200:
            raise IssueRefused(str(data.get("message") or "暂时无法生成企业码，请稍后再试。"),
                               f"HTTP {status}: {data.get('error', '')}")
        return self._issued(data)

    def verify(self, payload: str, expect: TokenKind | None = None) -> VerifiedCode:
        body: dict[str, Any] = {"code": payload}
        if expect is not None:
            body["expect"] = kind_name(expect)
        status, data = self._post("verify", body)
        if status != 200:
            raise PlatformUnavailable(f"the code platform answered verify with HTTP {status}")
        if not data.get("valid"):
            try:
                reason = RefusalReason(str(data.get("reason", "invalid")))
            except ValueError:
                reason = RefusalReason.INVALID
            raise CodeRefused(reason, str(data.get("detail", ""))[:200])
        try:
            code = data["code"]
            now = self._clock()
            expires_at = now + float(code["expires_in_s"])
            enterprise = code.get("enterprise")
            return VerifiedCode(
                kind=_KINDS[code["kind"]], subject_ref=str(code["subject_ref"]),
                issued_at=expires_at - float(code.get("lifetime_s", 0)),
                expires_at=expires_at, terminal_id=str(code.get("terminal_id", "")),
                masked_name=str(code.get("masked_name", "")),
                enterprise=Enterprise.from_json(enterprise) if enterprise else None,
                role=Role[str(code.get("role", "self")).upper()])
        except (KeyError, TypeError, ValueError) as exc:
            raise PlatformUnavailable(f"the verified code is incomplete: {exc!r}") from exc

    # -- progress and proofs ---------------------------------------------------------------------
    def progress_for(self, person: Person) -> list[Application]:
        status, data = self._post("progress", {"person": self._person(person)})
        if status != 200:
            raise IssueRefused(str(data.get("message") or "暂时无法查询办件进度。"),
                               f"HTTP {status}: {data.get('error', '')}")
        return self._applications(data)

    def progress_by_number(self, handling_number: str) -> Application:
        number = normalise_handling_number(handling_number)
        status, data = self._post("progress", {"handling_number": number})
        if status == 404:
            raise ProgressNotFound(number)
        if status == 400:
            raise BadHandlingNumber(str(data.get("message") or "办件编号格式不正确"))
        if status != 200:
            raise IssueRefused(str(data.get("message") or "暂时无法查询办件进度。"),
                               f"HTTP {status}: {data.get('error', '')}")
        found = self._applications(data)
        if not found:
            raise ProgressNotFound(number)
        return found[0]

    @staticmethod
    def _applications(data: dict[str, Any]) -> list[Application]:
        try:
            return [Application.from_json(item) for item in data["applications"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise PlatformUnavailable(f"the progress answer is incomplete: {exc!r}") from exc

    def proof_kinds(self, person: Person) -> list[ProofKind]:
        status, data = self._post("proofs", {"person": self._person(person)})
        if status != 200:
            raise IssueRefused(str(data.get("message") or "暂时无法查询可打印的证明。"),
                               f"HTTP {status}: {data.get('error', '')}")
        try:
            return [PROOF_KIND_BY_ID.get(str(k["id"])) or ProofKind(
                str(k["id"]), str(k["title"]), str(k.get("description", "")))
                for k in data["proofs"]]
        except (KeyError, TypeError) as exc:
            raise PlatformUnavailable(f"the proof list is incomplete: {exc!r}") from exc

    def issue_proof(self, person: Person, kind_id: str) -> ProofDocument:
        status, data = self._post("proof", {"person": self._person(person),
                                            "proof_id": kind_id})
        if status != 200:
            raise IssueRefused(str(data.get("message") or "暂时无法出具证明，请稍后再试。"),
                               f"HTTP {status}: {data.get('error', '')}")
        try:
            return ProofDocument.from_json(data["document"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PlatformUnavailable(f"the proof is incomplete: {exc!r}") from exc

    def verify_proof(self, code: str) -> VerifiedProof:
        status, data = self._post("proof/verify", {"code": code})
        if status != 200:
            raise PlatformUnavailable(f"the platform answered proof/verify with HTTP {status}")
        if not data.get("valid"):
            raise ProofRefused(str(data.get("reason", "invalid"))[:200])
        try:
            return VerifiedProof(**{k: data["proof"][k] for k in (
                "document_no", "kind", "title", "issued_on", "masked_holder", "masked_id",
                "digest", "sample")})
        except (KeyError, TypeError) as exc:
            raise PlatformUnavailable(f"the verified proof is incomplete: {exc!r}") from exc

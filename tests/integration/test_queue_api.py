"""The hall server's HTTP API on loopback: every route answers as /openapi.json says."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk.queue import QueueEngine, QueueHttpServer, QueueSettings
from kiosk.queue.api import ROUTES
from kiosk.queue.staff_page import STAFF_HTML

pytestmark = pytest.mark.timeout(60)


def validate(value: Any, schema: dict[str, Any], spec: dict[str, Any], where: str = "$") -> None:
    """A small JSON-schema check: $ref, oneOf, type (with null), enum, pattern, required,
    properties (no undocumented keys), items."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    if "oneOf" in schema:
        passed = 0
        for option in schema["oneOf"]:
            try:
                validate(value, option, spec, where)
                passed += 1
            except AssertionError:
                pass
        assert passed == 1, f"{where}: {value!r} matches {passed} of oneOf"
        return
    types = schema.get("type")
    if types:
        types = [types] if isinstance(types, str) else types
        kinds = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list,
                 "null": type(None), "number": (int, float)}
        ok = any(isinstance(value, kinds[t]) and not (t == "integer" and isinstance(value, bool))
                 for t in types)
        assert ok, f"{where}: {value!r} is not {types}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "pattern" in schema and isinstance(value, str):
        assert re.search(schema["pattern"], value), f"{where}: {value!r} !~ {schema['pattern']}"
    if isinstance(value, dict) and "properties" in schema:
        missing = set(schema.get("required", ())) - set(value)
        assert not missing, f"{where}: missing {missing}"
        extra = set(value) - set(schema["properties"])
        assert not extra, f"{where}: undocumented keys {extra}"
        for key, item in value.items():
            validate(item, schema["properties"][key], spec, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            validate(item, schema["items"], spec, f"{where}[{index}]")


class Api:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)

    def call(self, method: str, path: str, body: Any = None, raw: bytes | None = None
             ) -> tuple[int, Any, dict[str, str]]:
        payload = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        self.conn.request(method, path, body=payload,
                          headers={"Content-Type": "application/json"} if payload else {})
        response = self.conn.getresponse()
        data = response.read()
        ctype = response.getheader("Content-Type", "")
        parsed = json.loads(data) if "json" in ctype and data else data
        return response.status, parsed, dict(response.getheaders())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[QueueHttpServer]:
    engine = QueueEngine(tmp_path / "hall.sqlite", QueueSettings(synchronous="normal"))
    with QueueHttpServer(engine) as srv:
        yield srv
    engine.close()


def test_every_route_answers_as_described(server: QueueHttpServer) -> None:
    api = Api(server.port)
    status, spec, _ = api.call("GET", "/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.1")
    assert {(r.path, r.method.lower()) for r in ROUTES} == {
        (path, method) for path, ops in spec["paths"].items() for method in ops}

    seen: set[tuple[str, str]] = set()

    def check(method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        route_path = next(p for p in spec["paths"] if re.fullmatch(
            re.sub(r"\{\w+\}", "[^/]+", p), path.split("?")[0])
            and method.lower() in spec["paths"][p])
        op = spec["paths"][route_path][method.lower()]
        seen.add((route_path, method.lower()))
        status, data, _ = api.call(method, "/api/v1" + path, body)
        assert status == expect, (method, path, status, data)
        assert str(status) in op["responses"], (method, path, status)
        schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
        validate(data, schema, spec, f"{method} {path}")
        if body is not None and "requestBody" in op:
            validate(body, op["requestBody"]["content"]["application/json"]["schema"], spec,
                     f"request {method} {path}")
        return data

    check("GET", "/health")
    first = check("POST", "/tickets", {"category": "A", "holder_name": "张三",
                                       "terminal": "K-1", "request_id": "r-1"}, 201)
    assert first["number"] == "A001" and first["holder"] == "张*"
    check("POST", "/tickets", {"category": "A", "priority": "green"}, 201)
    check("GET", "/categories")
    check("GET", "/categories/A")
    check("GET", f"/tickets/{first['id']}")
    start = (datetime.now().astimezone() + timedelta(minutes=5)).isoformat()
    imported = check("POST", "/appointments", {"appointments": [
        {"ref": "R1", "category": "B", "start": start, "id_number": "370102199001011234",
         "name": "王五", "code": "QR-1"}]})
    assert imported["added"] == 1
    appt = check("POST", "/checkin", {"code": "QR-1", "terminal": "K-1"}, 201)
    assert appt["priority"] == "appointment" and appt["holder"] == "王*"
    called = check("POST", "/windows/1/call-next", {"request_id": "c-1"})
    assert called["ticket"]["priority"] == "green"
    check("GET", "/windows")
    check("GET", "/calls?limit=5")
    check("POST", f"/tickets/{called['ticket']['id']}/served", {})
    second = check("POST", "/windows/2/call-next", {})
    check("POST", f"/tickets/{second['ticket']['id']}/no-show", {})
    third = check("POST", "/tickets", {"category": "C"}, 201)
    check("POST", f"/tickets/{third['id']}/cancel", {})
    window = check("PUT", "/windows/3/categories", {"categories": ["D"]})
    assert window["source"] == "override"
    check("PUT", "/windows/3/categories", {"categories": None})
    result = check("POST", "/offline/tickets", {"terminal": "K-1", "tickets": []})
    assert result == {"accepted": [], "duplicates": [], "rejected": []}
    # errors are described too
    check("POST", f"/tickets/{third['id']}/served", {}, 409)
    check("GET", "/tickets/unknown", None, 404)
    check("POST", "/tickets", {"category": "Z"}, 422)
    check("POST", "/checkin", {"code": "nothing"}, 409)
    assert seen == {(p, m) for p, ops in spec["paths"].items() for m in ops}, "all exercised"


def test_bad_requests_get_clear_json_errors(server: QueueHttpServer) -> None:
    api = Api(server.port)
    status, data, _ = api.call("POST", "/api/v1/tickets", raw=b"{not json")
    assert status == 400 and "not valid JSON" in data["error"]["message"]
    status, data, _ = api.call("POST", "/api/v1/tickets", [1, 2])
    assert status == 422 and "JSON object" in data["error"]["message"]
    status, data, _ = api.call("POST", "/api/v1/tickets", {})
    assert status == 422 and data["error"]["details"]["field"] == "category"
    status, data, _ = api.call("POST", "/api/v1/tickets", {"category": 5})
    assert status == 422 and "must be a string" in data["error"]["message"]
    status, data, _ = api.call("GET", "/api/v1/nothing-here")
    assert status == 404 and data["error"]["code"] == "no_route"
    status, data, _ = api.call("DELETE", "/api/v1/tickets")
    assert status == 405
    status, data, _ = api.call("PUT", "/api/v1/windows/1/categories", {"categories": "A"})
    assert status == 422
    status, data, _ = api.call("GET", "/api/v1/calls?limit=x")
    assert status == 422
    # the connection is still usable after every error (keep-alive kept in step)
    status, data, _ = api.call("GET", "/categories")  # also without the /api/v1 prefix
    assert status == 200 and data[0]["code"] == "A"


def test_staff_page(server: QueueHttpServer) -> None:
    api = Api(server.port)
    status, _, headers = api.call("GET", "/")
    assert status == 302 and headers["Location"] == "/staff"
    status, page, headers = api.call("GET", "/staff")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    html = page.decode("utf-8")
    for words in ("叫下一位", "办结", "过号", 'id="window"'):
        assert words in html
    assert "innerHTML" not in html  # text only, never markup from the server
    # every API path the page uses exists
    used = set(re.findall(r'api\("(GET|POST|PUT)", "(/[a-z-]+)', html))
    used |= {(m, p) for m, p in re.findall(r'act\("(POST)", "(/[a-z-]+)/', html)}
    assert used, "the page calls the API"
    for method, prefix in used:
        assert any(r.method == method and r.path.startswith(prefix) for r in ROUTES), prefix


NODE_HARNESS = r"""
const BASE = process.argv[2];
const elements = {};
function element(id) {
  return {id, textContent: "", disabled: false, value: "", options: [], children: [],
          handlers: {},
          appendChild(child) {
            this.options.push(child);
            if (!this.value) { this.value = child.value; }
          },
          replaceChildren(...children) { this.children = children; },
          addEventListener(type, fn) { this.handlers[type] = fn; }};
}
globalThis.document = {
  getElementById: (id) => (elements[id] ??= element(id)),
  createElement: (tag) => ({tag, textContent: "", value: "", children: [],
                            appendChild(child) { this.children.push(child); }}),
};
globalThis.localStorage = {getItem: () => "2", setItem() {}};
globalThis.setInterval = () => 0;
const realFetch = fetch;
globalThis.fetch = (url, options) => realFetch(BASE + url, options);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function settle() { for (let i = 0; i < 50; i++) { await sleep(20); } }
(async () => {
  PAGE_SCRIPT
  await settle();
  const out = {};
  out.windows = elements.window.options.map((o) => o.textContent);
  out.selected = elements.window.value;
  out.waiting = elements.categories.children.map((r) => r.children.map((c) => c.textContent));
  await elements.call.handlers.click();
  await settle();
  out.afterCall = [elements.current.textContent, elements["current-info"].textContent,
                   elements.served.disabled];
  await elements.served.handlers.click();
  await settle();
  out.afterServed = [elements.current.textContent, elements.served.disabled];
  await elements.call.handlers.click();
  await settle();
  out.second = [elements.current.textContent, elements.message.textContent];
  out.calls = elements.calls.children.map((r) => r.children.map((c) => c.textContent));
  await elements.call.handlers.click();
  await settle();
  out.empty = [elements.current.textContent, elements.message.textContent];
  out.callsAtEnd = elements.calls.children.map((r) => r.children.map((c) => c.textContent));
  console.log(JSON.stringify(out));
})().catch((error) => { console.error(error); process.exit(1); });
"""


def test_staff_page_script_runs_a_full_cycle(server: QueueHttpServer, tmp_path: Path) -> None:
    """The page's own JavaScript, run by node against the server with a minimal DOM."""
    import shutil
    import subprocess

    node = shutil.which("node")
    assert node is not None, "node is not installed: `make setup` installs Debian's nodejs"
    server.engine.issue_ticket("A", holder_name="张三")
    server.engine.issue_ticket("A", priority="green")
    html = STAFF_HTML
    script = html.split("<script>")[1].split("</script>")[0]
    harness = tmp_path / "staff.js"
    harness.write_text(NODE_HARNESS.replace("PAGE_SCRIPT", script), encoding="utf-8")
    result = subprocess.run([node, str(harness), server.url], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["windows"] == ["1号窗口", "2号窗口", "3号窗口", "4号窗口"]
    assert out["selected"] == "2"  # remembered in localStorage
    assert out["waiting"][0] == ["A 综合业务", "2 人"]
    assert out["afterCall"] == ["A002", "综合业务 · 绿色通道", False]
    assert out["afterServed"] == ["—", True]  # nothing called at window 2 any more
    assert out["second"] == ["A001", ""]
    assert out["calls"] == [["A001", "2", "called"], ["A002", "2", "served"]]
    assert out["empty"] == ["—", "当前没有等待的号"]
    assert out["callsAtEnd"] == [["A001", "2", "served"], ["A002", "2", "served"]]
    states = {t.number: t.state.value for t in server.engine.recent_calls()}
    assert states == {"A001": "served", "A002": "served"}

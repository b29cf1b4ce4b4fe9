"""The configurable order of call through the real hall server (uvicorn on loopback): each
value of ``queue.priority_lane`` and of the transfer placement rules, as staff and kiosks see
it (call-next, the next-tickets list, people ahead on a ticket, the staff page)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from config.queue import CategorySettings, WindowSettings
from kiosk.queue import QueueEngine, QueueHttpServer, QueueSettings

pytestmark = pytest.mark.timeout(120)
API = "/api/v1"


class Hall:
    def __init__(self, server: QueueHttpServer) -> None:
        self.url = server.url
        key = server.hall.add_terminal("K-0001")
        server.hall.add_staff("li", "password-1", ["1", "2", "3"])
        self.kiosk = httpx.Client(base_url=self.url, headers={"X-Api-Key": key}, timeout=10)
        self.staff = httpx.Client(base_url=self.url, timeout=10)
        login = self.staff.post(f"{API}/session", json={"name": "li", "password": "password-1"})
        assert login.status_code == 200, login.text
        self.staff.headers["X-CSRF-Token"] = login.json()["csrf"]

    def issue(self, kinds: str, category: str = "A") -> list[dict[str, Any]]:
        out = []
        for kind in kinds:
            answer = self.kiosk.post(f"{API}/tickets", json={
                "category": category, "priority": "green" if kind == "G" else "normal"})
            assert answer.status_code == 201, answer.text
            out.append(answer.json())
        return out

    def call(self, window: str) -> dict[str, Any] | None:
        answer = self.staff.post(f"{API}/windows/{window}/call-next", json={})
        assert answer.status_code == 200, answer.text
        return answer.json()["ticket"]  # type: ignore[no-any-return]

    def next(self, window: str) -> list[str]:
        answer = self.staff.get(f"{API}/windows/{window}/next", params={"limit": 20})
        assert answer.status_code == 200, answer.text
        return [t["number"] for t in answer.json()]

    def drain(self, window: str) -> list[str]:
        called = []
        for _ in range(50):
            ticket = self.call(window)
            if ticket is None:
                return called
            called.append(ticket["number"])
        raise AssertionError("the queue did not drain")

    def transfer(self, ticket: dict[str, Any], **to: str) -> dict[str, Any]:
        answer = self.staff.post(f"{API}/tickets/{ticket['id']}/transfer", json=to)
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def ahead(self, ticket: dict[str, Any]) -> int:
        return self.kiosk.get(f"{API}/tickets/{ticket['id']}").json()["people_ahead"]  # type: ignore[no-any-return]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Hall]]:
    running: list[tuple[QueueEngine, QueueHttpServer, Hall]] = []

    def go(**rules: str) -> Hall:
        settings = QueueSettings(
            synchronous="normal", **rules,
            categories=[CategorySettings(code="A", name="综合业务"),
                        CategorySettings(code="B", name="社保医保")],
            windows=[WindowSettings(id="1", name="1号窗口", area="A区", categories=["A"]),
                     WindowSettings(id="2", name="2号窗口", area="A区", categories=["B"]),
                     WindowSettings(id="3", name="3号窗口", area="B区", categories=["A"])])
        folder = tmp_path / str(len(running))
        engine = QueueEngine(folder / "db" / "hall.sqlite", settings,
                             key_path=folder / "secret" / "id.key")
        server = QueueHttpServer(engine, speech_dir=folder / "speech").start()
        hall = Hall(server)
        running.append((engine, server, hall))
        return hall

    yield go
    for engine, server, hall in running:
        hall.kiosk.close()
        hall.staff.close()
        server.stop()
        engine.close()


def staff_page_rules(hall: Hall) -> str:
    page = hall.staff.get("/staff")
    assert page.status_code == 200
    return page.text


@pytest.mark.parametrize(("rule", "order", "words"), [
    ("strict", ["A003", "A005", "A001", "A002", "A004", "A006", "A007"], "严格优先"),
    ("ratio:2", ["A001", "A002", "A003", "A004", "A006", "A005", "A007"],
     "每叫 2 位普通号，插叫 1 位优先号"),
    ("off", ["A001", "A002", "A003", "A004", "A005", "A006", "A007"], "不分优先"),
])
def test_the_priority_lane_rule(start: Callable[..., Hall], rule: str, order: list[str],
                                words: str) -> None:
    hall = start(priority_lane=rule)
    tickets = hall.issue("NNGNGNN")  # A003 and A005: green channel
    assert hall.next("1") == order
    # people ahead on each ticket (what the kiosk prints and the phone page shows) follow it
    assert [hall.ahead(t) for t in tickets] == [order.index(t["number"]) for t in tickets]
    first = hall.call("1")
    assert first is not None and first["number"] == order[0]
    assert hall.next("1") == order[1:]
    assert [first["number"], *hall.drain("1")] == order
    page = staff_page_rules(hall)
    assert words in page and f'"rule": "{rule}"' in page


@pytest.mark.parametrize(("rule", "category_order", "window_order", "words"), [
    ("keep_issue_time", ["A001", "B001", "B002"], ["A002", "B003", "A003"], "按原取号时间排队"),
    ("front", ["A001", "B001", "B002"], ["B003", "A002", "A003"], "排在最前"),
    ("back", ["B001", "B002", "A001"], ["A002", "A003", "B003"], "排在最后"),
])
def test_the_transfer_placement_rule(start: Callable[..., Hall], rule: str,
                                     category_order: list[str], window_order: list[str],
                                     words: str) -> None:
    hall = start(transfer_to_category=rule, transfer_to_window=rule)
    a1 = hall.issue("N")[0]
    hall.issue("NN", "B")
    assert hall.call("1")["number"] == "A001"  # type: ignore[index]
    moved = hall.transfer(a1, category="B")
    assert moved["number"] == "A001" and moved["state"] == "waiting"
    assert moved["people_ahead"] == category_order.index("A001")
    assert hall.next("2") == category_order
    assert hall.drain("2") == category_order
    # to one window: B003 goes to window 1, which serves A only
    hall.issue("N")  # A002
    b3 = hall.issue("N", "B")[0]
    hall.issue("N")  # A003
    assert hall.call("2")["id"] == b3["id"]  # type: ignore[index]
    hall.transfer(b3, window="1")
    assert hall.call("2") is None  # not back to B's window
    assert hall.next("1") == window_order
    assert hall.drain("1") == window_order
    assert hall.call("3") is None  # A's other window had nothing left: no ticket twice
    page = staff_page_rules(hall)
    assert page.count(words) == 2 and page.count(f'"rule": "{rule}"') == 2

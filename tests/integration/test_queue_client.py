"""The kiosk's client against a real hall server on loopback: time-outs, retries, lost answers,
restarts, and offline numbers that the server takes in later."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.schema import OpeningHours as HoursLine
from kiosk.queue import (
    HttpQueueService,
    OfflineStore,
    QueueClosed,
    QueueEngine,
    QueueHttpServer,
    QueueSettings,
    QueueUnavailable,
    TicketState,
    TooLate,
)
from kiosk.queue.hall import HallStore
from kiosk.queue.hours import OpeningHours
from kiosk.queue.models import AppointmentIn

pytestmark = pytest.mark.timeout(60)
SH = ZoneInfo("Asia/Shanghai")
ALWAYS = OpeningHours([], SH)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings(**changes: object) -> QueueSettings:
    return QueueSettings(synchronous="normal", offline_ranges=[
        {"terminal": "K-0001", "first": 901, "last": 903},
        {"terminal": "K-0002", "first": 904, "last": 910}], **changes)


def key_for(engine: QueueEngine, terminal: str = "K-0001") -> str:
    """A kiosk credential from the hall server's database (kiosk queue terminal add)."""
    hall = HallStore(engine.db_path, SH, synchronous="normal")
    try:
        return hall.add_terminal(terminal)
    finally:
        hall.close()


def staff_for(engine: QueueEngine, name: str = "li", windows: tuple[str, ...] = ("1",)) -> str:
    hall = HallStore(engine.db_path, SH, synchronous="normal")
    try:
        hall.add_staff(name, "password-1", windows)
    finally:
        hall.close()
    return name


class LosingProxy:
    """Forwards HTTP requests to the server but swallows the answer to the first ``lose``
    requests (closing the connection), as a flaky hall network would."""

    def __init__(self, target_port: int, lose: int = 1) -> None:
        self.target = target_port
        self.lose = lose
        self.requests = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _read_message(conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        while len(body) < length:
            body += conn.recv(65536)
        return head + b"\r\n\r\n" + body

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except TimeoutError:
                continue
            with client:
                client.settimeout(5)
                while True:
                    request = self._read_message(client)
                    if not request:
                        break
                    self.requests += 1
                    with socket.create_connection(("127.0.0.1", self.target), 5) as upstream:
                        upstream.sendall(request.replace(b"keep-alive", b"close"))
                        answer = self._read_message(upstream)
                    if self.requests <= self.lose:
                        break  # the server did the work; the kiosk never hears of it
                    client.sendall(answer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[QueueEngine]:
    engine = QueueEngine(tmp_path / "hall.sqlite", settings())
    yield engine
    engine.close()


def test_a_lost_answer_is_retried_without_a_second_ticket(engine: QueueEngine) -> None:
    with QueueHttpServer(engine) as server:
        proxy = LosingProxy(server.port, lose=0)
        client = HttpQueueService(f"http://127.0.0.1:{proxy.port}", timeout_s=2, retries=2,
                                  backoff_s=0.01, api_key=key_for(engine))
        try:
            client.login(staff_for(engine), "password-1")  # call-next is a staff action
            proxy.requests, proxy.lose = 0, 1
            ticket = client.issue_ticket("A")
            assert proxy.requests == 2  # the first answer was lost, the retry got it
            assert ticket.number == "A001"
            assert client.issue_ticket("A").number == "A002"  # no A00x was wasted
            count = engine._conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
            assert count == 2
            proxy.lose = 4  # call-next is protected the same way
            engine.issue_ticket("B")
            called = client.call_next("1")
            assert called is not None and called.number == "A001"
            states = engine._conn.execute("SELECT state FROM tickets ORDER BY seq").fetchall()
            assert [s[0] for s in states] == ["called", "waiting", "waiting"]
        finally:
            client.close()
            proxy.close()


def test_unreachable_server_is_said_within_the_time_out() -> None:
    port = free_port()
    client = HttpQueueService(f"http://127.0.0.1:{port}", timeout_s=0.5, retries=2,
                              backoff_s=0.05)
    started = time.monotonic()
    with pytest.raises(QueueUnavailable) as err:
        client.issue_ticket("A")
    assert time.monotonic() - started < 2
    assert "暂时无法连接" in err.value.message and "Connection" in err.value.details["reason"]
    client.close()


def test_a_hung_server_times_out() -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    client = HttpQueueService(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout_s=0.3,
                              retries=1, backoff_s=0.01)
    started = time.monotonic()
    with pytest.raises(QueueUnavailable, match="暂时无法连接"):
        client.categories()
    assert 0.5 < time.monotonic() - started < 3
    client.close()
    listener.close()


def test_the_client_survives_a_server_restart(tmp_path: Path) -> None:
    port = free_port()
    engine = QueueEngine(tmp_path / "hall.sqlite", settings())
    server = QueueHttpServer(engine, port=port).start()
    client = HttpQueueService(f"http://127.0.0.1:{port}/api/v1", timeout_s=2, retries=3,
                              backoff_s=0.05, api_key=key_for(engine))
    try:
        assert client.issue_ticket("A").number == "A001"
        server.stop()  # the kiosk's keep-alive connection dies with it
        server = QueueHttpServer(engine, port=port).start()
        assert client.issue_ticket("A").number == "A002"
    finally:
        client.close()
        server.stop()
        engine.close()


def test_server_errors_come_back_typed(tmp_path: Path) -> None:
    hours = OpeningHours([HoursLine(days="mon", open="00:00", close="00:01")], SH)
    engine = QueueEngine(tmp_path / "hall.sqlite", settings(), hours)
    with QueueHttpServer(engine) as server:
        client = HttpQueueService(server.url, timeout_s=2, api_key=key_for(engine))
        try:
            with pytest.raises(QueueClosed) as err:
                client.issue_ticket("A")
            assert err.value.next_open is not None and err.value.next_open.weekday() == 0
            engine.hours = ALWAYS
            engine.import_appointments([AppointmentIn(
                ref="R1", category="A", start=datetime(2020, 1, 6, 9, tzinfo=SH),
                id_number="370102199001011234")])
            with pytest.raises(TooLate) as late:  # loopback http may carry the ID number
                client.check_in(id_number="370102199001011234")
            assert late.value.offer_ticket
        finally:
            client.close()
    engine.close()


def test_offline_numbers_are_taken_in_later(tmp_path: Path) -> None:
    port = free_port()
    engine = QueueEngine(tmp_path / "hall.sqlite", settings())
    server = QueueHttpServer(engine, port=port).start()
    config = settings()
    store = OfflineStore(tmp_path / "kiosk-offline.sqlite", config, "K-0001", ALWAYS)
    client = HttpQueueService(f"http://127.0.0.1:{port}", timeout_s=0.5, retries=1,
                              backoff_s=0.01, terminal="K-0001", settings=config, hours=ALWAYS,
                              offline=store, probe_s=0.3, api_key=key_for(engine))
    try:
        assert client.issue_ticket("A").number == "A001"
        server.stop()
        offline = [client.issue_ticket("A", holder_name="赵六") for _ in range(2)]
        assert [t.number for t in offline] == ["A901", "A902"]
        assert all(t.offline and t.people_ahead is None for t in offline)
        assert offline[0].holder == "赵*" and offline[0].windows == ("1号窗口", "2号窗口")
        assert client.offline_now
        started = time.monotonic()
        third = client.issue_ticket("B")  # straight to the range: no time-out per tap
        assert time.monotonic() - started < 0.2 and third.number == "B901"
        tiles = client.categories()
        assert not tiles[0].online and tiles[0].waiting is None
        assert store.pending_count() == 3
        server = QueueHttpServer(engine, port=port).start()
        deadline = time.monotonic() + 10
        while store.pending_count() and time.monotonic() < deadline:
            time.sleep(0.05)  # the background thread hands them over
        assert store.pending_count() == 0
        rows = engine._conn.execute(
            "SELECT category, number, source, terminal, holder FROM tickets ORDER BY seq"
        ).fetchall()
        assert [tuple(r) for r in rows] == [
            ("A", 1, "online", "K-0001", ""), ("A", 901, "offline", "K-0001", "赵*"),
            ("A", 902, "offline", "K-0001", "赵*"), ("B", 901, "offline", "K-0001", "")]
        # the queue order follows the time of issue; the server goes on below the ranges
        assert engine.ticket(offline[1].id).people_ahead == 2
        assert client.issue_ticket("A").number == "A002"
        assert client.categories()[0].online
        # handing over again changes nothing
        store.mark_synced([])
        store._conn.execute("UPDATE offline_tickets SET synced_at = NULL")
        result = client.sync_offline()
        assert sorted(result.duplicates) == sorted(t.id for t in [*offline, third])
        assert engine._conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 5
        # the range is finite: then the kiosk says so
        server.stop()
        client.issue_ticket("A")
        with pytest.raises(QueueUnavailable, match="备用号段已用完"):
            client.issue_ticket("A")
    finally:
        client.close()
        server.stop()
        engine.close()


def test_two_kiosks_offline_never_give_the_same_number(tmp_path: Path) -> None:
    port = free_port()
    config = settings()
    engine = QueueEngine(tmp_path / "hall.sqlite", config)
    clients = [HttpQueueService(
        f"http://127.0.0.1:{port}", timeout_s=0.3, retries=0, terminal=terminal,
        settings=config, hours=ALWAYS, probe_s=60, api_key=key_for(engine, terminal),
        offline=OfflineStore(tmp_path / f"{terminal}.sqlite", config, terminal, ALWAYS))
        for terminal in ("K-0001", "K-0002")]
    try:
        numbers = [c.issue_ticket("C").number for c in clients for _ in range(3)]
        assert numbers == ["C901", "C902", "C903", "C904", "C905", "C906"]
        with QueueHttpServer(engine, port=port):
            for client in clients:
                assert len(client.sync_offline().accepted) == 3
            online = [clients[0].issue_ticket("C").number for _ in range(2)]
        assert online == ["C001", "C002"]
        got = engine._conn.execute("SELECT number FROM tickets WHERE category = 'C' "
                                   "ORDER BY number").fetchall()
        assert [r[0] for r in got] == [1, 2, 901, 902, 903, 904, 905, 906]
        assert engine.ticket(engine._conn.execute(
            "SELECT id FROM tickets WHERE number = 904").fetchone()[0]).state is (
            TicketState.WAITING)
    finally:
        for client in clients:
            client.close()
        engine.close()


def test_a_server_with_a_broken_database_counts_as_unavailable(tmp_path: Path) -> None:
    engine = QueueEngine(tmp_path / "hall.sqlite", settings())
    config = settings()
    store = OfflineStore(tmp_path / "offline.sqlite", config, "K-0001", ALWAYS)
    with QueueHttpServer(engine) as server:
        key = key_for(engine)
        plain = HttpQueueService(server.url, timeout_s=1, retries=1, backoff_s=0.01,
                                 api_key=key)
        kiosk = HttpQueueService(server.url, timeout_s=1, retries=1, backoff_s=0.01,
                                 terminal="K-0001", settings=config, hours=ALWAYS,
                                 offline=store, probe_s=60, api_key=key)
        try:
            engine.close()  # every request now fails inside the server (503)
            with pytest.raises(QueueUnavailable) as err:
                plain.issue_ticket("A")
            assert "HTTP 503" in err.value.details["reason"]
            ticket = kiosk.issue_ticket("A")
            assert ticket.offline and ticket.number == "A901"
        finally:
            plain.close()
            kiosk.close()

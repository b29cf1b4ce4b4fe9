"""The queue engine on a real SQLite file, with a clock the test sets."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.queue import CategorySettings, OfflineRange, TideLine, WindowSettings
from config.schema import OpeningHours as HoursLine
from kiosk.queue import (
    AppointmentIn,
    BadTransition,
    CapacityReached,
    InvalidRequest,
    Priority,
    QueueClosed,
    QueueEngine,
    QueueSettings,
    TicketNotFound,
    TicketState,
    UnknownCategory,
    UnknownWindow,
)
from kiosk.queue.hours import OpeningHours

SH = ZoneInfo("Asia/Shanghai")


class Clock:
    def __init__(self, when: datetime) -> None:
        self.t = when.timestamp()

    def __call__(self) -> float:
        return self.t

    def set(self, when: datetime) -> None:
        self.t = when.timestamp()

    def advance(self, seconds: float) -> None:
        self.t += seconds


def at(text: str, tz: ZoneInfo = SH) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def simple_settings(**changes: object) -> QueueSettings:
    """A and B served by one window each: estimates are easy to compute by hand."""
    base = dict(
        synchronous="normal",
        categories=[CategorySettings(code="A", name="综合业务", service_min=10),
                    CategorySettings(code="B", name="社保医保", service_min=6)],
        windows=[WindowSettings(id="1", name="1号窗口", area="A区", categories=["A"]),
                 WindowSettings(id="2", name="2号窗口", area="B区", categories=["B"])])
    base.update(changes)
    return QueueSettings(**base)


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2024-05-06T10:00:00"))  # a Monday


def make(tmp_path: Path, clock: Clock, settings: QueueSettings | None = None,
         lines: list[HoursLine] | None = None, tz: ZoneInfo = SH) -> QueueEngine:
    return QueueEngine(tmp_path / "queue.sqlite", settings or simple_settings(),
                       OpeningHours(lines or [], tz), clock=clock)


# -- numbering -----------------------------------------------------------------------------------
def test_numbers_are_prefix_and_three_digits_per_category(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock) as engine:
        numbers = [engine.issue_ticket("A").number for _ in range(3)]
        assert numbers == ["A001", "A002", "A003"]
        assert engine.issue_ticket("B").number == "B001"
        assert engine.issue_ticket("a").number == "A004"  # codes are case-insensitive
        ticket = engine.issue_ticket("B")
        assert ticket.category_name == "社保医保" and ticket.day == "2024-05-06"
        assert ticket.state is TicketState.WAITING and ticket.holder == ""


def test_numbers_survive_reopening_the_database(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock) as engine:
        first = engine.issue_ticket("A")
    with make(tmp_path, clock) as engine:
        assert engine.issue_ticket("A").number == "A002"
        assert engine.ticket(first.id).number == "A001"


def test_wal_journal_and_synchronous_setting(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock, QueueSettings()) as engine:
        engine.issue_ticket("A")
        conn = sqlite3.connect(tmp_path / "queue.sqlite")
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
        assert engine._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_daily_reset_at_midnight_in_the_sites_zone(tmp_path: Path, clock: Clock) -> None:
    clock.set(at("2024-05-06T23:59:30"))
    with make(tmp_path, clock) as engine:
        assert [engine.issue_ticket("A").number for _ in range(2)] == ["A001", "A002"]
        clock.set(at("2024-05-07T00:00:05"))  # 16:00:05 UTC: local midnight has passed
        fresh = engine.issue_ticket("A")
        assert (fresh.number, fresh.day) == ("A001", "2024-05-07")
        clock.set(at("2024-05-07T07:59:50"))  # 23:59:50 UTC
        assert engine.issue_ticket("A").number == "A002"
        clock.set(at("2024-05-07T08:00:10"))  # UTC midnight: no reset
        assert engine.issue_ticket("A").number == "A003"
        # yesterday's waiting tickets are not in today's queue
        assert engine.category("A").waiting == 3
        assert engine.call_next("1").number == "A001"
        assert engine.call_next("1").day == "2024-05-07"


def test_the_day_follows_the_configured_zone_not_the_machine(tmp_path: Path) -> None:
    instant = datetime(2024, 5, 6, 20, 0, tzinfo=ZoneInfo("UTC"))
    clock = Clock(instant)
    shanghai = make(tmp_path / "sh", clock, tz=SH)
    urumqi = make(tmp_path / "la", clock, tz=ZoneInfo("America/Los_Angeles"))
    try:
        assert shanghai.issue_ticket("A").day == "2024-05-07"  # 04:00 next morning
        assert urumqi.issue_ticket("A").day == "2024-05-06"  # 13:00 the same day
    finally:
        shanghai.close()
        urumqi.close()


def test_reserved_offline_ranges_and_taken_numbers_are_skipped(tmp_path: Path,
                                                               clock: Clock) -> None:
    settings = simple_settings(offline_ranges=[OfflineRange(terminal="K-1", first=3, last=4)])
    with make(tmp_path, clock, settings) as engine:
        assert [engine.issue_ticket("A").number for _ in range(3)] == ["A001", "A002", "A005"]


def test_number_space_ends_at_999(tmp_path: Path, clock: Clock) -> None:
    settings = simple_settings(
        categories=[CategorySettings(code="A", daily_capacity=999)],
        windows=[WindowSettings(id="1", categories=["A"])],
        offline_ranges=[OfflineRange(terminal="K-1", first=5, last=999)])
    with make(tmp_path, clock, settings) as engine:
        assert [engine.issue_ticket("A").number for _ in range(4)][-1] == "A004"
        assert engine.category("A").capacity_left == 0
        with pytest.raises(CapacityReached):
            engine.issue_ticket("A")


def test_a_retried_request_gets_the_same_ticket(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock) as engine:
        first = engine.issue_ticket("A", request_id="kiosk1-0001")
        again = engine.issue_ticket("A", request_id="kiosk1-0001")
        assert again.id == first.id and again.number == "A001"
        assert engine.issue_ticket("A", request_id="kiosk1-0002").number == "A002"
        with pytest.raises(InvalidRequest):
            engine.issue_ticket("A", request_id="has spaces")


def test_bad_input_is_refused_with_what_is_allowed(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock) as engine:
        with pytest.raises(UnknownCategory) as err:
            engine.issue_ticket("Z")
        assert err.value.details["allowed"] == ["A", "B"]
        with pytest.raises(UnknownWindow):
            engine.call_next("9")
        with pytest.raises(InvalidRequest):
            engine.issue_ticket("A", priority="appointment")
        with pytest.raises(InvalidRequest):
            engine.issue_ticket("A", priority="vip")
        with pytest.raises(TicketNotFound):
            engine.ticket("nope")


# -- privacy -------------------------------------------------------------------------------------
def test_only_a_masked_name_is_kept(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock) as engine:
        anonymous = engine.issue_ticket("A")
        named = engine.issue_ticket("A", holder_name="张三丰")
        assert anonymous.holder == "" and named.holder == "张**"
        assert engine.ticket(named.id).holder == "张**"
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert "张三丰".encode() not in raw
    assert "三丰".encode() not in raw


# -- states and window staff ---------------------------------------------------------------------
def test_ticket_states_and_transitions(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock) as engine:
        a1, a2, a3 = (engine.issue_ticket("A") for _ in range(3))
        assert engine.cancel(a3.id).state is TicketState.CANCELLED
        assert engine.cancel(a3.id).state is TicketState.CANCELLED  # idempotent
        with pytest.raises(BadTransition) as err:
            engine.mark_served(a1.id)  # not called yet
        assert "A001" in err.value.message
        called = engine.call_next("1")
        assert (called.id, called.state, called.window) == (a1.id, TicketState.CALLED, "1")
        assert called.people_ahead is None
        clock.advance(300)
        second = engine.call_next("1")  # finishes A001 as served
        assert second.id == a2.id
        served = engine.ticket(a1.id)
        assert served.state is TicketState.SERVED
        assert served.finished_at - served.called_at == timedelta(seconds=300)
        assert engine.mark_no_show(a2.id).state is TicketState.NO_SHOW
        with pytest.raises(BadTransition):
            engine.mark_served(a2.id)
        with pytest.raises(BadTransition):
            engine.cancel(a2.id)
        assert engine.call_next("1") is None  # A003 was cancelled
        assert [t.number for t in engine.recent_calls()] == ["A002", "A001"]


def test_call_next_with_request_id_is_idempotent(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock) as engine:
        engine.issue_ticket("A")
        engine.issue_ticket("A")
        first = engine.call_next("1", request_id="call-1")
        assert engine.call_next("1", request_id="call-1").id == first.id
        assert engine.ticket(first.id).state is TicketState.CALLED
        assert engine.call_next("1", request_id="call-2").number == "A002"


def test_windows_show_what_they_serve_and_who_is_called(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock) as engine:
        engine.issue_ticket("B")
        engine.call_next("2")
        statuses = {w.id: w for w in engine.windows()}
        assert statuses["1"].categories == ("A",) and statuses["1"].current is None
        assert statuses["2"].current.number == "B001"
        assert statuses["2"].source == "default"


# -- tide windows --------------------------------------------------------------------------------
def test_tide_windows_change_the_mapping_during_the_day(tmp_path: Path, clock: Clock) -> None:
    settings = simple_settings(tide=[TideLine(window="1", days="mon-fri", start="11:30",
                                              end="13:30", categories=["B"])])
    with make(tmp_path, clock, settings) as engine:
        engine.issue_ticket("A")
        engine.issue_ticket("B")
        assert engine.issue_ticket("B").windows == ("2号窗口",)
        clock.set(at("2024-05-06T12:00:00"))
        assert {w.id: w.source for w in engine.windows()}["1"] == "tide"
        # at noon window 1 serves B: the B tickets, not the waiting A001
        assert engine.call_next("1").number == "B001"
        status = engine.category("B")
        assert status.windows == ("1号窗口", "2号窗口") and status.area == "A区、B区"
        a_status = engine.category("A")
        assert a_status.windows == () and a_status.estimated_wait_min is None
        clock.set(at("2024-05-06T13:30:00"))
        assert engine.call_next("1").number == "A001"
        clock.set(at("2024-05-11T12:00:00"))  # Saturday: the line is mon-fri
        assert {w.id: w.categories for w in engine.windows()}["1"] == ("A",)


def test_staff_can_change_a_window_for_the_rest_of_the_day(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock) as engine:
        engine.issue_ticket("B")
        changed = engine.set_window_categories("1", ["A", "B"])
        assert (changed.categories, changed.source) == (("A", "B"), "override")
        assert engine.call_next("1").number == "B001"
        clock.set(at("2024-05-07T09:00:00"))  # the next day the schedule applies again
        assert {w.id: w.source for w in engine.windows()}["1"] == "default"
        engine.set_window_categories("1", [])
        assert engine.category("A").windows == ()
        assert engine.set_window_categories("1", None).categories == ("A",)
        with pytest.raises(UnknownCategory):
            engine.set_window_categories("1", ["Q"])


# -- priorities ----------------------------------------------------------------------------------
def test_green_channel_then_appointments_then_the_rest(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock) as engine:
        engine.import_appointments([AppointmentIn(ref="R1", category="A", start=at(
            "2024-05-06T10:10:00"), id_number="370102199001011234", name="李四")])
        n1 = engine.issue_ticket("A")
        clock.advance(1)
        n2 = engine.issue_ticket("A")
        clock.advance(1)
        appt = engine.check_in(id_number="370102199001011234")
        clock.advance(1)
        green = engine.issue_ticket("A", priority=Priority.GREEN)
        assert (n1.people_ahead, n2.people_ahead, appt.people_ahead, green.people_ahead) == (
            0, 1, 0, 0)
        assert engine.ticket(n2.id).people_ahead == 3  # green, appointment, n1
        assert engine.ticket(n1.id).people_ahead == 2
        clock.advance(1)
        assert engine.issue_ticket("A", priority="green").people_ahead == 1
        order = [engine.call_next("1").number for _ in range(5)]
        assert order == [green.number, "A005", appt.number, n1.number, n2.number]


# -- estimated wait ------------------------------------------------------------------------------
def test_estimated_wait_comes_from_recent_service_times(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock) as engine:
        for _ in range(3):
            engine.issue_ticket("A")
        # no history: the configured 10 minutes, one window
        assert engine.issue_ticket("A").estimated_wait_min == 30
        assert engine.category("A").estimated_wait_min == 40
        # one 4-minute service: the default still weighs 4/5
        engine.call_next("1")
        clock.advance(240)
        engine.call_next("1")  # finishes the first at 4 min
        expected = -(-2 * (0.2 * 240 + 0.8 * 600) // 60)  # 2 waiting ahead of a new ticket
        assert engine.category("A").estimated_wait_min == expected
        for _ in range(10):
            engine.issue_ticket("A")
        for _ in range(5):  # five more 4-minute services: the median rules
            clock.advance(240)
            engine.call_next("1")
        waiting = engine.category("A").waiting
        assert engine.category("A").estimated_wait_min == waiting * 4
        # the figure moves with recent history: services get slower
        for _ in range(10):
            engine.issue_ticket("A")
        for _ in range(8):  # 8 slow against 6 fast: the median is a slow one
            clock.advance(720)
            engine.call_next("1")
        waiting = engine.category("A").waiting
        assert engine.category("A").estimated_wait_min == waiting * 12
        # a second window halves it
        engine.set_window_categories("2", ["A"])
        assert engine.category("A").estimated_wait_min == waiting * 6


def test_history_is_per_category(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock) as engine:
        for _ in range(7):
            engine.issue_ticket("B")
        for _ in range(6):
            engine.call_next("2")
            clock.advance(60)
        engine.issue_ticket("A")
        engine.issue_ticket("A")
        assert engine.category("A").estimated_wait_min == 20  # still the default 10 min
        assert engine.category("B").estimated_wait_min == 1  # one waiting, 1-minute services


# -- opening hours and capacity ------------------------------------------------------------------
HOURS = [HoursLine(days="mon-fri", open="09:00", close="12:00"),
         HoursLine(days="mon-fri", open="13:00", close="17:00")]


def test_no_tickets_outside_hours_and_the_next_opening_is_said(tmp_path: Path,
                                                               clock: Clock) -> None:
    with make(tmp_path, clock, lines=HOURS) as engine:
        assert engine.issue_ticket("A").number == "A001"
        clock.set(at("2024-05-06T12:30:00"))
        with pytest.raises(QueueClosed) as err:
            engine.issue_ticket("A")
        assert err.value.next_open == at("2024-05-06T13:00:00")
        assert "下次取号时间：今天 13:00" in err.value.message
        status = engine.category("A")
        assert status.open is False and status.next_open == at("2024-05-06T13:00:00")
        clock.set(at("2024-05-10T17:00:00"))  # Friday, closing time
        with pytest.raises(QueueClosed) as err:
            engine.issue_ticket("A")
        assert err.value.next_open == at("2024-05-13T09:00:00")
        assert "5月13日 09:00" in err.value.message
        clock.set(at("2024-05-12T08:00:00"))  # Sunday
        with pytest.raises(QueueClosed) as err:
            engine.issue_ticket("A")
        assert "明天 09:00" in err.value.message
        clock.set(at("2024-05-13T13:00:00"))
        assert engine.issue_ticket("A").number == "A001"


def test_daily_capacity(tmp_path: Path, clock: Clock) -> None:
    settings = simple_settings(categories=[CategorySettings(code="A", daily_capacity=2),
                                           CategorySettings(code="B")],
                               windows=[WindowSettings(id="1", categories=["A", "B"])])
    with make(tmp_path, clock, settings, lines=HOURS) as engine:
        engine.import_appointments([AppointmentIn(ref="R1", category="A",
                                                  start=at("2024-05-06T10:00:00"),
                                                  code="QR-R1")])
        engine.issue_ticket("A")
        assert engine.category("A").capacity_left == 1
        engine.issue_ticket("A")
        with pytest.raises(CapacityReached) as err:
            engine.issue_ticket("A")
        assert err.value.next_open == at("2024-05-07T09:00:00")
        assert "今日综合业务的号已取完" in err.value.message and "明天 09:00" in err.value.message
        status = engine.category("A")
        assert (status.capacity_left, status.open) == (0, False)
        assert status.next_open == at("2024-05-07T09:00:00")
        assert engine.category("B").open is True
        # a booked appointment is still checked in
        assert engine.check_in(code="QR-R1").number == "A003"
        clock.set(at("2024-05-07T09:00:00"))
        assert engine.issue_ticket("A").number == "A001"


# -- appointments --------------------------------------------------------------------------------
ID = "370102199001011234"


def test_appointment_check_in_window_and_messages(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock) as engine:
        result = engine.import_appointments([
            AppointmentIn(ref="R1", category="B", start=at("2024-05-06T10:40:00"), id_number=ID,
                          name="王小明"),
            AppointmentIn(ref="R2", category="A", start=at("2024-05-06T09:30:00"),
                          code="QR-R2"),
            AppointmentIn(ref="R3", category="Z", start=at("2024-05-06T09:30:00"))])
        assert (result.added, result.skipped) == (2, (("R3", "unknown category 'Z'"),))
        from kiosk.queue import AppointmentNotFound, TooEarly, TooLate

        with pytest.raises(TooEarly) as early:
            engine.check_in(id_number=ID)  # 40 minutes early, the window opens 30 before
        assert early.value.checkin_from == at("2024-05-06T10:10:00")
        assert early.value.offer_ticket and early.value.category == "B"
        assert "10:10后签到" in early.value.message and "普通号" in early.value.message
        with pytest.raises(TooLate) as late:
            engine.check_in(code="QR-R2")  # 30 minutes late, the window closes 15 after
        assert late.value.offer_ticket and "普通号" in late.value.message
        with pytest.raises(AppointmentNotFound):
            engine.check_in(id_number="370102198001011230")
        with pytest.raises(InvalidRequest):
            engine.check_in()
        clock.set(at("2024-05-06T10:15:00"))
        ticket = engine.check_in(id_number=ID.lower())
        assert (ticket.number, ticket.priority, ticket.holder) == (
            "B001", Priority.APPOINTMENT, "王**")
        assert ticket.appointment == "R1"
        # checking in again reprints the same ticket
        assert engine.check_in(id_number=ID).id == ticket.id
        # a re-import cannot change a checked-in booking
        again = engine.import_appointments([AppointmentIn(
            ref="R1", category="A", start=at("2024-05-06T15:00:00"))])
        assert again.skipped == (("R1", "already checked in"),)
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert ID.encode() not in raw and "王小明".encode() not in raw


def test_appointment_on_another_day_and_cancelled(tmp_path: Path, clock: Clock) -> None:
    from kiosk.queue import AppointmentCancelled, TooEarly

    with make(tmp_path, clock) as engine:
        engine.import_appointments([
            AppointmentIn(ref="R1", category="A", start=at("2024-05-08T09:00:00"), id_number=ID),
            AppointmentIn(ref="R2", category="A", start=at("2024-05-06T10:00:00"),
                          code="QR-2", cancelled=True)])
        with pytest.raises(TooEarly) as err:
            engine.check_in(id_number=ID)
        assert "5月8日 09:00" in err.value.message
        with pytest.raises(AppointmentCancelled):
            engine.check_in(code="QR-2")


def test_appointment_key_file_is_private(tmp_path: Path, clock: Clock) -> None:
    with make(tmp_path, clock) as engine:
        engine.import_appointments([AppointmentIn(ref="R1", category="A",
                                                  start=at("2024-05-06T10:00:00"),
                                                  id_number=ID)])
    key = tmp_path / "queue.sqlite.key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_bytes()) == 32
    # without the key the booking cannot be found by the card
    key.unlink()
    with make(tmp_path, clock) as engine:
        from kiosk.queue import AppointmentNotFound

        with pytest.raises(AppointmentNotFound):
            engine.check_in(id_number=ID)


# -- offline tickets taken in --------------------------------------------------------------------
def test_accept_offline_is_idempotent_and_checks_the_range(tmp_path: Path, clock: Clock) -> None:
    settings = simple_settings(offline_ranges=[OfflineRange(terminal="K-1", first=901,
                                                            last=903)])
    with make(tmp_path, clock, settings) as engine:
        online = engine.issue_ticket("A", request_id="req-lost")
        batch = [
            {"id": "off1", "day": "2024-05-06", "category": "A", "number": 901,
             "priority": "normal", "holder": "", "issued_at": "2024-05-06T09:59:00+08:00",
             "request_id": "req-lost"},
            {"id": "off2", "day": "2024-05-06", "category": "A", "number": 950,
             "issued_at": "2024-05-06T09:59:30+08:00"},
            {"id": "off3", "day": "2024-05-06", "category": "Q", "number": 902,
             "issued_at": "2024-05-06T09:59:30+08:00"},
        ]
        result = engine.accept_offline("K-1", batch)
        assert result.accepted == ("off1",)
        assert [r[0] for r in result.rejected] == ["off2", "off3"]
        assert "outside K-1's range 901-903" in result.rejected[0][1]
        # the online ticket whose answer was lost is cancelled: the resident holds A901
        assert engine.ticket(online.id).state is TicketState.CANCELLED
        again = engine.accept_offline("K-1", batch[:1])
        assert again.duplicates == ("off1",) and again.accepted == ()
        offline = engine.ticket("off1")
        assert offline.offline and offline.number == "A901" and offline.people_ahead == 0
        unknown = engine.accept_offline("K-9", [dict(batch[0], id="off9")])
        assert "no offline range" in unknown.rejected[0][1]
        assert engine.category("A").capacity_left == 300 - 2

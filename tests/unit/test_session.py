"""The session state machine and idle handling, without a window."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.identity.person import Identity
from kiosk.session.machine import (
    IdentityChanged,
    IdleCountdown,
    IdlePolicy,
    IdlePromptDismissed,
    IdlePromptShown,
    Phase,
    PhaseChanged,
    RatingTimedOut,
    SessionEnded,
    SessionMachine,
    TransitionError,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def machine(clock: FakeClock) -> SessionMachine:
    return SessionMachine(IdlePolicy(idle_timeout_s=60, prompt_s=20, rating_timeout_s=30,
                                     thanks_s=5), clock=clock)


@pytest.fixture
def events(machine: SessionMachine) -> list:
    seen: list = []
    machine.subscribe(seen.append)
    return seen


def identity() -> Identity:
    return Identity(source="idcard", name="李明", id_number="370102199003070032",
                    address="山东省济南市历下区泉城路1号", birth_date=dt.date(1990, 3, 7),
                    photo=bytearray(b"\x01\x02\x03" * 10))


def test_full_session_walks_every_phase(machine: SessionMachine, events: list) -> None:
    machine.start()
    machine.open_flow("queue")
    machine.complete("queue")
    machine.rated()
    phases = [e.new for e in events if isinstance(e, PhaseChanged)]
    assert phases == [Phase.HOME, Phase.FLOW, Phase.RATING, Phase.END]
    assert machine.session.completed_item == "queue"


def test_thank_you_page_returns_to_attract_and_reports_the_session(
        machine: SessionMachine, events: list, clock: FakeClock) -> None:
    machine.start()
    machine.open_flow("code")
    machine.complete("code")
    machine.skip_rating()
    clock.advance(4.9)
    machine.tick()
    assert machine.phase is Phase.END
    clock.advance(0.2)
    machine.tick()
    assert machine.phase is Phase.ATTRACT
    ended = [e for e in events if isinstance(e, SessionEnded)]
    assert len(ended) == 1 and ended[0].reason == "completed" and ended[0].flows == ("code",)


def test_actions_out_of_order_are_refused(machine: SessionMachine) -> None:
    with pytest.raises(TransitionError):
        machine.open_flow("queue")  # still on the attract screen
    machine.start()
    with pytest.raises(TransitionError):
        machine.rated()


def test_rating_disabled_skips_the_rating_phase(clock: FakeClock) -> None:
    machine = SessionMachine(clock=clock, rating_enabled=False)
    machine.start()
    machine.open_flow("proof")
    machine.complete("proof")
    assert machine.phase is Phase.END


def test_idle_prompt_counts_down_then_ends_and_wipes(machine: SessionMachine, events: list,
                                                     clock: FakeClock) -> None:
    machine.start()
    machine.open_flow("code")
    person = identity()
    photo = person.photo
    machine.identify(person)
    clock.advance(59)
    machine.tick()
    assert not machine.prompting
    clock.advance(1)
    machine.tick()
    assert machine.prompting
    assert [e.seconds_left for e in events if isinstance(e, IdlePromptShown)] == [20]
    for _ in range(19):
        clock.advance(1)
        machine.tick()
    countdown = [e.seconds_left for e in events if isinstance(e, IdleCountdown)]
    assert countdown == list(range(19, 0, -1))
    assert machine.phase is Phase.FLOW
    clock.advance(1)
    machine.tick()
    assert machine.phase is Phase.ATTRACT
    assert machine.identity is None
    assert person.name == "" and person.id_number == "" and person.address == ""
    assert bytes(photo) == bytes(len(photo))  # overwritten, not just dropped
    ended = [e for e in events if isinstance(e, SessionEnded)]
    assert ended[-1].reason == "idle"
    assert IdentityChanged in {type(e) for e in events}


def test_need_more_time_resets_the_idle_timer(machine: SessionMachine, events: list,
                                              clock: FakeClock) -> None:
    machine.start()
    clock.advance(60)
    machine.tick()
    assert machine.prompting
    machine.extend()
    assert not machine.prompting
    assert any(isinstance(e, IdlePromptDismissed) for e in events)
    clock.advance(59)
    machine.tick()
    assert machine.phase is Phase.HOME and not machine.prompting


def test_activity_postpones_the_prompt(machine: SessionMachine, clock: FakeClock) -> None:
    machine.start()
    for _ in range(5):
        clock.advance(50)
        machine.activity()
        machine.tick()
    assert not machine.prompting


def test_rating_times_out_as_not_rated(machine: SessionMachine, events: list,
                                       clock: FakeClock) -> None:
    machine.start()
    machine.open_flow("queue")
    machine.complete("queue")
    clock.advance(30)
    machine.tick()
    timed_out = [e for e in events if isinstance(e, RatingTimedOut)]
    assert [e.item for e in timed_out] == ["queue"]
    assert machine.phase is Phase.END
    assert [e.reason for e in events if isinstance(e, PhaseChanged)][-1] == "not rated"


def test_no_idle_timer_on_the_attract_screen(machine: SessionMachine, clock: FakeClock) -> None:
    clock.advance(10_000)
    machine.tick()
    assert machine.phase is Phase.ATTRACT and not machine.prompting


def test_out_of_service_waits_for_the_running_session(machine: SessionMachine) -> None:
    machine.start()
    machine.set_out_of_service(True, "printer")
    assert machine.phase is Phase.HOME
    machine.end_session("user")
    assert machine.phase is Phase.OUT_OF_SERVICE
    machine.set_out_of_service(False)
    assert machine.phase is Phase.ATTRACT


def test_out_of_service_from_attract_is_immediate(machine: SessionMachine) -> None:
    machine.set_out_of_service(True, "printer")
    assert machine.phase is Phase.OUT_OF_SERVICE
    with pytest.raises(TransitionError):
        machine.start()


def test_maintenance_ends_the_session_first(machine: SessionMachine) -> None:
    machine.start()
    machine.open_flow("code")
    machine.identify(identity())
    machine.enter_maintenance()
    assert machine.phase is Phase.MAINTENANCE and machine.identity is None
    machine.exit_maintenance()
    assert machine.phase is Phase.ATTRACT


def test_identity_outside_a_session_is_refused_and_wiped(machine: SessionMachine) -> None:
    person = identity()
    with pytest.raises(TransitionError):
        machine.identify(person)
    assert person.id_number == ""


def test_a_new_identity_wipes_the_previous_one(machine: SessionMachine) -> None:
    machine.start()
    first, second = identity(), identity()
    machine.identify(first)
    machine.identify(second)
    assert first.name == "" and machine.identity is second


def test_session_repr_never_shows_personal_data(machine: SessionMachine) -> None:
    machine.start()
    machine.identify(identity())
    text = repr(machine.session) + repr(machine.identity) + str(machine.identity)
    assert "李明" not in text and "370102199003070032" not in text
    assert "李*" in text and "3701**********0032" in text

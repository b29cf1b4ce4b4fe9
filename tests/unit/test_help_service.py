"""帮办's decision logic with in-process channels (the real hall server and broker are in
tests/ui/test_progress_help_ui.py and tests/integration/test_help_channels.py): the first
channel that accepts wins, "accepted" only after a yes, acknowledgements followed by polling,
and "unreachable" when every channel said no. Plus the help event's schema."""

from __future__ import annotations

import threading
import time

import pytest

from fleet.schemas import PayloadInvalid, validate
from kiosk.help.service import HelpCall, HelpService, HelpState, HelpUnreachable
from kiosk.mainthread import MainThreadHandoff
from kiosk.telemetry import payloads


class Channel:
    def __init__(self, name: str, accept: bool, states: list[HelpState] | None = None) -> None:
        self.name, self.accept, self.polls = name, accept, states is not None
        self.states = list(states or [])
        self.requests: list[tuple[str, str]] = []

    def request(self, call: HelpCall, place: str, reason: str) -> str:
        self.requests.append((place, reason))
        if not self.accept:
            raise HelpUnreachable(f"{self.name}: down")
        return f"{self.name}-1"

    def status(self, server_id: str) -> tuple[HelpState, str]:
        return (self.states.pop(0) if self.states else HelpState.DONE), "李工"


def run(channels: list[Channel], until: HelpState, timeout_s: float = 5.0) -> list[HelpCall]:
    handoff = MainThreadHandoff()
    service = HelpService(channels, "A区入口 2号机", 0.01, handoff.run_in_worker, handoff.post)
    seen: list[HelpCall] = []
    service.start("", seen.append)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not (seen and seen[-1].state is until):
        handoff.drain()  # what the UI thread does
        time.sleep(0.01)
    service.cancel()
    handoff.close()
    return seen


def test_first_accepting_channel_wins_and_acknowledgement_is_followed() -> None:
    down = Channel("hall", accept=False)
    fleet = Channel("fleet", accept=True, states=[HelpState.ACCEPTED, HelpState.ACKNOWLEDGED])
    seen = run([down, fleet], HelpState.DONE)
    assert [c.state for c in seen] == [HelpState.ACCEPTED, HelpState.ACKNOWLEDGED,
                                       HelpState.DONE]
    assert seen[0].channel == "fleet" and seen[0].tried == ("hall",)
    assert seen[1].by == "李工"
    assert down.requests == fleet.requests == [("A区入口 2号机", "")]


def test_nobody_reachable_is_said_and_nothing_claims_acceptance() -> None:
    seen = run([Channel("hall", False), Channel("fleet", False)], HelpState.UNREACHABLE)
    assert [c.state for c in seen] == [HelpState.UNREACHABLE]
    assert seen[0].tried == ("hall", "fleet")


def test_cancel_stops_following_the_call() -> None:
    handoff = MainThreadHandoff()
    slow = Channel("hall", True, states=[HelpState.ACCEPTED] * 10_000)
    service = HelpService([slow], "x", 0.01, handoff.run_in_worker, handoff.post)
    seen: list[HelpCall] = []
    service.start("", seen.append)
    for _ in range(200):
        handoff.drain()
        if seen:
            break
        time.sleep(0.01)
    assert seen and seen[0].state is HelpState.ACCEPTED
    service.cancel()
    for _ in range(200):  # a poller started in the same instant stops at its next wait
        if not [t for t in threading.enumerate() if t.name == "help-poll"]:
            break
        time.sleep(0.01)
    assert not [t for t in threading.enumerate() if t.name == "help-poll"]
    calls = len(seen)
    handoff.drain()
    time.sleep(0.05)
    handoff.drain()
    assert len(seen) == calls  # nothing reaches the screen after cancel
    handoff.close()


def test_the_help_event_validates_against_the_event_schema() -> None:
    event = payloads.event("JN-LX-0001", "help", {
        "help_id": "5b1e0c", "state": "requested", "place": "A区入口 2号机", "reason": "",
        "unanswered_alarm_s": 120}, record_id="help-5b1e0c")
    validate(event, "event")
    broken = payloads.event("JN-LX-0001", "help", {"state": "requested"}, record_id="help-2")
    with pytest.raises(PayloadInvalid):
        validate(broken, "event")


class HangingChannel(Channel):
    """A hall server that stops answering in the middle of a status request."""

    def __init__(self) -> None:
        super().__init__("hall", True, states=[])
        self.in_status = threading.Event()
        self.release = threading.Event()

    def status(self, server_id: str) -> tuple[HelpState, str]:
        self.in_status.set()
        self.release.wait(10)
        return HelpState.ACKNOWLEDGED, "李工"


def test_cancel_on_the_ui_thread_does_not_wait_for_a_hanging_status_request() -> None:
    handoff = MainThreadHandoff()
    channel = HangingChannel()
    service = HelpService([channel], "x", 0.01, handoff.run_in_worker, handoff.post)
    seen: list[HelpCall] = []
    service.start("", seen.append)
    assert channel.in_status.wait(5), "the poller never asked"
    handoff.drain()  # "已通知工作人员" reached the screen
    service.cancel()  # what the help screen does when the resident leaves
    # the poller is still inside its request: cancel() returned without joining it
    assert [t for t in threading.enumerate() if t.name == "help-poll"]
    assert service.call is None
    channel.release.set()
    for _ in range(500):
        if not [t for t in threading.enumerate() if t.name == "help-poll"]:
            break
        time.sleep(0.01)
    handoff.drain()
    assert [c.state for c in seen] == [HelpState.ACCEPTED]  # nothing posted after cancel

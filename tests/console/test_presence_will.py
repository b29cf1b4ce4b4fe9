"""The Last Will takes a terminal offline although its timestamp is older than the "online"
(found by the console's offline test; the fix is in ``fleet.services.terminals``)."""

from __future__ import annotations

from fleet import testing as ft
from fleet.models import Terminal
from fleet.services.terminals import apply_presence


def terminal() -> Terminal:
    return Terminal(id="JN-T1", region_code="370102", online=False, drops=[], health={})


def test_a_will_set_up_before_the_online_still_takes_the_terminal_offline() -> None:
    term = terminal()
    will = ft.presence("JN-T1", False, ts=1_000, reason="connection lost")  # set at set-up
    assert apply_presence(term, ft.presence("JN-T1", True, ts=1_005), now=1_005)
    assert term.online
    assert apply_presence(term, will, now=60_000)
    assert not term.online and term.offline_since == 60_000


def test_an_old_online_or_a_replayed_will_changes_nothing() -> None:
    term = terminal()
    assert apply_presence(term, ft.presence("JN-T1", True, ts=2_000), now=2_000)
    assert not apply_presence(term, ft.presence("JN-T1", True, ts=1_000), now=3_000)
    assert not apply_presence(term, ft.presence("JN-T1", False, ts=1_500, reason="shutdown"),
                              now=3_000)
    assert term.online
    assert apply_presence(term, ft.presence("JN-T1", False, ts=1_900,
                                            reason="connection lost"), now=4_000)
    # the same Will again (QoS 1 redelivery or the retained copy): already offline
    assert not apply_presence(term, ft.presence("JN-T1", False, ts=1_900,
                                                reason="connection lost"), now=5_000)
    assert term.offline_since == 4_000
    # back online with the terminal's own clock (behind the server's): accepted
    assert apply_presence(term, ft.presence("JN-T1", True, ts=2_100), now=9_000)
    assert term.online

"""Randomised resident sessions through the real screens, driven by :class:`screens.pilot.Pilot`.

Nothing here names a flow's buttons: the driver finds the service tiles on the home screen
(every widget with a ``flow_id``) and, inside a flow, taps what a curious resident would tap —
any visible, enabled button — for a few steps, then leaves the way residents leave: 办结 and a
rating (or none), 返回/退出, or walking away (the idle prompt and the time-out). A flow added
later by another screen module is therefore played without changing this file.

Between sessions the hardware misbehaves as it does in the field: the printer runs out of
paper and is refilled, the ID card reader is unplugged and plugged back, the fleet broker goes
away and comes back.

Import only after :func:`screens.bootstrap.prepare_kivy` (it imports Kivy).
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from kivy.core.window import Window
from kivy.uix.behaviors import ButtonBehavior

from screens.pilot import Pilot, PilotError

log = logging.getLogger(__name__)

#: navigation the driver uses on purpose, never as a random tap inside a flow
NAVIGATION = frozenset({"start", "elder", "language", "home", "exit", "back", "complete",
                        "print_close", "print_retry", "extend", "end", "pin_ok"})
#: widgets of the demo's simulator panel are the test bench, not the resident's screen
BENCH_WIDGETS = ("SimulatorTab", "SimulatorPanel")
#: screens that are not inside a flow
OUTSIDE_FLOWS = frozenset({"attract", "home", "rating", "thanks", "out_of_service",
                           "maintenance"})


def _tid(widget: Any) -> str:
    return str(getattr(widget, "test_id", "") or getattr(widget, "flow_id", "") or "")


class SessionDriver:
    """Plays one randomised session per :meth:`play` (see the module docstring)."""

    def __init__(self, pilot: Pilot, clock: Any, rng: random.Random, max_steps: int = 6) -> None:
        self.pilot = pilot
        self.kiosk = pilot.kiosk
        self.clock = clock  # kiosk.cli.demo.FastForwardClock: idle timers without real waiting
        self.rng = rng
        self.max_steps = max_steps
        self.sim = self.kiosk.simulation
        self.config = self.kiosk.config
        self.counts: Counter[str] = Counter()
        self.recoveries = 0  # sessions the driver had to end itself (a finding, reported)

    # -- one session -------------------------------------------------------------------------
    def play(self) -> dict[str, Any]:
        pilot = self.pilot
        pilot.wait_screen("attract", timeout_s=15)
        pilot.tap("start")
        pilot.wait_screen("home")
        if self.rng.random() < 0.2:
            pilot.tap("elder")
            self.counts["elder"] += 1
        if self.rng.random() < 0.2:
            pilot.tap("language")
            self.counts["language"] += 1
        flows = self.flow_tiles()
        if not flows:
            raise PilotError("the home screen shows no service tiles")
        flow = self.rng.choice(sorted(flows))
        self.counts[f"flow:{flow}"] += 1
        pilot.tap(flows[flow])
        pilot.wait_for(lambda: pilot.current_screen != "home", 10, f"flow {flow} to open")
        ending = "?"
        try:
            if pilot.current_screen == "identify":
                if self.rng.random() < 0.1:
                    ending = self.walk_away()
                    return {"flow": flow, "ending": ending}
                self.identify()
            self.explore()
            ending = self.leave()
        finally:
            self.lift_cards()
            self.back_to_attract()
            self.counts[f"ending:{ending}"] += 1
        return {"flow": flow, "ending": ending}

    def flow_tiles(self) -> dict[str, Any]:
        return {w.flow_id: w for w in self.pilot.walk_visible()
                if getattr(w, "flow_id", "") and isinstance(w, ButtonBehavior)
                and not w.disabled}

    def identify(self) -> None:
        pilot = self.pilot
        assert self.sim is not None
        if self.rng.random() < 0.7 or self.kiosk.devices.get("smartcard") is None:
            self.sim.place_id_card()
        else:
            self.sim.insert_ss_card()
        screen = pilot.manager.get_screen("identify")
        pilot.wait_for(lambda: screen.identified, 15, "an identity")
        pilot.tap("continue")
        pilot.wait_for(lambda: pilot.current_screen != "identify", 10, "the flow after identify")

    def explore(self) -> None:
        """A few taps on whatever the flow shows (lists, tabs, keys, print buttons)."""
        pilot = self.pilot
        for _ in range(self.rng.randint(1, self.max_steps)):
            self.finish_printing()
            if pilot.current_screen in OUTSIDE_FLOWS:
                return
            candidates = [w for w in pilot.walk_visible()
                          if isinstance(w, ButtonBehavior) and not w.disabled
                          and _tid(w) not in NAVIGATION and not self._bench(w)]
            if not candidates:
                return
            target = self.rng.choice(candidates)
            self.counts["taps"] += 1
            pilot.tap(target)
            pilot.pump_for(0.05)
        self.finish_printing()

    def finish_printing(self) -> None:
        pilot = self.pilot
        dialog = pilot.app.controller.print_dialog
        if dialog is None or dialog.parent is None:
            return
        pilot.wait_for(lambda: dialog.state != "printing", 20, "the print outcome")
        self.counts[f"print:{dialog.state}"] += 1
        pilot.tap("print_close")
        pilot.wait_for(lambda: dialog.parent is None, 5, "the print dialog to close")

    def leave(self) -> str:
        pilot = self.pilot
        if pilot.current_screen in ("rating", "thanks", "attract", "home"):
            return self.after_flow()
        roll = self.rng.random()
        visible = {_tid(w): w for w in pilot.walk_visible() if _tid(w)}
        if roll < 0.65 and "complete" in visible and not visible["complete"].disabled:
            pilot.tap(visible["complete"])
            pilot.wait_for(lambda: pilot.current_screen != self._flow_screen(), 10,
                           "the flow to end")
            return self.after_flow()
        if roll < 0.85:
            return self.walk_away()
        return self.exit_session()

    def after_flow(self) -> str:
        pilot = self.pilot
        if pilot.current_screen == "rating":
            return self.rate()
        if pilot.current_screen == "thanks":
            self.leave_thanks()
            return "thanks"
        if pilot.current_screen == "home":
            return self.exit_session()
        return pilot.current_screen

    def rate(self) -> str:
        pilot = self.pilot
        roll = self.rng.random()
        if roll < 0.15:
            pilot.tap("skip")
            ending = "skipped"
        elif roll < 0.25:
            self.clock.advance(self.config.ui.rating_timeout_s + 1)  # 不评价: "not rated"
            pilot.wait_for(lambda: pilot.current_screen != "rating", 10, "the rating time-out")
            ending = "rating-timeout"
        else:
            level = self.rng.choice(["very_satisfied", "satisfied", "basic", "dissatisfied",
                                     "very_dissatisfied"])
            if self.kiosk.devices.get("ratingpad") is not None and self.rng.random() < 0.3:
                assert self.sim is not None
                self.sim.press_rating(level)
                screen = pilot.manager.get_screen("rating")
                pilot.wait_for(lambda: screen.selected == level, 5, "the rating pad press")
            else:
                pilot.tap(f"level_{level}")
            if level in ("dissatisfied", "very_dissatisfied"):
                reasons = [w for w in pilot.walk_visible() if _tid(w).startswith("reason_")]
                pilot.tap(self.rng.choice(reasons))
            pilot.tap("submit")
            ending = f"rated:{level}"
        pilot.wait_for(lambda: pilot.current_screen != "rating", 10, "the rating to be taken")
        if pilot.current_screen == "thanks":
            self.leave_thanks()
        return ending

    def leave_thanks(self) -> None:
        pilot = self.pilot
        if self.rng.random() < 0.5:
            pilot.tap_at(Window.width / 2, Window.height / 2)
        else:
            self.clock.advance(self.config.ui.idle_prompt_s + 10)
        pilot.wait_screen("attract", timeout_s=10)

    def walk_away(self) -> str:
        """The resident leaves: the idle prompt, sometimes "more time", then the time-out."""
        pilot = self.pilot
        controller = pilot.app.controller
        self.finish_printing()
        if pilot.current_screen in ("attract", "thanks"):
            return "gone"

        def prompt_shown() -> bool:
            return controller.idle_prompt is not None and controller.idle_prompt.parent is not None

        self.clock.advance(self.config.ui.idle_timeout_s + 1)
        pilot.wait_for(lambda: prompt_shown() or pilot.current_screen == "attract", 10,
                       "the idle prompt")
        if prompt_shown() and self.rng.random() < 0.3:
            pilot.tap("extend")  # 需要更多时间: the session goes on, then they leave for good
            pilot.wait_for(lambda: not prompt_shown(), 5, "the prompt to close")
            self.clock.advance(self.config.ui.idle_timeout_s + 1)
            pilot.wait_for(lambda: prompt_shown() or pilot.current_screen == "attract", 10,
                           "the idle prompt again")
        self.clock.advance(self.config.ui.idle_prompt_s + 1)
        pilot.wait_screen("attract", timeout_s=10)
        return "idle-timeout"

    def exit_session(self) -> str:
        pilot = self.pilot
        self.finish_printing()
        if pilot.current_screen != "home":
            visible = {_tid(w) for w in pilot.walk_visible()}
            if "back" in visible:
                pilot.tap("back")
                pilot.pump_for(0.05)
            if pilot.current_screen != "home":
                return self.walk_away()
        pilot.tap("exit")
        pilot.wait_screen("attract", timeout_s=10)
        return "exit"

    def back_to_attract(self) -> None:
        """Every session ends on the attract screen; if the driver got lost it says so."""
        pilot = self.pilot
        if pilot.current_screen == "attract" and self.kiosk.machine.phase.value == "attract":
            return
        try:
            self.finish_printing()
            self.walk_away()
        except PilotError:
            self.recoveries += 1
            log.warning("soak: the session did not end by itself on %s; ending it",
                        pilot.current_screen)
            self.kiosk.machine.end_session("soak")
            pilot.wait_screen("attract", timeout_s=10)

    def lift_cards(self) -> None:
        if self.sim is None:
            return
        for kind, remove in (("idcard", self.sim.lift_id_card),
                             ("smartcard", self.sim.remove_ss_card)):
            device = self.kiosk.devices.get(kind)
            if device is not None and getattr(device, "card_present", False):
                remove()

    def _flow_screen(self) -> str:
        flow = self.kiosk.machine.flow or ""
        return self.pilot.app.controller.flow_screens.get(flow, "flow")

    @staticmethod
    def _bench(widget: Any) -> bool:
        node = widget
        for _ in range(64):  # the window is its own parent: stop there
            if node is None or isinstance(node, Window.__class__):
                return False
            if type(node).__name__ in BENCH_WIDGETS:
                return True
            node = node.parent
        return False


class Incidents:
    """What the hardware and the network do to a terminal between residents."""

    def __init__(self, pilot: Pilot, clock: Any, broker: Any = None) -> None:
        self.pilot = pilot
        self.kiosk = pilot.kiosk
        self.clock = clock
        self.broker = broker  # fleet.broker.MosquittoProcess, or None without a fleet
        self.counts: Counter[str] = Counter()

    def available(self) -> list[tuple[str, Callable[[], None]]]:
        found: list[tuple[str, Callable[[], None]]] = []
        if self.kiosk.devices.get("printer") is not None:
            found.append(("paper-out", self.paper_out_and_back))
        if self.kiosk.devices.get("idcard") is not None:
            found.append(("reader-unplugged", self.reader_unplugged_and_back))
        if self.broker is not None:
            found.append(("broker-down", self.broker_down_and_back))
        return found

    def _state(self, kind: str) -> str:
        return self.kiosk.devices.health()[kind].state.value

    def _through_out_of_service(self, kind: str, break_it: Callable[[], None],
                                fix_it: Callable[[], None]) -> None:
        pilot = self.pilot
        break_it()
        pilot.wait_for(lambda: self._state(kind) == "unavailable", 15, f"{kind} unavailable")
        if kind in self.kiosk.config.health.required_devices:
            pilot.pump_for(0.3)  # the health monitor notes when it went down
            self.clock.advance(self.kiosk.config.health.grace_s + 1)
            pilot.wait_screen("out_of_service", timeout_s=15)
        fix_it()
        pilot.wait_for(lambda: self._state(kind) == "ready", 15, f"{kind} back")
        pilot.wait_screen("attract", timeout_s=15)

    def paper_out_and_back(self) -> None:
        sim = self.kiosk.simulation
        assert sim is not None
        self.counts["paper-out"] += 1
        self._through_out_of_service("printer", lambda: sim.set_paper("out"),
                                     lambda: sim.set_paper("ok"))

    def reader_unplugged_and_back(self) -> None:
        sim = self.kiosk.simulation
        assert sim is not None
        self.counts["reader-unplugged"] += 1
        self._through_out_of_service("idcard", lambda: sim.unplug("idcard"),
                                     lambda: sim.plug("idcard"))

    def broker_down_and_back(self) -> None:
        """The broker goes away for a while; sessions go on and their records wait in the
        outbox; it comes back and the outbox drains (checked at the end of the run)."""
        self.counts["broker-down"] += 1
        self.broker.stop()
        self.pilot.pump_for(0.5)

    def broker_back(self) -> None:
        if self.broker is not None and not self.broker.running:
            self.broker.start()

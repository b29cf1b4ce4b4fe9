"""评价 by handling number: a first evaluation, a supplementary one, and one too late."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from kiosk.ratings.records import add_working_days


def type_number(ui, number: str) -> None:
    for ch in number:
        ui.tap(f"key_{ch}")


def rated_payloads(ui) -> list[dict]:
    rows = ui.kiosk.reporter.outbox.peek(limit=10_000)
    payloads = [json.loads(r.payload) for r in rows]
    return [p for p in payloads if p.get("schema") == "kiosk.rating"]


def rate_number(ui, number: str) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("rating")
    ui.wait_screen("evaluate")
    type_number(ui, number)
    ui.tap("evaluate_submit")


def test_first_then_supplementary_evaluation_of_a_handling_number(ui) -> None:
    number = "B-" + datetime.now().strftime("%H%M%S")[-4:]
    number = number.replace("9", "8")  # keys exist for 0-9 and A-H
    rate_number(ui, number)
    ui.wait_screen("rating")
    ui.tap("level_satisfied")
    ui.tap("submit")
    ui.wait_screen("thanks")
    first = ui.kiosk.ratings.first_ratings.first(number)
    assert first is not None
    ui.tap_at(10, 300)
    ui.wait_screen("attract")

    rate_number(ui, number)
    ui.wait_screen("rating")  # within 5 working days: a supplementary evaluation
    ui.tap("level_very_dissatisfied")
    ui.tap("reason_操作复杂")
    ui.tap("submit")
    ui.wait_screen("thanks")
    ratings = [p for p in rated_payloads(ui) if p["values"].get("handling_number") == number]
    assert [p["values"]["assess_number"] for p in ratings] == [1, 2]
    assert ratings[1]["values"]["first_time"] is not None


def test_a_supplementary_evaluation_after_the_window_is_refused(ui) -> None:
    number = "C-1234"
    long_ago = datetime.now(ui.kiosk.reporter.builder.tz) - timedelta(days=30)
    ui.kiosk.ratings.first_ratings.remember(number, long_ago)
    rate_number(ui, number)
    deadline = add_working_days(long_ago.date(), 5)
    ui.wait_for(lambda: deadline.isoformat() in ui.manager.get_screen("evaluate").message,
                what="refusal with the deadline")
    assert ui.current_screen == "evaluate"
    ui.tap("back")
    ui.wait_screen("home")


def test_a_scanned_receipt_fills_in_the_number(ui) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("rating")
    ui.wait_screen("evaluate")
    ui.kiosk.simulation.scan("a017")
    ui.wait_for(lambda: ui.manager.get_screen("evaluate").number == "A017", what="scan")
    assert "A017" in ui.texts()
    ui.tap("key_del")
    assert ui.manager.get_screen("evaluate").number == "A01"

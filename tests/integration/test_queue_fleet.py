"""The hall's day for the fleet: one counts-only ``queue_daily`` event per day, through the
telemetry reporter's durable outbox, valid against schemas/kiosk.event.v1.json."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema

from config.loader import load_config
from kiosk.queue import QueueEngine, QueueSettings
from kiosk.queue.hall import HallStore
from kiosk.queue.hallservice import HallService
from kiosk.telemetry import Reporter
from kiosk.telemetry.payloads import decode

SH = ZoneInfo("Asia/Shanghai")
SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "kiosk.event.v1.json"


def test_yesterdays_counts_go_to_the_fleet_once(tmp_path: Path) -> None:
    now = [datetime(2026, 3, 2, 9, 0, tzinfo=SH).timestamp()]
    engine = QueueEngine(tmp_path / "hall.sqlite", QueueSettings(synchronous="normal"),
                         clock=lambda: now[0], key_path=tmp_path / "k" / "id.key")
    hall = HallStore(engine.db_path, SH, synchronous="normal", clock=lambda: now[0])
    config = load_config("demo")  # mqtt disabled: records wait in the outbox
    reporter = Reporter(config, dict, tmp_path / "queue-outbox.db")
    service = HallService(engine, hall, speech_dir=tmp_path / "speech",
                          fleet=reporter.record_event, hall_id="JN-HALL-1")
    try:
        a1 = engine.issue_ticket("A", holder_name="张三")
        engine.issue_ticket("A")
        engine.issue_ticket("B")
        now[0] += 120
        engine.call_next("1")
        now[0] += 300
        engine.mark_served(a1.id)
        a2 = engine.call_next("1")
        assert a2 is not None
        engine.mark_no_show(a2.id)
        now[0] += 86400  # the next morning
        service.report_yesterday()
        service.report_yesterday()  # once a day
        records = reporter.outbox.peek(10)
        assert len(records) == 1
        payload = decode(records[0].payload)
        jsonschema.validate(payload, json.loads(SCHEMA.read_text(encoding="utf-8")))
        assert payload["id"] == "queue-daily-JN-HALL-1-2026-03-02"
        assert payload["values"]["name"] == "queue_daily"
        data = payload["values"]["data"]
        assert data["day"] == "2026-03-02"
        cats = {c["category"]: c for c in data["categories"]}
        assert (cats["A"]["tickets"], cats["A"]["served"], cats["A"]["no_show"]) == (2, 1, 1)
        assert cats["A"]["service_mean_s"] == 300.0 and cats["B"]["tickets"] == 1
        assert data["windows"] == [{"window": "1", "tickets": 2, "served": 1, "no_show": 1,
                                    "wait_mean_s": data["windows"][0]["wait_mean_s"],
                                    "wait_p90_s": data["windows"][0]["wait_p90_s"],
                                    "service_mean_s": 300.0}]
        text = records[0].payload.decode("utf-8")
        assert a1.id not in text and "张" not in text and "A001" not in text
        # a restart reports the day again: the same record id, not stored twice
        assert service.report_day("2026-03-02") is False
    finally:
        reporter.stop()
        hall.close()
        engine.close()

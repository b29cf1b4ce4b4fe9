"""docs/mqtt.md names the payload schema of every topic: each name is a file in schemas/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_schema_named_in_the_topic_table_exists() -> None:
    text = (ROOT / "docs" / "mqtt.md").read_text("utf-8")
    rows = [line for line in text.splitlines() if re.match(r"\| `[a-z/]+` \| (up|down) \|", line)]
    assert len(rows) >= 7
    for row in rows:
        schema = row.split("|")[5].strip().strip("`")
        assert (ROOT / "schemas" / f"{schema}.v1.json").exists(), row[:120]

"""Records 好差评 from the rating screen: checks, seals the real-name part, and hands the
record to the durable outbox (which publishes it to the fleet at QoS 1).

The session's own summary (item, level, reasons; nothing personal) is also kept in memory,
last 100, for the maintenance screen, the demo log and tests.
"""

from __future__ import annotations

import collections
import logging
import threading
from typing import Any

from kiosk.identity import Identity
from kiosk.rating_records import RealNamePart
from kiosk.ratings import RatingRecord

log = logging.getLogger(__name__)

ID_TYPES = {"resident": "resident", "hmt_residence": "hmt", "foreigner_2017": "foreigner",
            "foreigner_2023": "foreigner", "social_security": "resident"}


class RatingService:
    def __init__(self, reporter: Any) -> None:
        self._reporter = reporter
        self._lock = threading.Lock()
        self.records: collections.deque[RatingRecord] = collections.deque(maxlen=100)

    @property
    def reasons(self) -> list[str]:
        return list(self._reporter.builder.settings.reasons)

    def record(self, record: RatingRecord, *, handling_number: str = "",
               identity: Identity | None = None, text: str = "", source: str = "screen") -> None:
        """Raises ``RatingError`` (with what to fix) or ``OutboxFull``; nothing is half-kept."""
        real_name = None
        if identity is not None and record.level is not None:
            real_name = RealNamePart(name=identity.name, id_number=identity.id_number,
                                     id_type=ID_TYPES.get(identity.card_type, "resident"))
        full = self._reporter.builder.from_basic(
            record, handling_number=handling_number, real_name=real_name, text=text,
            source="timeout" if record.level is None else source)
        self._reporter.record_rating(full)
        with self._lock:
            self.records.append(record)
        log.info("rating %s for %s recorded (%s)", record.level.value if record.level else
                 "not rated", record.item, "real name sealed" if full.real_name_sealed else
                 "anonymous")

"""Screenshots taken by a remote command: where they go and how long they stay.

They are kept under ``<data_dir>/screenshots`` for ``fleet.screenshot_retention_days`` and
then deleted (at start-up and whenever a new one is taken): a picture of the screen is not
something a terminal keeps for ever.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

PATTERN = "screen-*.png"


class ScreenshotStore:
    def __init__(self, folder: Path, retention_days: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.folder = Path(folder)
        self.retention_s = float(retention_days) * 86400
        self._clock = clock

    def new_path(self) -> Path:
        """A fresh file name (the folder exists afterwards)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        now = self._clock()
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
        return self.folder / f"screen-{stamp}-{int(now * 1000) % 1000:03d}.png"

    def prune(self) -> list[Path]:
        """Delete the screenshots older than the retention period; returns what went."""
        if not self.folder.is_dir():
            return []
        cutoff = self._clock() - self.retention_s
        gone = []
        for path in sorted(self.folder.glob(PATTERN)):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    gone.append(path)
            except FileNotFoundError:
                continue
        if gone:
            log.info("deleted %d screenshot(s) older than %.0f days", len(gone),
                     self.retention_s / 86400)
        return gone

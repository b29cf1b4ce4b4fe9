"""Guarding the maintenance PIN: a growing delay between wrong tries, a lock-out after
``maintenance.max_attempts``, and an audit line for every entry.

Plain Python (the controller asks it before and tells it after each PBKDF2 check, which runs
off the UI thread). The counter survives a restart (``<data_dir>/pin-guard.json``): switching the
terminal off and on must not buy an attacker fresh tries. The audit log
(``<log_dir>/audit.log``, JSON lines, rotated by deploy/logrotate.conf) records when, the
outcome and the count, never the digits entered.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

ACCEPTED, WRONG, LOCKED, WAIT = "accepted", "wrong", "locked", "wait"


class PinGuard:
    def __init__(self, state_file: Path | None, audit_file: Path | None, *,
                 max_attempts: int = 5, lockout_s: float = 300,
                 clock: Callable[[], float] = time.time) -> None:
        self.state_file = state_file
        self.audit_file = audit_file
        self.max_attempts = max_attempts
        self.lockout_s = lockout_s
        self.clock = clock
        self._lock = threading.Lock()
        self.failures = 0
        self.blocked_until = 0.0
        self._load()

    # -- rules ----------------------------------------------------------------------------------
    def delay_after(self, failures: int) -> float:
        """Seconds to wait after ``failures`` wrong tries in a row: 0, 1, 2, 4 … then the
        lock-out at ``max_attempts``."""
        if failures >= self.max_attempts:
            return float(self.lockout_s)
        return 0.0 if failures < 2 else float(2 ** (failures - 2))

    def wait_s(self) -> float:
        """How long before the next try is taken (0 = now)."""
        return max(0.0, self.blocked_until - self.clock())

    def before_attempt(self) -> float:
        """Call before checking a PIN: 0 to go ahead, else the seconds to wait (audited)."""
        with self._lock:
            wait = self.wait_s()
            if wait > 0:
                locked = self.failures >= self.max_attempts
                self._audit(LOCKED if locked else WAIT, wait_s=round(wait, 1))
            return wait

    def record(self, accepted: bool) -> float:
        """Call with the check's outcome; returns the delay now imposed (0 when accepted)."""
        with self._lock:
            if accepted:
                self.failures = 0
                self.blocked_until = 0.0
                self._audit(ACCEPTED)
                self._save()
                return 0.0
            self.failures += 1
            delay = self.delay_after(self.failures)
            self.blocked_until = self.clock() + delay
            self._audit(WRONG, delay_s=delay, lockout=self.failures >= self.max_attempts)
            if self.failures >= self.max_attempts:
                log.warning("maintenance PIN locked for %d s after %d wrong tries",
                            self.lockout_s, self.failures)
                self.failures = self.max_attempts  # stays locked until a right PIN
            self._save()
            return delay

    # -- persistence and audit ------------------------------------------------------------------
    def _load(self) -> None:
        if self.state_file is None or not self.state_file.is_file():
            return
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            self.failures = int(data.get("failures", 0))
            self.blocked_until = float(data.get("blocked_until", 0.0))
        except (OSError, ValueError, TypeError):
            # an unreadable guard file is treated as a lock-out, not as a fresh start
            self.failures = self.max_attempts
            self.blocked_until = self.clock() + self.lockout_s

    def _save(self) -> None:
        if self.state_file is None:
            return
        try:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_file.with_name(self.state_file.name + ".new")
            tmp.write_text(json.dumps({"failures": self.failures,
                                       "blocked_until": self.blocked_until}))
            os.replace(tmp, self.state_file)
        except OSError as exc:
            log.warning("cannot save the PIN guard state: %s", exc)

    def _audit(self, outcome: str, **extra: object) -> None:
        self.audit("maintenance_pin", outcome, failures=self.failures, **extra)

    def audit(self, event: str, outcome: str, **extra: object) -> None:
        """One JSON line in the audit log (also used by the maintenance screen's actions);
        ``extra`` must hold nothing secret or personal."""
        entry = {"ts": round(self.clock(), 3), "event": event, "outcome": outcome, **extra}
        log.info("audit: %s", json.dumps(entry))
        if self.audit_file is None:
            return
        try:
            self.audit_file.parent.mkdir(parents=True, exist_ok=True)
            with self.audit_file.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")
        except OSError as exc:
            log.warning("cannot write the audit log: %s", exc)

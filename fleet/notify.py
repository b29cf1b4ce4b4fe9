"""Alarm notifiers: a webhook (POST JSON, retries with exponential back-off) and SMTP mail.

Both optional (``notify.webhook_url``, ``notify.smtp_host`` + ``mail_to``). Notices are sent
from a background thread so neither the ingest nor an API request waits on a slow receiver.
A notice carries the alarm as the API shows it (no personal data: alarms hold none).
"""

from __future__ import annotations

import json
import logging
import queue
import smtplib
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from fleet.settings import Notifiers

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, settings: Notifiers, *, sleep: Callable[[float], None] = time.sleep
                 ) -> None:
        self.settings = settings
        self.sleep = sleep
        self.sent = 0
        self.failed = 0
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="fleet-notify", daemon=True)
        self._thread.start()

    @classmethod
    def from_settings(cls, settings: Notifiers) -> Notifier | None:
        if not settings.webhook_url and not (settings.smtp_host and settings.mail_to):
            return None
        return cls(settings)

    def submit(self, changes: list[Any]) -> None:
        for change in changes:
            if change.what in ("raised", "cleared", "repeat"):
                self._queue.put(change)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every submitted notice was handled (tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(10)

    def _run(self) -> None:
        while True:
            change = self._queue.get()
            try:
                if change is None:
                    return
                body = {"event": change.what, "alarm": change.alarm}
                if self.settings.webhook_url:
                    self.post(body)
                if self.settings.smtp_host and self.settings.mail_to:
                    self.mail(body)
            except Exception:
                self.failed += 1
                log.exception("alarm notice failed")
            finally:
                self._queue.task_done()

    def post(self, body: dict[str, Any]) -> bool:
        import httpx

        delay = self.settings.webhook_backoff_s
        for attempt in range(self.settings.webhook_retries + 1):
            try:
                response = httpx.post(self.settings.webhook_url, json=body, timeout=10)
                if response.status_code < 300:
                    self.sent += 1
                    return True
                log.warning("webhook answered %s (attempt %d)", response.status_code,
                            attempt + 1)
            except httpx.HTTPError as exc:
                log.warning("webhook failed: %s (attempt %d)", exc, attempt + 1)
            if attempt < self.settings.webhook_retries:
                self.sleep(delay)
                delay = min(delay * 2, 300)
        self.failed += 1
        return False

    def mail(self, body: dict[str, Any]) -> None:
        alarm = body["alarm"]
        msg = EmailMessage()
        msg["Subject"] = (f"[fleet] {body['event']}: {alarm['type']} at {alarm['terminal']}")
        msg["From"] = self.settings.mail_from or "kiosk-fleet@localhost"
        msg["To"] = ", ".join(self.settings.mail_to)
        msg.set_content(f"{alarm['message']}\n\n" + json.dumps(body, ensure_ascii=False,
                                                                 indent=2))
        with smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=15) as smtp:
            if self.settings.smtp_starttls:
                smtp.starttls()
            if self.settings.smtp_user:
                smtp.login(self.settings.smtp_user, self.settings.smtp_password)
            smtp.send_message(msg)
        self.sent += 1

"""Logging with a personal-data safety net.

Code must never log names, ID numbers, addresses or codes in the first place (use the masked
properties). :class:`PersonalDataFilter` is the second line of defence: every record that
reaches a handler is rendered and scrubbed of anything that looks like an ID or phone number.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from drivers.privacy import scrub

FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"


class PersonalDataFilter(logging.Filter):
    """Masks ID-number-like and phone-like digit runs in the final message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install_filter(handler: logging.Handler) -> logging.Handler:
    if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
        handler.addFilter(PersonalDataFilter())
    return handler


def setup_logging(level: str = "INFO", log_dir: Path | None = None,
                  console: bool = True) -> None:
    """Configure the root logger once: console and/or a rotating file, both filtered."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_kiosk", False):
            root.removeHandler(handler)
    handlers: list[logging.Handler] = []
    if console:
        handlers.append(logging.StreamHandler())
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(
            log_dir / "kiosk.log", maxBytes=5_000_000, backupCount=5, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._kiosk = True  # type: ignore[attr-defined]
        root.addHandler(install_filter(handler))

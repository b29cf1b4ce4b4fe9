"""What can go wrong with a queue request, as typed errors that survive a trip over HTTP.

Every error has a stable ``code`` (the API's ``error.code`` and what the screens switch on), a
Chinese ``message`` fit to show a resident as it is, and JSON-safe ``details`` (times as ISO
8601 strings). :func:`error_from_dict` rebuilds the same class on the client side.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar


class QueueError(Exception):
    """Base of every queue error."""

    code: ClassVar[str] = "queue_error"
    http_status: ClassVar[int] = 409

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}

    def _time(self, key: str) -> datetime | None:
        value = self.details.get(key)
        return datetime.fromisoformat(value) if value else None


class InvalidRequest(QueueError):
    """The request itself is wrong (missing field, bad value)."""

    code = "invalid"
    http_status = 422


class UnknownCategory(InvalidRequest):
    code = "unknown_category"


class UnknownWindow(InvalidRequest):
    code = "unknown_window"


class TicketNotFound(QueueError):
    code = "not_found"
    http_status = 404


class BadTransition(QueueError):
    """The ticket is not in a state that allows this (e.g. served twice as no-show)."""

    code = "bad_state"


class QueueClosed(QueueError):
    """Outside the opening hours; ``next_open`` says when numbers are given again."""

    code = "closed"

    @property
    def next_open(self) -> datetime | None:
        return self._time("next_open")


class CapacityReached(QueueError):
    """Today's numbers of the category are all given; ``next_open`` is the next day's opening."""

    code = "capacity"

    @property
    def next_open(self) -> datetime | None:
        return self._time("next_open")


class CheckInRefused(QueueError):
    """Appointment check-in refused; ``offer_ticket`` means a normal ticket can be taken."""

    code = "checkin_refused"

    @property
    def offer_ticket(self) -> bool:
        return bool(self.details.get("offer_ticket", True))

    @property
    def category(self) -> str:
        return str(self.details.get("category", ""))

    @property
    def booked_at(self) -> datetime | None:
        return self._time("booked_at")


class AppointmentNotFound(CheckInRefused):
    code = "no_appointment"


class TooEarly(CheckInRefused):
    """Arrived before the check-in window; ``checkin_from`` is when it opens."""

    code = "too_early"

    @property
    def checkin_from(self) -> datetime | None:
        return self._time("checkin_from")


class TooLate(CheckInRefused):
    code = "too_late"


class AppointmentCancelled(CheckInRefused):
    code = "appointment_cancelled"


class QueueUnavailable(QueueError):
    """The hall server cannot be reached (and no offline range is configured or left)."""

    code = "unavailable"
    http_status = 503


class Unauthorized(QueueError):
    """No valid kiosk key or staff session (401)."""

    code = "unauthorized"
    http_status = 401


class Forbidden(QueueError):
    """Known caller, not allowed to do this (403): another window, no admin role, no CSRF."""

    code = "forbidden"
    http_status = 403


class RateLimited(QueueError):
    """Too many tries (429); ``retry_after_s`` says when to try again."""

    code = "rate_limited"
    http_status = 429


class LoginLocked(RateLimited):
    """Too many wrong passwords for this account or from this address (429): sign-in is
    refused, whatever the password, for ``retry_after_s``; ``scope`` is ``account`` or
    ``address``."""

    code = "login_locked"


class WindowPaused(QueueError):
    code = "paused"


ERRORS: dict[str, type[QueueError]] = {
    cls.code: cls for cls in (
        QueueError, InvalidRequest, UnknownCategory, UnknownWindow, TicketNotFound,
        BadTransition, QueueClosed, CapacityReached, CheckInRefused, AppointmentNotFound,
        TooEarly, TooLate, AppointmentCancelled, QueueUnavailable, Unauthorized, Forbidden,
        RateLimited, LoginLocked, WindowPaused)
}


def error_from_dict(data: dict[str, Any]) -> QueueError:
    """The error a server answered with, as the class it was raised as."""
    cls = ERRORS.get(str(data.get("code", "")), QueueError)
    details = data.get("details") if isinstance(data.get("details"), dict) else {}
    return cls(str(data.get("message", "排队系统返回了错误")), **details)

"""Console sessions, CSRF tokens and log-in lock-out, independent of HTTP and of the database.

The console keeps its browser sessions on the server: the cookie carries only a random id
(HttpOnly, SameSite=Strict, Secure when served over HTTPS), so logging out or disabling a user
ends the session at once. Every session has its own CSRF token (synchronizer token pattern):
each form carries it in a hidden field and every POST is refused without it. The log-in form,
which is posted before there is a session, uses a short-lived pre-session token bound to a
cookie of its own (double submit).

Lock-out: ``max_failures`` failed log-ins for a user name (or from one client address)
within ``window_s`` lock that name (or address) for ``lockout_s``; a locked name is refused
even with the right password, and the refusal does not tell whether the name exists.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

SESSION_COOKIE = "kfc_session"
LOGIN_COOKIE = "kfc_login"


@dataclass
class ConsoleSession:
    """One logged-in browser."""

    id: str
    username: str
    role: str
    region_prefix: str
    csrf: str
    created: float
    last_seen: float


@dataclass
class LockoutPolicy:
    max_failures: int = 5
    window_s: float = 15 * 60
    lockout_s: float = 15 * 60


@dataclass
class _Failures:
    times: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class LoginGuard:
    """Counts failed log-ins per user name and per client address and locks them out."""

    def __init__(self, policy: LockoutPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or LockoutPolicy()
        self._clock = clock
        self._lock = threading.Lock()
        self._by_key: dict[str, _Failures] = {}

    def locked_for(self, *keys: str) -> float:
        """Seconds left of the longest lock-out among ``keys`` (0 when none is locked)."""
        now = self._clock()
        with self._lock:
            left = [f.locked_until - now for k in keys if (f := self._by_key.get(k))]
        return max([0.0, *left])

    def failed(self, *keys: str) -> None:
        now = self._clock()
        p = self.policy
        with self._lock:
            for key in keys:
                f = self._by_key.setdefault(key, _Failures())
                f.times.append(now)
                while f.times and now - f.times[0] > p.window_s:
                    f.times.popleft()
                if len(f.times) >= p.max_failures:
                    f.locked_until = now + p.lockout_s
                    f.times.clear()

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._by_key.pop(key, None)


class SessionStore:
    """Server-side sessions with idle and absolute time-outs."""

    def __init__(self, idle_s: float = 8 * 3600, absolute_s: float = 24 * 3600,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_s = idle_s
        self.absolute_s = absolute_s
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, ConsoleSession] = {}
        self._login_tokens: dict[str, float] = {}

    def create(self, username: str, role: str, region_prefix: str = "") -> ConsoleSession:
        now = self._clock()
        session = ConsoleSession(id=secrets.token_urlsafe(32), username=username, role=role,
                                 region_prefix=region_prefix, csrf=secrets.token_urlsafe(32),
                                 created=now, last_seen=now)
        with self._lock:
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> ConsoleSession | None:
        if not session_id:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.last_seen > self.idle_s or now - session.created > self.absolute_s:
                del self._sessions[session_id]
                return None
            session.last_seen = now
            return session

    def end(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def end_user(self, username: str) -> int:
        """End every session of ``username`` (user disabled, password or role changed)."""
        with self._lock:
            ids = [k for k, s in self._sessions.items() if s.username == username]
            for k in ids:
                del self._sessions[k]
        return len(ids)

    # -- the log-in form's pre-session token -------------------------------------------------
    def new_login_token(self, ttl_s: float = 3600) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._login_tokens = {k: v for k, v in self._login_tokens.items() if v > now}
            self._login_tokens[token] = now + ttl_s
        return token

    def check_login_token(self, cookie: str | None, form: str | None) -> bool:
        if not cookie or not form or not hmac.compare_digest(cookie, form):
            return False
        with self._lock:
            expires = self._login_tokens.get(cookie, 0.0)
        return expires > self._clock()


def csrf_ok(session: ConsoleSession | None, submitted: str | None) -> bool:
    """True when ``submitted`` is this session's CSRF token (constant-time comparison)."""
    return bool(session and submitted and hmac.compare_digest(session.csrf, submitted))

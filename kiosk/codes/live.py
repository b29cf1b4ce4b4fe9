"""The code on screen (亮码): valid until it expires, refreshed before that, never kept longer.

:class:`LiveCode` holds at most one :class:`IssuedCode`. :meth:`LiveCode.current` returns
``None`` once the code has expired (and forgets it), so nothing can show or print a stale code.
The screen ticks once a second: it shows :meth:`seconds_left` as the countdown and, when
:meth:`refresh_due` says so, fetches a fresh code on a worker thread and hands it to
:meth:`replace`. :meth:`clear` drops the code when the screen closes or the session ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kiosk.codes.platform import IssuedCode


class LiveCode:
    def __init__(self, refresh_before_s: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        if refresh_before_s < 0:
            raise ValueError("refresh_before_s must not be negative")
        self.refresh_before_s = refresh_before_s
        self._clock = clock
        self._code: IssuedCode | None = None
        self._lock = threading.Lock()

    def replace(self, code: IssuedCode) -> None:
        """Show ``code`` from now on (the previous one is dropped)."""
        with self._lock:
            self._code = code

    def clear(self) -> None:
        with self._lock:
            self._code = None

    def current(self) -> IssuedCode | None:
        """The code if it is still valid; an expired code is forgotten and None returned."""
        with self._lock:
            code = self._code
            if code is not None and code.expired(self._clock()):
                self._code = code = None
            return code

    def seconds_left(self) -> int:
        code = self.current()
        return 0 if code is None else int(code.seconds_left(self._clock()))

    def refresh_at(self) -> float | None:
        """When a new code should be fetched: ``refresh_before_s`` before expiry, but not
        before half the code's life (short-lived codes are not refreshed continuously)."""
        code = self.current()
        if code is None:
            return None
        lead = min(self.refresh_before_s, code.lifetime_s / 2)
        return code.expires_at - lead

    def refresh_due(self) -> bool:
        """True when there is no valid code or it is time to fetch the next one."""
        at = self.refresh_at()
        return at is None or self._clock() >= at

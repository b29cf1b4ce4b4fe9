"""In-process fake code scanner for unit tests, demos and the UI."""

from __future__ import annotations

from drivers.fake_base import PluggableFake
from drivers.scanner.interface import CodeScanned, Scanner


class FakeScanner(PluggableFake, Scanner):
    """A scanner driven by test code: :meth:`scan` and :meth:`set_available`. Thread-safe."""

    type_name = "fake"
    unplugged_reason = "scanner unplugged"


    def scan(self, payload: str) -> bool:
        """Publish a :class:`CodeScanned` (source ``"scanner"``); ignored unless ready."""
        with self._ops:
            if not (self._running and self._available):
                return False
            self._emit(CodeScanned(self.kind, payload=payload, source="scanner"))
            return True


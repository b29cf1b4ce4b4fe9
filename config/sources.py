"""Where each configured value came from, so that an error points at the line to fix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from config.introspect import KeyPath, dotted

SourceKind = Literal["default", "profile", "file", "env"]


@dataclass(frozen=True)
class Source:
    """One layer's claim to a value: a profile or config file (with line) or an env var.

    ``rank`` is the layer's position (later layers win), used to pick the culprit when a
    check involves several keys.
    """

    kind: SourceKind
    name: str = ""  # profile name or environment variable
    path: str = ""  # file the value was read from
    line: int | None = None
    rank: int = 0

    def at_line(self, line: int | None) -> Source:
        return Source(self.kind, self.name, self.path, line, self.rank)

    def __str__(self) -> str:
        where = f"{self.path} line {self.line}" if self.line else self.path
        if self.kind == "profile":
            return f"profile {self.name} ({where})"
        if self.kind == "file":
            return f"config file {where}"
        if self.kind == "env":
            return f"environment variable {self.name}"
        return "built-in default"


DEFAULT = Source("default")


class SourceMap:
    """Key path → :class:`Source` of the value the merged config holds there.

    Only leaves are recorded (scalars, lists, empty tables), plus the items of lists of tables,
    so a table written in an early layer does not claim keys set later.
    """

    def __init__(self) -> None:
        self._by_path: dict[KeyPath, Source] = {}

    def record(self, path: KeyPath, value: Any, source: Source,
               lines: Mapping[KeyPath, int] | None = None) -> None:
        """Record ``value`` (and everything inside it) as set by ``source`` at ``path``."""
        self.forget(path)
        self._record(path, value, source, lines or {})

    def _record(self, path: KeyPath, value: Any, source: Source,
                lines: Mapping[KeyPath, int]) -> None:
        if isinstance(value, Mapping) and value:
            for key, item in value.items():
                self._record((*path, key), item, source, lines)
            return
        self._by_path[path] = source.at_line(_line_for(path, lines)) if lines else source
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    self._record((*path, index), item, source, lines)

    def forget(self, path: KeyPath) -> None:
        size = len(path)
        for known in [p for p in self._by_path if p[:size] == path]:
            del self._by_path[known]

    def lookup(self, path: KeyPath) -> Source | None:
        """The source of ``path`` itself or of the value that contains it."""
        for size in range(len(path), 0, -1):
            found = self._by_path.get(path[:size])
            if found is not None:
                return found
        return None

    def blame(self, path: KeyPath, related: Iterable[KeyPath] = ()) -> Source:
        """The source to name in an error about ``path`` (and the keys it was checked against).

        The latest layer among them wins: that is the change that broke the combination.
        """
        candidates = []
        for candidate in (path, *related):
            found = self.lookup(candidate) or self._latest_inside(candidate)
            if found is not None:
                candidates.append(found)
        if not candidates:
            return DEFAULT
        return max(candidates, key=lambda source: source.rank)

    def _latest_inside(self, path: KeyPath) -> Source | None:
        size = len(path)
        inside = [s for p, s in self._by_path.items() if p[:size] == path]
        return max(inside, key=lambda source: source.rank) if inside else None

    def as_dict(self) -> dict[str, str]:
        return {dotted(path): str(source) for path, source in self._by_path.items()}


def _line_for(path: KeyPath, lines: Mapping[KeyPath, int]) -> int | None:
    for size in range(len(path), 0, -1):
        line = lines.get(path[:size])
        if line is not None:
            return line
    return None

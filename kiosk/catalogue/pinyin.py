"""Text normalisation and pinyin for search (pypinyin), plus the syllable matcher.

A text is split into tokens: one pinyin syllable per Chinese character (the reading pypinyin
picks from its phrase dictionary, so 重度 is ``zhong du`` and 长期 ``chang qi``) and one token per
run of letters or digits. A Latin query matches a run of consecutive tokens when it can be cut
into pieces that are, token by token, the whole syllable, its first letter, its ``zh``/``ch``/
``sh`` initial, or (for the last token only, the user is still typing) any prefix of it. So
``ylbx``, ``yiliaobaoxian``, ``yiliaobx`` and ``yiliaobao`` all find 医疗保险.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_DROP = re.compile(r"[\s\u3000《》〈〉“”‘’\"'（）()\[\]【】、，,。．.·・:：;；!！?？/\\_—–-]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[a-z0-9]+")


def normalise(text: str) -> str:
    """NFKC (full-width → ASCII), lower case, punctuation and spaces removed."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text).lower())


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def is_latin(text: str) -> bool:
    return _LATIN.fullmatch(text) is not None


@lru_cache(maxsize=4096)
def tokens(text: str) -> tuple[tuple[str, ...], ...]:
    """Per token, its accepted spellings: ``绿`` → ``("lv", "lu")``; ``80`` → ``("80",)``.

    ``text`` should be normalised. Characters pypinyin does not know are kept as themselves
    (so they can still match literally).
    """
    from pypinyin import Style, lazy_pinyin  # 0.5 s of dictionaries: not at start-up

    out: list[tuple[str, ...]] = []
    for piece in lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: list(chars)):
        piece = piece.lower()
        if not piece:
            continue
        if has_cjk(piece) or not piece.isascii():
            out.append((piece,))
        elif "v" in piece and piece.isalpha():
            out.append((piece, piece.replace("v", "u")))
        elif piece.isalpha():
            out.append((piece,))
        else:  # a run such as "80" or "a3": letters and digits split into runs
            out.extend((run,) for run in re.findall(r"[a-z]+|[0-9]+", piece))
    return tuple(out)


def full_pinyin(toks: tuple[tuple[str, ...], ...]) -> str:
    return "".join(t[0] for t in toks)


def initials(toks: tuple[tuple[str, ...], ...]) -> str:
    return "".join(t[0][0] for t in toks)


@dataclass(frozen=True)
class SyllableMatch:
    start: int  # first token matched
    count: int  # tokens matched
    full: int  # of which typed as whole syllables


def _initial_lengths(spelling: str) -> tuple[int, ...]:
    if spelling[:2] in ("zh", "ch", "sh") and len(spelling) > 2:
        return (1, 2)
    return (1,)


def match_syllables(query: str, toks: tuple[tuple[str, ...], ...],
                    starts: dict[str, tuple[int, ...]] | None = None
                    ) -> SyllableMatch | None:
    """The best way ``query`` (lower-case letters/digits) matches consecutive tokens.

    Best = most tokens typed as whole syllables, then fewest tokens, then earliest start.
    ``starts`` (first letter → token positions) saves looking at hopeless start positions.
    """
    if not query or not toks:
        return None
    n, size = len(toks), len(query)
    positions = starts.get(query[0], ()) if starts is not None else range(n)
    best: SyllableMatch | None = None
    memo: dict[tuple[int, int], tuple[int, int] | None] = {}

    def walk(i: int, j: int) -> tuple[int, int] | None:
        """(full syllables, tokens used) for query[i:] from token j, best first."""
        if i == size:
            return (0, 0)
        if j == n:
            return None
        key = (i, j)
        if key in memo:
            return memo[key]
        result: tuple[int, int] | None = None
        rest = query[i:]
        for spelling in toks[j]:
            options: list[tuple[int, int]] = []  # (consumed chars, is full)
            if rest.startswith(spelling):
                options.append((len(spelling), 1))
            if spelling.startswith(rest):  # the last token, still being typed
                options.append((len(rest), 1 if rest == spelling else 0))
            if rest[0] == spelling[0]:
                options.extend((k, 0) for k in _initial_lengths(spelling)
                               if rest[:k] == spelling[:k] and k < len(spelling))
            for consumed, full in options:
                tail = walk(i + consumed, j + 1)
                if tail is None:
                    continue
                candidate = (tail[0] + full, tail[1] + 1)
                if result is None or (candidate[0], -candidate[1]) > (result[0], -result[1]):
                    result = candidate
        memo[key] = result
        return result

    for start in positions:
        found = walk(0, start)
        if found is None:
            continue
        match = SyllableMatch(start=start, count=found[1], full=found[0])
        if best is None or (match.full, -match.count) > (best.full, -best.count):
            best = match
    return best


def start_index(toks: tuple[tuple[str, ...], ...]) -> dict[str, tuple[int, ...]]:
    """First letter → positions of tokens that can start with it."""
    index: dict[str, list[int]] = {}
    for position, spellings in enumerate(toks):
        for letter in {spelling[0] for spelling in spellings}:
            index.setdefault(letter, []).append(position)
    return {letter: tuple(found) for letter, found in index.items()}

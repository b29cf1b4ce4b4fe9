"""Inverted postings over a catalogue's search texts: which texts a query can possibly match.

:class:`kiosk.catalogue.search.SearchIndex` matches a query against each indexed text in
several ways (see its module). Trying every text costs time in proportion to the catalogue;
this index, built once per catalogue version, hands the search a *candidate set* instead:
every text that one of those ways could match, and few others. The matchers then run on the
candidates only, so a query at province scale (ten thousand items) touches tens to hundreds of
texts, not tens of thousands.

==============================  ======================================================  =====
match                           candidates                                              exact
==============================  ======================================================  =====
exact, prefix, substring,       texts holding every character of the query: the          yes
subsequence (Chinese)           postings of its rarest character bigram (substring) or
                                characters (subsequence), intersected
pinyin (Latin query),           every way to cut the query into pieces a match accepts   yes
homophone (Chinese query)       (a whole syllable, an initial, zh/ch/sh, the prefix of
                                the last syllable) gives the initials of the tokens it
                                would cover: the texts whose token initials hold the
                                first six of them in a row (every 3-letter window), with
                                tokens beginning like its whole syllables and last piece
fuzzy (typos)                   texts sharing enough character bigrams (Chinese) or     nearly
                                letter trigrams of their full pinyin (Latin) with the
                                query for the rapidfuzz threshold to be reachable
==============================  ======================================================  =====

"Exact" means the candidate set holds every text the matcher would accept, so results equal a
scan of every text (``tests/unit/test_catalogue_index.py`` compares the two). The fuzzy
candidate rule counts shared n-grams: a text that shares fewer than an edit-distance bound
allows cannot reach the threshold, up to rapidfuzz's alignment details.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, groupby
from typing import Any

from kiosk.catalogue.pinyin import tokens

INITIALS_DEPTH = 3  # token-initial n-grams indexed: 1, 2 and 3 in a row
MAX_HEADS = 64  # cut initials checked on each candidate before the syllable matcher runs
MAX_PATHS = 4096  # ways to cut a query followed before falling back to its first initials
COMMON_FLOOR = 200  # n-grams in fewer texts than this are always counted (fuzzy candidates)
PLAN_DEPTH = 6  # initials of a cut whose 3-letter windows must all be in a candidate
MAX_SPELLING = 12  # longest whole token tried as one piece of a Latin query
CHINESE_FUZZY_RATIO = 75  # the search's rapidfuzz thresholds (see search.py)
LATIN_FUZZY_RATIO = 80


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    """pypinyin's word segmenter, made on first use: importing pypinyin trains its phrase
    segmenter (about 1 s of CPU on the CI machine), which must not delay the attract screen
    (cold start, issue 17); the catalogue is indexed on a worker after it."""
    from pypinyin.core import Pinyin

    return Pinyin()


def text_tokens(norm: str) -> tuple[tuple[str, ...], ...]:
    """:func:`kiosk.catalogue.pinyin.tokens` of a normalised text, word by word.

    pypinyin cuts a text into words (its phrase dictionary) and spells each word on its own;
    this does the same cut and takes each word's tokens from the cache, so a catalogue of
    thousands of names made of a few hundred words is spelled several times faster. The
    result equals ``tokens(norm)`` (``tests/unit/test_catalogue_index.py`` checks it).
    """
    return tuple(token for word in _segmenter().seg(norm) for token in tokens(word))


@dataclass(frozen=True)
class PinyinPlan:
    """What the index knows of a pinyin query before any text is tried."""

    candidates: frozenset[int]  # texts a match could cover
    at_start: frozenset[int]  # of which those it could cover from their first token on
    shapes: frozenset[tuple[int, int]]  # (whole syllables, pieces) of cuts with candidates
    # a candidate's token initials hold one of these (None: too many to check one by one)
    heads: frozenset[str] | None


# (initials, whole syllables, pieces, openings of the whole syllables and the last piece)
Path = tuple[str, int, int, frozenset[str]]


class _TooMany(Exception):
    """More cut initials than are worth checking."""


@dataclass(frozen=True)
class Indexed:
    """What the index needs of one distinct text (normalised, with its tokens)."""

    norm: str
    toks: tuple[tuple[str, ...], ...]
    full: str  # full pinyin


def _ngrams(text: str, n: int) -> set[str]:
    return {text[i:i + n] for i in range(len(text) - n + 1)}


def _initials(toks: tuple[tuple[str, ...], ...]) -> str:
    return "".join(spellings[0][0] for spellings in toks)


def _min_shared(length: int, n: int, ratio: float) -> int:
    """Fewest n-grams a string of ``length`` shares with a text holding an alignment of
    similarity ``ratio`` (%): each edit breaks at most ``n`` of its ``length - n + 1`` n-grams."""
    edits = length - math.ceil(length * ratio / 100)
    return max(1, length - n + 1 - n * edits)


class Postings:
    """Postings lists (n-gram → ids of the texts holding it) over ``texts``, by id order."""

    def __init__(self, texts: Sequence[Indexed]) -> None:
        self.size = len(texts)
        chars: defaultdict[str, list[int]] = defaultdict(list)
        bigrams: defaultdict[str, list[int]] = defaultdict(list)
        initials: defaultdict[str, list[int]] = defaultdict(list)
        head_starts: defaultdict[str, list[int]] = defaultdict(list)
        openings: defaultdict[str, list[int]] = defaultdict(list)
        norm_starts: defaultdict[str, list[int]] = defaultdict(list)
        trigrams: defaultdict[str, list[int]] = defaultdict(list)
        spellings: set[str] = set()
        for text_id, text in enumerate(texts):
            norm, heads = text.norm, _initials(text.toks)
            grams = (
                (chars, set(norm)),
                (bigrams, _ngrams(norm, 2)),
                (head_starts, {heads[:n] for n in range(1, INITIALS_DEPTH + 1)
                               if len(heads) >= n}),
                (norm_starts, {norm[:n] for n in (1, 2) if len(norm) >= n}),
                (initials, set().union(*(_ngrams(heads, n)
                                         for n in range(1, INITIALS_DEPTH + 1)))),
                (trigrams, _ngrams(text.full, 3)),
                (openings, {spelling[:n] for token in text.toks for spelling in token
                            for n in (2, 3) if len(spelling) >= n}),
            )
            for table, keys in grams:
                for key in keys:
                    table[key].append(text_id)
            for token in text.toks:
                spellings.update(s for s in token if s.isascii())
        self._chars = {k: frozenset(v) for k, v in chars.items()}
        self._bigrams = {k: frozenset(v) for k, v in bigrams.items()}
        self._initials = {k: frozenset(v) for k, v in initials.items()}
        self._head_starts = {k: frozenset(v) for k, v in head_starts.items()}
        self._openings = {k: frozenset(v) for k, v in openings.items()}
        self._norm_starts = {k: frozenset(v) for k, v in norm_starts.items()}
        self._trigrams = {k: tuple(v) for k, v in trigrams.items()}  # ids ascending
        self.spellings = frozenset(spellings)
        self.prefixes = frozenset(s[:i] for s in spellings for i in range(1, len(s) + 1))
        self.heads = frozenset(s[0] for s in spellings)
        self.longest = min(MAX_SPELLING, max((len(s) for s in spellings), default=1))
        self._plans = lru_cache(maxsize=1024)(self._plan)

    # -- Chinese: characters and bigrams -------------------------------------------------------
    def containing(self, query: str) -> frozenset[int]:
        """Texts holding every character of ``query`` (and, for a substring, its bigrams)."""
        lists = [self._chars.get(char, frozenset()) for char in set(query)]
        return _intersect(lists)

    def substring_candidates(self, query: str) -> frozenset[int]:
        """Texts that may contain ``query`` as a substring (every bigram of it)."""
        if len(query) < 2:
            return self._chars.get(query, frozenset())
        return _intersect([self._bigrams.get(g, frozenset()) for g in _ngrams(query, 2)])

    def chinese_fuzzy(self, query: str, exclude: Iterable[int] = ()) -> list[Shared]:
        """Texts sharing enough character bigrams with ``query`` for a partial ratio of
        :data:`CHINESE_FUZZY_RATIO` to be reachable, most shared first."""
        grams = _ngrams(query, 2)
        need = _min_shared(len(query), 2, CHINESE_FUZZY_RATIO)
        return _counted([self._bigrams[g] for g in grams if g in self._bigrams], need, exclude,
                        len(query), 2, self.size)

    # -- Latin: pinyin pieces and trigrams -----------------------------------------------------
    def plan(self, query: str, *, whole_only: bool = False, pieces: int = 0) -> PinyinPlan:
        """What a pinyin match of ``query`` could cover (see the module docstring).

        ``whole_only``: every piece a whole syllable, ``pieces`` of them (a homophone match).
        """
        return self._plans(query, whole_only, pieces)

    def _plan(self, query: str, whole_only: bool, pieces: int) -> PinyinPlan:
        paths = self._paths(query, whole_only, pieces, PLAN_DEPTH)
        if paths is None:  # too many ways to cut it: the first initials only
            paths = self._paths(query, whole_only, pieces, INITIALS_DEPTH) or frozenset()
        covering: dict[tuple[str, frozenset[str]], frozenset[int]] = {}
        for heads, _, _, marks in paths:
            if (heads, marks) not in covering:
                lists = [self._initials.get(heads[i:i + INITIALS_DEPTH], frozenset())
                         for i in range(max(1, len(heads) - 2))]
                lists += [self._openings.get(mark, frozenset()) for mark in marks]
                covering[heads, marks] = _intersect(lists)
        live = {key: ids for key, ids in covering.items() if ids}
        candidates = frozenset().union(*live.values()) if live else frozenset()
        at_start = frozenset().union(*(
            ids & self._head_starts.get(heads[:INITIALS_DEPTH], frozenset())
            for (heads, _), ids in live.items())) if live else frozenset()
        shapes = frozenset((full, count) for heads, full, count, marks in paths
                           if (heads, marks) in live)
        heads = frozenset(heads for heads, _ in live)
        return PinyinPlan(candidates, at_start, shapes,
                          heads if len(heads) <= MAX_HEADS else None)

    def _paths(self, query: str, whole_only: bool, pieces: int,
               depth: int) -> frozenset[Path] | None:
        """(first ``depth`` piece initials, whole syllables, pieces, openings) of every
        complete cut of ``query``; None when there are more than :data:`MAX_PATHS`. The
        openings are the first 2-3 letters of each whole syllable and of the last piece that
        have that many: a covered text has tokens spelled so."""
        size = len(query)
        memo: dict[tuple[int, int], frozenset[Path]] = {}

        def cut(i: int, left: int) -> frozenset[Path]:
            # left: pieces still to place when a count is asked for (else -1)
            if i == size:
                return frozenset({("", 0, 0, frozenset())}) if left <= 0 else frozenset()
            if left == 0:
                return frozenset()
            key = (i, left)
            if key in memo:
                return memo[key]
            head = query[i]
            found: set[Path] = set()
            if head in self.heads:
                ends: set[tuple[int, int]] = set()  # (end, whole)
                for length in range(1, min(self.longest, size - i) + 1):
                    if query[i:i + length] in self.spellings:
                        ends.add((i + length, 1))
                if not whole_only:
                    ends.add((i + 1, 0))  # an initial
                    if query[i:i + 2] in ("zh", "ch", "sh"):
                        ends.add((i + 2, 0))
                    if query[i:] in self.prefixes:  # the last syllable, still being typed
                        ends.add((size, 0))
                for end, whole in ends:
                    if end > size:
                        continue
                    # a whole syllable, or the last piece, of 2+ letters: a covered text has
                    # a token spelled with this opening
                    mark = query[i:min(end, i + 3)] if end - i >= 2 and (
                        whole or end == size) else ""
                    for heads, full, count, marks in cut(end, left - 1 if left > 0 else -1):
                        found.add(((head + heads)[:depth], full + whole, count + 1,
                                   marks | {mark} if mark else marks))
                if len(found) > MAX_PATHS:
                    raise _TooMany
            result = frozenset(found)
            memo[key] = result
            return result

        try:
            return cut(0, pieces if pieces > 0 else -1)
        except _TooMany:
            return None

    def starting_with(self, query: str) -> frozenset[int]:
        """Texts whose first characters are those of ``query`` (its first two at most): the
        only ones an exact or prefix match can find."""
        return self._norm_starts.get(query[:2], frozenset())

    def latin_fuzzy(self, pinyin: str, exclude: Iterable[int] = ()) -> list[Shared]:
        """Texts whose full pinyin shares enough letter trigrams with ``pinyin`` for a partial
        ratio of :data:`LATIN_FUZZY_RATIO` to be reachable, most shared first."""
        need = _min_shared(len(pinyin), 3, LATIN_FUZZY_RATIO)
        lists = [self._trigrams[g] for g in _ngrams(pinyin, 3) if g in self._trigrams]
        return _counted(lists, need, exclude, len(pinyin), 3, self.size)


def _intersect(lists: list[frozenset[int]]) -> frozenset[int]:
    if not lists:
        return frozenset()
    lists.sort(key=len)
    result = lists[0]
    for other in lists[1:]:
        if not result:
            break
        result = result & other
    return result


@dataclass(frozen=True)
class Shared:
    """Texts sharing ``count`` n-grams with a query, and the best partial ratio (0-100) that
    leaves possible: each edit breaks at most n of the query's n-grams."""

    count: int
    ratio_bound: float
    text_ids: tuple[int, ...]


def _counted(lists: Sequence[Collection[int]], need: int, exclude: Iterable[int],
             length: int, n: int, size: int) -> list[Shared]:
    """Ids found in at least ``need`` of ``lists`` (leaving out ``exclude``), grouped by how
    many, most first. n-grams held by more than a tenth of the ``size`` texts are not counted
    (they tell little and cost most): every id is assumed to share them."""
    if len(lists) < need:
        return []
    common = max(COMMON_FLOOR, size // 10)
    rare = [ids for ids in lists if len(ids) <= common]
    if not rare:
        rare = list(lists)
    assumed = len(lists) - len(rare)
    counts = Counter(chain.from_iterable(rare))
    skip = set(exclude)
    floor = max(1, need - assumed)
    found = sorted(((count, text_id) for text_id, count in counts.items()
                    if count >= floor and text_id not in skip), reverse=True)
    result = []
    for count, group in groupby(found, key=lambda pair: pair[0]):
        edits = math.ceil(max(0, len(lists) - count - assumed) / n)
        result.append(Shared(count + assumed, 100.0 * max(0, length - edits) / length,
                             tuple(text_id for _, text_id in group)))
    return result

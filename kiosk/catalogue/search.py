"""Search over the offered items: Chinese, pinyin (full and initials), synonyms, typos.

Every item is indexed under several texts: its name, its name with synonyms swapped in
(低保 ↔ 最低生活保障: 最低生活保障申请 is also indexed as 低保申请), and its keywords
(准生证, 养老金认证…). A query is matched against each text in the ways below; the best
way gives the match quality (0-100). The rank score adds the item's popularity (up to
:data:`POPULARITY_WEIGHT` points) and, when the query spells or begins a hot term of the
catalogue (医疗保险 for ``ylbx``), that term's weight (up to :data:`HOT_TERM_WEIGHT` points) for
the items containing it: both only decide between similar matches, and initials are often
ambiguous (``ylbx`` is 医疗保险 and 养老保险).

=================  ==================================================  ============
match              when                                                quality
=================  ==================================================  ============
``exact``          the query is the text (or the item code)            100
``prefix``         the text starts with the query                      88-98
``substring``      the text contains the query                         80-90
``pinyin``         Latin query = syllables/initials of a run of        68-100
                   characters (``ylbx``, ``dibao``, ``gaolingjt``)
``homophone``      a Chinese query sounds like part of the text        60-75
                   (低报 → 低保: the wrong character from the IME)
``subsequence``    the query's characters appear in order (养老认证)    55-80
``fuzzy``          rapidfuzz partial ratio ≥ 75 (typos in Chinese      45-60
                   or in full pinyin)
=================  ==================================================  ============

Synonym texts count 0.97 of the name, keywords 0.92. Ties go to the shorter name, then the
code. The index is built once per catalogue version (a few ms for a hundred items); a search
takes well under a millisecond per hundred items (``tests/bench/bench_catalogue.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from kiosk.catalogue.model import HotTerm, Item
from kiosk.catalogue.pinyin import (
    full_pinyin,
    has_cjk,
    match_syllables,
    normalise,
    start_index,
    tokens,
)

POPULARITY_WEIGHT = 12.0
START_BONUS = 3.0
HOT_TERM_WEIGHT = 15.0
MIN_QUALITY = 45.0
MAX_QUERY = 40
MAX_VARIANTS = 8
NAME, VARIANT, KEYWORD = "name", "synonym", "keyword"
WEIGHTS = {NAME: 1.0, VARIANT: 0.97, KEYWORD: 0.92}


@dataclass(frozen=True)
class Hit:
    """One search result: the item, its rank score and how it matched."""

    item: Item
    score: float  # quality + popularity + hot term: what results are sorted by
    quality: float  # 0-100, how well the query matched
    match: str  # exact | prefix | substring | pinyin | homophone | subsequence | fuzzy | code
    text: str  # the indexed text that matched (name, synonym form or keyword)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.item.code, "name": self.item.name, "score": round(self.score, 1),
                "match": self.match, "matched": self.text}


@dataclass(frozen=True)
class _Text:
    item_index: int
    kind: str
    display: str
    norm: str
    toks: tuple[tuple[str, ...], ...]
    starts: dict[str, tuple[int, ...]]
    full: str
    core_len: int  # characters without bracketed qualifiers: what coverage is measured on
    core_toks: int
    chars: frozenset[str]  # quick rejection: a match needs the query's characters here
    letters: frozenset[str]  # ... and a pinyin match the query's letters


@dataclass(frozen=True)
class _Query:
    norm: str
    cjk: bool
    pinyin: str  # the letters matched against syllables ("" when it has none)
    syllables: int  # of a Chinese query, for the homophone match
    chars: frozenset[str]
    letters: frozenset[str]


_BRACKETED = re.compile(r"[（(][^）)]*[）)]")


def _make_text(item_index: int, kind: str, display: str) -> _Text | None:
    norm = normalise(display)
    if not norm:
        return None
    toks = tokens(norm)
    core = normalise(_BRACKETED.sub("", display)) or norm
    letters = frozenset("".join(spelling for spellings in toks for spelling in spellings))
    return _Text(item_index, kind, display, norm, toks, start_index(toks), full_pinyin(toks),
                 len(core), len(tokens(core)), frozenset(norm), letters)


def synonym_variants(text: str, groups: Sequence[Sequence[str]],
                     limit: int = MAX_VARIANTS) -> list[str]:
    """``text`` with each synonym it contains replaced by the others of its group."""
    found = [text]
    seen = {text}
    frontier = [text]
    for _ in range(2):  # at most two substitutions
        nxt = []
        for current in frontier:
            for group in groups:
                for word in group:
                    if word not in current:
                        continue
                    for other in group:
                        if other == word or other in current:
                            continue
                        variant = current.replace(word, other)
                        if variant not in seen:
                            seen.add(variant)
                            found.append(variant)
                            nxt.append(variant)
                            if len(found) > limit:
                                return found[1:]
        frontier = nxt
    return found[1:]


def _is_subsequence(query: str, text: str) -> tuple[int, int] | None:
    """(start, end) of the shortest-from-first-hit window holding query's chars in order."""
    position = text.find(query[0])
    if position < 0:
        return None
    start = position
    for char in query[1:]:
        position = text.find(char, position + 1)
        if position < 0:
            return None
    return start, position + 1


class SearchIndex:
    """An immutable index over ``items`` (already filtered to what the terminal offers)."""

    def __init__(self, items: Iterable[Item], synonyms: Sequence[Sequence[str]] = (),
                 hot_terms: Sequence[HotTerm] = ()) -> None:
        self.items: tuple[Item, ...] = tuple(items)
        self.synonyms = tuple(tuple(group) for group in synonyms)
        self.hot_terms = tuple(hot_terms)
        texts: list[_Text] = []
        for index, item in enumerate(self.items):
            entries = [(NAME, item.name)]
            entries += [(VARIANT, v) for v in synonym_variants(item.name, self.synonyms)]
            entries += [(KEYWORD, k) for k in item.keywords]
            for kind, display in entries:
                text = _make_text(index, kind, display)
                if text is not None:
                    texts.append(text)
        self._texts = tuple(texts)
        self._codes = {normalise(item.code): index for index, item in enumerate(self.items)}
        self._terms: list[tuple[_Text, float, frozenset[int]]] = []
        for term in self.hot_terms:
            made = _make_text(-1, "term", term.term)
            if made is None:
                continue
            holders = frozenset(t.item_index for t in texts if made.norm in t.norm)
            self._terms.append((made, term.weight / 100.0, holders))

    def __len__(self) -> int:
        return len(self.items)

    # -- matching one text ---------------------------------------------------------------------
    @staticmethod
    def _chinese(query: _Query, text: _Text) -> tuple[float, str] | None:
        norm, q = text.norm, query.norm
        coverage = min(1.0, len(q) / text.core_len)
        if q == norm:
            return 100.0, "exact"
        if norm.startswith(q):
            return 88.0 + 10.0 * coverage, "prefix"
        if q in norm:
            return 80.0 + 10.0 * coverage, "substring"
        best: tuple[float, str] | None = None
        if query.pinyin and len(q) >= 2 and query.letters <= text.letters:
            found = match_syllables(query.pinyin, text.toks, text.starts)
            if found is not None and found.full == found.count == query.syllables:
                best = (60.0 + 15.0 * min(1.0, found.count / text.core_toks), "homophone")
        if len(q) >= 2 and query.chars <= text.chars:
            window = _is_subsequence(q, norm)
            if window is not None:
                compact = len(q) / (window[1] - window[0])
                quality = 55.0 + 25.0 * coverage * compact
                if best is None or quality > best[0]:
                    best = (quality, "subsequence")
        if len(q) >= 3 and best is None:
            ratio = fuzz.partial_ratio(q, norm, score_cutoff=75)
            if ratio:
                best = (0.6 * ratio, "fuzzy")
        return best

    @staticmethod
    def _latin(query: _Query, text: _Text) -> tuple[float, str] | None:
        if query.letters <= text.letters:
            found = match_syllables(query.pinyin, text.toks, text.starts)
            if found is not None:
                coverage = min(1.0, found.count / text.core_toks)
                quality = (68.0 + 22.0 * coverage + (START_BONUS if found.start == 0 else 0.0)
                           + 5.0 * found.full / found.count)
                return min(quality, 100.0), "pinyin"
        if len(query.pinyin) >= 5:
            ratio = fuzz.partial_ratio(query.pinyin, text.full, score_cutoff=80)
            if ratio:
                return 0.6 * ratio, "fuzzy"
        return None

    @staticmethod
    def _prepare(norm: str) -> _Query | None:
        if not has_cjk(norm):
            return _Query(norm, False, norm, 0, frozenset(norm), frozenset(norm))
        qtoks = tokens(norm)
        if any(char.isascii() for char in norm):
            # mixed (低保sq): spell the Chinese part in pinyin and match as a Latin query
            spelled = full_pinyin(qtoks)
            if not spelled.isascii():
                return None
            return _Query(spelled, False, spelled, 0, frozenset(spelled), frozenset(spelled))
        spelled = full_pinyin(qtoks)
        pinyin = spelled if spelled.isascii() else ""
        return _Query(norm, True, pinyin, len(qtoks), frozenset(norm), frozenset(pinyin))

    # -- the search ----------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10, *, fuzzy: bool = True) -> list[Hit]:
        """Items for ``query``, best first (at most ``limit``; ``limit <= 0``: all)."""
        query = normalise(query)[:MAX_QUERY]
        if not query:
            return []
        best: dict[int, tuple[float, str, str]] = {}

        def offer(index: int, quality: float, match: str, text: str) -> None:
            current = best.get(index)
            if current is None or quality > current[0]:
                best[index] = (quality, match, text)

        code_index = self._codes.get(query)
        if code_index is not None:
            offer(code_index, 100.0, "code", self.items[code_index].code)
        elif len(query) >= 3 and not has_cjk(query):
            for code, index in self._codes.items():
                if code.startswith(query):
                    offer(index, 85.0, "code", self.items[index].code)
        prepared = self._prepare(query)
        if prepared is None:
            return []
        cjk = prepared.cjk
        match_text = self._chinese if cjk else self._latin
        for text in self._texts:
            result = match_text(prepared, text)
            if result is None:
                continue
            quality, match = result
            if not fuzzy and match == "fuzzy":
                continue
            offer(text.item_index, quality * WEIGHTS[text.kind], match, text.display)
        boost = self._hot_term_boost(prepared.norm, cjk)
        hits = []
        for index, (quality, match, text) in best.items():
            if quality < MIN_QUALITY:
                continue
            item = self.items[index]
            score = (quality + POPULARITY_WEIGHT * item.popularity / 100.0
                     + HOT_TERM_WEIGHT * boost.get(index, 0.0))
            hits.append(Hit(item=item, score=score, quality=quality, match=match, text=text))
        hits.sort(key=lambda hit: (-hit.score, len(hit.item.name), hit.item.code))
        return hits if limit <= 0 else hits[:limit]

    def _hot_term_boost(self, query: str, cjk: bool) -> dict[int, float]:
        """Item index → 0..1: the weight of the hot term the query spells (or begins)."""
        boost: dict[int, float] = {}
        for term, weight, holders in self._terms:
            if cjk:
                if term.norm in query:
                    strength = 1.0
                elif term.norm.startswith(query):
                    strength = len(query) / len(term.norm)
                else:
                    continue
            else:
                found = match_syllables(query, term.toks, term.starts)
                if found is None or found.start != 0:
                    continue
                strength = found.count / len(term.toks)
            for index in holders:
                boost[index] = max(boost.get(index, 0.0), weight * strength)
        return boost

    def next_letters(self, query: str) -> frozenset[str]:
        """Letters that, typed after ``query``, still find something (keyboard hints).

        Fuzzy matches are left out: a key is lit only if it leads to a real match.
        """
        query = normalise(query)[:MAX_QUERY - 1]
        if has_cjk(query):
            return frozenset("abcdefghijklmnopqrstuvwxyz")
        # whatever matches query + letter also matches query (its last piece is a prefix)
        needed = frozenset(query)
        texts = self._texts if not query else [
            text for text in self._texts if needed <= text.letters
            and match_syllables(query, text.toks, text.starts) is not None]
        letters = set()
        for letter in "abcdefghijklmnopqrstuvwxyz":
            candidate = query + letter
            for text in texts:
                if letter in text.letters and match_syllables(
                        candidate, text.toks, text.starts) is not None:
                    letters.add(letter)
                    break
        return frozenset(letters)

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
code.

The index is built once per catalogue version. A search does not try every text: the
postings of :mod:`kiosk.catalogue.index` give the texts each match could accept, which are
tried best *ceiling* first (the best score a text could still reach) until none can enter
the results; :meth:`SearchIndex.scan` tries every text and returns the same results (the
reference the tests compare with). About 1 ms per query at 10,000 items
(``tests/bench/bench_catalogue.py``).
"""

from __future__ import annotations

import math
import re
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz

from kiosk.catalogue.index import Indexed, Postings, Shared, text_tokens
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
ALPHABET = "abcdefghijklmnopqrstuvwxyz"


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
    """One distinct indexed text (names, synonym forms and keywords that normalise alike
    share it) and the items holding it."""

    norm: str
    toks: tuple[tuple[str, ...], ...]
    starts: dict[str, tuple[int, ...]]
    full: str
    core_len: int  # characters without bracketed qualifiers: what coverage is measured on
    core_toks: int
    chars: frozenset[str]  # quick rejection: a match needs the query's characters here
    letters: frozenset[str]  # ... and a pinyin match the query's letters
    heads: str  # the tokens' initials: a pinyin match covers a run of them
    # (item index, kind, display text, position among all the items' texts in index order)
    holders: tuple[tuple[int, str, str, int], ...] = ()


@dataclass(frozen=True)
class _Query:
    norm: str
    cjk: bool
    pinyin: str  # the letters matched against syllables ("" when it has none)
    syllables: int  # of a Chinese query, for the homophone match
    chars: frozenset[str]
    letters: frozenset[str]
    # a pinyin (Latin) or homophone (Chinese) match covers a run of tokens whose initials
    # are one of these (None: too many ways to cut the query to check)
    heads: frozenset[str] | None = None


Boost = tuple[float, frozenset[int], frozenset[int]]  # (0..1, items, their texts)
Matcher = Callable[["_Query", "_Text"], tuple[float, str] | None]
_BRACKETED = re.compile(r"[（(][^）)]*[）)]")


def _make_text(display: str) -> _Text | None:
    norm = normalise(display)
    if not norm:
        return None
    toks = text_tokens(norm)
    core = normalise(_BRACKETED.sub("", display)) or norm
    letters = frozenset("".join(spelling for spellings in toks for spelling in spellings))
    return _Text(norm, toks, start_index(toks), full_pinyin(toks), len(core),
                 len(toks if core == norm else text_tokens(core)), frozenset(norm), letters,
                 "".join(spellings[0][0] for spellings in toks))


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


RANKED_FROM = 48  # candidates from which texts are tried best ceiling first
_EPSILON = 1e-9
FUZZY_TRIES = 300  # with a limit, fuzzy matching stops after this many texts
Bound = Callable[["_Bucket"], float]  # the best quality a text of the bucket can reach


class _Found:
    """The best match per item while a search runs.

    With a ``limit`` it also knows the *cut-off*, the score of the ``limit``-th best item so
    far, and skips texts whose *ceiling* (the best score they could give: quality bound ×
    weight + popularity + hot-term boost) is below it: the results are the same as when every
    candidate is tried, found after trying a few of them.
    """

    def __init__(self, index: SearchIndex, limit: int) -> None:
        self.index = index
        self.limit = limit
        # item index -> (quality, position of the text that gave it, match, text): at equal
        # quality the item's first text wins (name, then synonym forms, then keywords)
        self.best: dict[int, tuple[float, int, str, str]] = {}
        # the ``limit`` best results so far, best first, as (sort key, item index)
        self.top: list[tuple[tuple[float, int, str], int]] = []
        self.matched: set[int] = set()
        self.boost: dict[int, float] = {}
        self.text_boosts: dict[int, float] = {}
        self.boosted: frozenset[int] = frozenset()  # texts held by a boosted item

    def set(self, index: int, quality: float, match: str, text: str) -> None:
        self.best[index] = (quality, -1, match, text)
        self._rank(index, quality)

    def _rank(self, index: int, quality: float) -> None:
        """Keep :attr:`top` current after ``index`` got ``quality`` (scores only ever rise)."""
        if not self.limit or quality < MIN_QUALITY:
            return
        item = self.index.items[index]
        key = (-self.score(index, quality), len(item.name), item.code)
        top = self.top
        if len(top) == self.limit and key >= top[-1][0]:
            return
        for position, (_, holder) in enumerate(top):
            if holder == index:
                top[position] = (key, index)
                break
        else:
            top.append((key, index))
        top.sort()
        del top[self.limit:]

    def set_boost(self, boosts: list[Boost]) -> None:
        """Item → boost and text → its items' best boost (× the weight), the best term
        winning where terms overlap; and the boosted texts."""
        boosts = sorted(boosts, key=lambda boost: boost[0])
        for value, holders, texts in boosts:  # higher values overwrite lower ones
            self.boost.update(dict.fromkeys(holders, value))
            self.text_boosts.update(dict.fromkeys(texts, HOT_TERM_WEIGHT * value))
        self.boosted = frozenset().union(*(texts for _, _, texts in boosts))

    def offer(self, text: _Text, quality: float, match: str) -> None:
        best = self.best
        for index, kind, display, position in text.holders:
            weighted = quality * WEIGHTS[kind]
            current = best.get(index)
            if current is None or weighted > current[0] or (
                    weighted == current[0] and position < current[1]):
                best[index] = (weighted, position, match, display)
                if current is None or weighted > current[0]:
                    self._rank(index, weighted)

    def score(self, index: int, quality: float) -> float:
        return (quality + self.index.popularity_terms[index]
                + HOT_TERM_WEIGHT * self.boost.get(index, 0.0))

    def cutoff(self) -> tuple[float, tuple[int, str]]:
        """The ``limit``-th best result so far: its score and its tie-break (name length,
        code). A text must reach it to change the results; (-inf, …) while there are fewer."""
        if not self.limit or len(self.top) < self.limit:
            return -math.inf, (0, "")
        key = self.top[-1][0]
        return -key[0], (key[1], key[2])

    def _hopeless(self, text_id: int, ceiling: float,
                  cut: tuple[float, tuple[int, str]]) -> bool:
        """The text cannot enter the results: its ceiling is below the cut-off, or equal to
        it and every item holding it loses the tie."""
        score, tie = cut
        if ceiling + _EPSILON < score:
            return True
        return ceiling - _EPSILON <= score and self.index.tie_keys[text_id] > tie

    def text_boost(self, text_id: int) -> float:
        return self.text_boosts.get(text_id, 0.0)

    def _try(self, text_ids: Iterable[int], match: Matcher, query: _Query) -> None:
        texts = self.index.texts
        for text_id in text_ids:
            result = match(query, texts[text_id])
            if result is not None:
                self.matched.add(text_id)
                self.offer(texts[text_id], *result)

    def run(self, text_ids: Iterable[int], match: Matcher, query: _Query) -> None:
        """Try ``match`` on every one of ``text_ids``."""
        self._try(text_ids, match, query)

    def run_ranked(self, classes: list[tuple[frozenset[int], Bound]], match: Matcher,
                   query: _Query, by_tokens: bool) -> None:
        """Try the candidates ``classes`` hold, bucket by bucket (texts of one length), best
        ceiling first, and within a bucket text by text, best ceiling first, until none can
        reach the cut-off any more."""
        boost_ceiling = HOT_TERM_WEIGHT * max(self.boost.values(), default=0.0)
        parts = []
        for members, bound in classes:
            if self.boosted:
                parts.append((members & self.boosted, bound, boost_ceiling))
                parts.append((members - self.boosted, bound, 0.0))
            else:
                parts.append((members, bound, 0.0))
        entries = []
        for members, bound, extra in parts:
            if not members:
                continue
            for bucket in self.index.buckets(by_tokens):
                quality = bound(bucket)
                entries.append((bucket.weight * quality + bucket.popularity + extra,
                                bucket.ids, members, quality, bool(extra)))
        entries.sort(key=lambda entry: entry[0], reverse=True)
        index = self.index
        popularity, weights = index.popularity_max, index.weight_max
        cut = self.cutoff()
        for ceiling, ids, members, quality, boosted in entries:
            if ceiling + _EPSILON < cut[0]:
                break
            found = ids & members
            if not found:
                continue
            ceilings = sorted(((weights[i] * quality + popularity[i]
                                + (self.text_boost(i) if boosted else 0.0), i) for i in found),
                              reverse=True)
            for text_ceiling, text_id in ceilings:
                cut = self.cutoff()
                if self._hopeless(text_id, text_ceiling, cut):
                    if text_ceiling + _EPSILON < cut[0]:
                        break  # the rest of the bucket has lower ceilings: hopeless too
                    continue
                self._try((text_id,), match, query)

    def run_fuzzy(self, groups: list[Shared], query: _Query) -> None:
        """Fuzzy candidates, most shared n-grams first, while their ratio can still matter;
        at most :data:`FUZZY_TRIES` of them with a limit (typos rank below real matches)."""
        if not self.limit:
            for group in groups:
                self._try(group.text_ids, SearchIndex._fuzzy, query)
            return
        index = self.index
        popularity, weights = index.popularity_max, index.weight_max
        tries = 0
        for group in groups:
            best_case = 0.6 * group.ratio_bound
            ordered = sorted(group.text_ids, key=lambda i: weights[i] * best_case
                             + popularity[i] + self.text_boost(i), reverse=True)
            for text_id in ordered:
                if tries >= FUZZY_TRIES:
                    return
                cut = self.cutoff()
                ceiling = weights[text_id] * best_case + popularity[text_id] \
                    + self.text_boost(text_id)
                if self._hopeless(text_id, ceiling, cut):
                    if ceiling + _EPSILON < cut[0]:
                        break  # ordered by ceiling: the rest of the group is hopeless too
                    continue
                self._try((text_id,), SearchIndex._fuzzy, query)
                tries += 1

    def fuzzy_may_rank(self) -> bool:
        """False when not even a perfect fuzzy match could enter the results."""
        if not self.limit:
            return True
        ceiling = 60.0 * WEIGHTS[NAME] + max(self.index.popularity_terms, default=0.0) \
            + HOT_TERM_WEIGHT * max(self.boost.values(), default=0.0)
        return ceiling + _EPSILON >= self.cutoff()[0]

    def hits(self) -> list[Hit]:
        items = self.index.items
        if self.limit:  # :attr:`top` holds them already, in order
            return [self._hit(index) for _, index in self.top]
        ranked = []
        for index, (quality, _, match, text) in self.best.items():
            if quality < MIN_QUALITY:
                continue
            item = items[index]
            ranked.append((-self.score(index, quality), len(item.name), item.code, index,
                           quality, match, text))
        return [Hit(item=items[index], score=-negative, quality=quality, match=match,
                    text=text) for negative, _, _, index, quality, match, text in sorted(ranked)]

    def _hit(self, index: int) -> Hit:
        quality, _, match, text = self.best[index]
        return Hit(item=self.index.items[index], score=self.score(index, quality),
                   quality=quality, match=match, text=text)


@dataclass(frozen=True, eq=False)
class _Bucket:
    """Texts of one length (core characters or tokens) and what bounds their scores."""

    length: int
    fewest_tokens: int  # the fewest core tokens of a text here (bounds homophone coverage)
    weight: float  # the best weight of a text here
    popularity: float  # the best popularity term of a text here
    ids: frozenset[int]


def _buckets(texts: Sequence[_Text], weights: Sequence[float], popularity: Sequence[float],
             by_tokens: bool) -> tuple[_Bucket, ...]:
    groups: dict[int, list[int]] = {}
    for text_id, text in enumerate(texts):
        groups.setdefault(text.core_toks if by_tokens else text.core_len, []).append(text_id)
    return tuple(_Bucket(length, min(texts[i].core_toks for i in ids),
                         max(weights[i] for i in ids), max(popularity[i] for i in ids),
                         frozenset(ids)) for length, ids in sorted(groups.items()))


def _extensions(query: str, toks: tuple[tuple[str, ...], ...],
                starts: dict[str, tuple[int, ...]]) -> set[str]:
    """Every letter that, typed after ``query``, gives a query matching these tokens
    (:func:`kiosk.catalogue.pinyin.match_syllables`): the next letter of a syllable the last
    piece has begun, or the first letter of the token after a complete piece."""
    size, count = len(query), len(toks)
    letters: set[str] = set()
    seen: set[tuple[int, int]] = set()

    def walk(i: int, j: int) -> None:  # query[:i] covered tokens up to j (exclusive)
        if (i, j) in seen:
            return
        seen.add((i, j))
        if i == size:
            if j < count:
                letters.update(spelling[0] for spelling in toks[j])
            return
        if j == count:
            return
        rest = query[i:]
        for spelling in toks[j]:
            if len(rest) < len(spelling) and spelling.startswith(rest):
                letters.add(spelling[len(rest)])
            if rest.startswith(spelling):
                walk(i + len(spelling), j + 1)
            if rest[0] == spelling[0]:
                for length in (1, 2) if spelling[:2] in ("zh", "ch", "sh") else (1,):
                    if length < len(spelling) and rest[:length] == spelling[:length]:
                        walk(i + length, j + 1)

    for start in starts.get(query[0], ()):
        walk(0, start)
    return {letter for letter in letters if letter in ALPHABET}


class SearchIndex:
    """An immutable index over ``items`` (already filtered to what the terminal offers).

    Built once per catalogue version: the distinct texts with their pinyin, the postings of
    :class:`kiosk.catalogue.index.Postings` over them, the codes sorted for prefix lookups and
    the hot terms with the items holding them. ``build_ms`` says how long that took.
    """

    def __init__(self, items: Iterable[Item], synonyms: Sequence[Sequence[str]] = (),
                 hot_terms: Sequence[HotTerm] = ()) -> None:
        started = time.perf_counter()
        self.items: tuple[Item, ...] = tuple(items)
        self.synonyms = tuple(tuple(group) for group in synonyms)
        self.hot_terms = tuple(hot_terms)
        forms: dict[tuple[str, str], _Text] = {}
        holders: dict[tuple[str, str], list[tuple[int, str, str, int]]] = {}
        position = 0
        for index, item in enumerate(self.items):
            entries = [(NAME, item.name)]
            entries += [(VARIANT, v) for v in synonym_variants(item.name, self.synonyms)]
            entries += [(KEYWORD, k) for k in item.keywords]
            for kind, display in entries:
                key = (normalise(display), _BRACKETED.sub("", display))
                if key not in forms:
                    text = _make_text(display)
                    if text is None:
                        continue
                    forms[key] = text
                holders.setdefault(key, []).append((index, kind, display, position))
                position += 1
        self._texts = tuple(replace(text, holders=tuple(holders[key]))
                            for key, text in forms.items())
        self.popularity_terms = tuple(POPULARITY_WEIGHT * item.popularity / 100.0
                                      for item in self.items)
        self.weight_max = tuple(max(WEIGHTS[h[1]] for h in t.holders) for t in self._texts)
        self.popularity_max = tuple(max(self.popularity_terms[h[0]] for h in t.holders)
                                    for t in self._texts)
        self.tie_keys = tuple(min((len(self.items[h[0]].name), self.items[h[0]].code)
                                  for h in t.holders) for t in self._texts)
        by_item: list[list[int]] = [[] for _ in self.items]
        for text_id, text in enumerate(self._texts):
            for holder in text.holders:
                by_item[holder[0]].append(text_id)
        self.texts_of_item = tuple(tuple(ids) for ids in by_item)
        self._buckets = {
            by_tokens: _buckets(self._texts, self.weight_max, self.popularity_max, by_tokens)
            for by_tokens in (False, True)}
        self.postings = Postings([Indexed(t.norm, t.toks, t.full) for t in self._texts])
        self._codes = {normalise(item.code): index for index, item in enumerate(self.items)}
        self._sorted_codes = sorted(self._codes)
        # (term, weight, items holding it, every text of those items)
        self._terms: list[tuple[_Text, float, frozenset[int], frozenset[int]]] = []
        for term in self.hot_terms:
            made = _make_text(term.term)
            if made is None:
                continue
            holding = frozenset(
                index for text_id in self.postings.substring_candidates(made.norm)
                if made.norm in self._texts[text_id].norm
                for index, _, _, _ in self._texts[text_id].holders)
            self._terms.append((made, term.weight / 100.0, holding, frozenset(
                text_id for index in holding for text_id in self.texts_of_item[index])))
        self.build_ms = (time.perf_counter() - started) * 1000

    def __len__(self) -> int:
        return len(self.items)

    def buckets(self, by_tokens: bool) -> tuple[_Bucket, ...]:
        """The texts grouped by length (tokens for Latin queries, characters for Chinese
        ones), best weight and popularity band: what the ranked search walks."""
        return self._buckets[by_tokens]

    @property
    def texts(self) -> tuple[_Text, ...]:
        return self._texts

    @property
    def text_count(self) -> int:
        """Distinct indexed texts (names, synonym forms, keywords)."""
        return len(self._texts)

    # -- matching one text ---------------------------------------------------------------------
    @staticmethod
    def _chinese(query: _Query, text: _Text) -> tuple[float, str] | None:
        """Every Chinese match but the fuzzy one."""
        norm, q = text.norm, query.norm
        coverage = min(1.0, len(q) / text.core_len)
        if q == norm:
            return 100.0, "exact"
        if norm.startswith(q):
            return 88.0 + 10.0 * coverage, "prefix"
        if q in norm:
            return 80.0 + 10.0 * coverage, "substring"
        best: tuple[float, str] | None = None
        if query.pinyin and len(q) >= 2 and query.letters <= text.letters and (
                query.heads is None or any(h in text.heads for h in query.heads)):
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
        return best

    @staticmethod
    def _latin(query: _Query, text: _Text) -> tuple[float, str] | None:
        """The pinyin match of a Latin query."""
        if query.letters <= text.letters and (
                query.heads is None or any(h in text.heads for h in query.heads)):
            found = match_syllables(query.pinyin, text.toks, text.starts)
            if found is not None:
                coverage = min(1.0, found.count / text.core_toks)
                quality = (68.0 + 22.0 * coverage + (START_BONUS if found.start == 0 else 0.0)
                           + 5.0 * found.full / found.count)
                return min(quality, 100.0), "pinyin"
        return None

    @staticmethod
    def _fuzzy(query: _Query, text: _Text) -> tuple[float, str] | None:
        """Typos: rapidfuzz's partial ratio, on a text no other way matched."""
        if query.cjk:
            ratio = fuzz.partial_ratio(query.norm, text.norm, score_cutoff=75)
        else:
            ratio = fuzz.partial_ratio(query.pinyin, text.full, score_cutoff=80)
        return (0.6 * ratio, "fuzzy") if ratio else None

    def _prepare(self, norm: str) -> _Query | None:
        plan = self.postings.plan
        if not has_cjk(norm):
            return _Query(norm, False, norm, 0, frozenset(norm), frozenset(norm),
                          plan(norm).heads)
        qtoks = tokens(norm)
        if any(char.isascii() for char in norm):
            # mixed (低保sq): spell the Chinese part in pinyin and match as a Latin query
            spelled = full_pinyin(qtoks)
            if not spelled.isascii():
                return None
            return _Query(spelled, False, spelled, 0, frozenset(spelled), frozenset(spelled),
                          plan(spelled).heads)
        spelled = full_pinyin(qtoks)
        pinyin = spelled if spelled.isascii() else ""
        heads = plan(pinyin, whole_only=True, pieces=len(qtoks)).heads if pinyin else None
        return _Query(norm, True, pinyin, len(qtoks), frozenset(norm), frozenset(pinyin), heads)

    # -- candidates ----------------------------------------------------------------------------
    def _classes(self, query: _Query) -> list[tuple[frozenset[int], Bound]]:
        """The candidates (texts one of the non-fuzzy matches could accept, see
        :mod:`kiosk.catalogue.index`), split by the best quality they can reach:

        Chinese: texts that start with the query (exact, prefix), hold it (substring), hold
        its characters (subsequence, homophone) or only sound like it (homophone). Latin:
        texts a match could cover from the first token on (start bonus) or not.
        """
        postings = self.postings
        if query.cjk:
            size, syllables = len(query.norm), query.syllables
            containing = postings.containing(query.norm)
            sounding: frozenset[int] = frozenset()
            if query.pinyin and size >= 2:
                sounding = postings.plan(query.pinyin, whole_only=True,
                                         pieces=syllables).candidates
            holding = containing & postings.substring_candidates(query.norm)
            starting = holding & postings.starting_with(query.norm)

            def prefix(bucket: _Bucket) -> float:
                if bucket.length <= size:
                    return 100.0
                return 88.0 + 10.0 * min(1.0, size / bucket.length)

            def inside(bucket: _Bucket) -> float:
                return 80.0 + 10.0 * min(1.0, size / bucket.length)

            def homophone(bucket: _Bucket) -> float:
                return 60.0 + 15.0 * min(1.0, syllables / max(1, bucket.fewest_tokens))

            def in_order(bucket: _Bucket) -> float:  # subsequence or homophone
                return max(homophone(bucket), 55.0 + 25.0 * min(1.0, size / bucket.length))

            return [(starting, prefix), (holding - starting, inside),
                    (containing - holding, in_order), (sounding - containing, homophone)]
        plan = postings.plan(query.pinyin)
        candidates, at_start = plan.candidates, plan.at_start
        fullest: dict[int, int] = {}  # pieces -> most whole syllables among cuts of that many
        for full, count in plan.shapes:
            if count and full >= fullest.get(count, 0):
                fullest[count] = full
        shapes = [(full, count) for count, full in fullest.items()]

        def pinyin(start: float) -> Bound:
            def bound(bucket: _Bucket) -> float:
                return min(100.0, start + max(
                    (68.0 + 22.0 * min(1.0, count / bucket.length) + 5.0 * full / count
                     for full, count in shapes), default=0.0))
            return bound

        return [(at_start, pinyin(START_BONUS)), (candidates - at_start, pinyin(0.0))]

    def _fuzzy_candidates(self, query: _Query, matched: set[int]) -> list[Shared]:
        if query.cjk:
            if len(query.norm) < 3:
                return []
            return self.postings.chinese_fuzzy(query.norm, matched)
        if len(query.pinyin) < 5:
            return []
        return self.postings.latin_fuzzy(query.pinyin, matched)

    # -- the search ----------------------------------------------------------------------------
    def search(self, query: str, limit: int = 10, *, fuzzy: bool = True) -> list[Hit]:
        """Items for ``query``, best first (at most ``limit``; ``limit <= 0``: all)."""
        return self._search(query, limit, fuzzy, exhaustive=False)

    def scan(self, query: str, limit: int = 10, *, fuzzy: bool = True) -> list[Hit]:
        """The same search trying every text instead of the candidates: the reference the
        indexed search is compared with (tests) and timed against (benchmark)."""
        return self._search(query, limit, fuzzy, exhaustive=True)

    def _search(self, query: str, limit: int, fuzzy: bool, exhaustive: bool) -> list[Hit]:
        query = normalise(query)[:MAX_QUERY]
        if not query:
            return []
        prepared = self._prepare(query)
        if prepared is None:
            return []
        found = _Found(self, max(0, limit))
        found.set_boost(self._hot_term_boost(prepared.norm, prepared.cjk))  # before any score
        code_index = self._codes.get(query)
        if code_index is not None:
            found.set(code_index, 100.0, "code", self.items[code_index].code)
        elif len(query) >= 3 and not has_cjk(query):
            position = bisect_left(self._sorted_codes, query)
            for code in self._sorted_codes[position:]:
                if not code.startswith(query):
                    break
                index = self._codes[code]
                found.set(index, 85.0, "code", self.items[index].code)
        match_text = self._chinese if prepared.cjk else self._latin
        if exhaustive:
            everything = range(len(self._texts))
            found.run(everything, match_text, prepared)
            if fuzzy:
                found.run([i for i in everything if i not in found.matched], self._fuzzy,
                          prepared)
            return found.hits()
        classes = self._classes(prepared)
        if found.limit and sum(len(members) for members, _ in classes) >= RANKED_FROM:
            found.run_ranked(classes, match_text, prepared, by_tokens=not prepared.cjk)
        else:
            found.run(frozenset().union(*(members for members, _ in classes)), match_text,
                      prepared)
        if fuzzy and found.fuzzy_may_rank():
            found.run_fuzzy(self._fuzzy_candidates(prepared, found.matched), prepared)
        return found.hits()

    def _hot_term_boost(self, query: str, cjk: bool) -> list[Boost]:
        """The hot terms the query spells (or begins): each one's boost (0..1: its weight ×
        how much of it was typed) with the items holding it and their texts."""
        boosts = []
        for term, weight, holders, texts in self._terms:
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
            boosts.append((weight * strength, holders, texts))
        return boosts

    def next_letters(self, query: str) -> frozenset[str]:
        """Letters that, typed after ``query``, still find something (keyboard hints).

        Fuzzy matches are left out: a key is lit only if it leads to a real match.
        """
        query = normalise(query)[:MAX_QUERY - 1]
        if has_cjk(query):
            return frozenset(ALPHABET)
        if not query:  # any letter a token starts with
            return frozenset(ALPHABET).intersection(self.postings.heads)
        letters: set[str] = set()
        for letter in ALPHABET:
            if letter in letters:
                continue
            plan = self.postings.plan(query + letter)
            for text_id in plan.candidates:
                text = self._texts[text_id]
                if plan.heads is not None and not any(h in text.heads for h in plan.heads):
                    continue
                found = _extensions(query, text.toks, text.starts)
                letters |= found
                if letter in found:
                    break
        return frozenset(letters)

"""The search index: the indexed search finds what trying every text finds, at every scale.

:meth:`SearchIndex.scan` runs the same matchers on every text of the catalogue (what search
did before the index); :meth:`SearchIndex.search` runs them on the index's candidates, best
ceiling first, and stops when no text can reach the results. Without typos (``fuzzy=False``)
the two must agree exactly, hit for hit, score for score, on the sample catalogue and on a
generated catalogue of 1,000 items; with typos, the fuzzy candidates are an n-gram bound, so
the results agree on the queries of the search tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from scaled_catalogue import scaled_catalogue
from test_catalogue_search import QUERIES

from kiosk.catalogue.bundle import DEMO_PUBLIC_KEY, EMBEDDED_BUNDLE, trust, verify_bundle
from kiosk.catalogue.index import text_tokens
from kiosk.catalogue.model import Catalogue
from kiosk.catalogue.pinyin import match_syllables, normalise, tokens
from kiosk.catalogue.search import SearchIndex

#: queries beyond the search tests': one letter, prefixes the keyboard sends, common words,
#: codes, places of the generated catalogue, nonsense
MORE = ["y", "s", "z", "zh", "yl", "ylb", "dbs", "gaol", "shen", "xian", "bu", "jinan",
        "lihxia", "补贴", "证明", "申请", "医保", "居民", "残疾", "济南", "济南市历下区", "变更",
        "（参保职工）", "80", "80zhousui", "zj-01", "gen-0001", "qqqq", "量子计算机", "y1b",
        "城乡居民养老保险", "chengxiangjumin", "cxjmylbx", "低保审核变更"]


def load() -> Catalogue:
    return verify_bundle(EMBEDDED_BUNDLE.read_bytes(), trust([DEMO_PUBLIC_KEY])).catalogue


def index_of(catalogue: Catalogue) -> SearchIndex:
    return SearchIndex(catalogue.items, catalogue.synonyms, catalogue.hot_terms)


@pytest.fixture(scope="module")
def sample() -> SearchIndex:
    return index_of(load())


@pytest.fixture(scope="module")
def scaled() -> SearchIndex:
    return index_of(scaled_catalogue(load(), 1_000))


def shown(hits) -> list[tuple[str, float, str, str]]:  # type: ignore[no-untyped-def]
    return [(h.item.code, round(h.score, 9), h.match, h.text) for h in hits]


ALL_QUERIES = [query for query, _, _ in QUERIES] + MORE


@pytest.mark.parametrize("which", ["sample", "scaled"])
def test_indexed_search_equals_trying_every_text(which: str, request) -> None:
    index: SearchIndex = request.getfixturevalue(which)
    for query in ALL_QUERIES:
        for limit in (10, 3, 0):
            indexed = shown(index.search(query, limit, fuzzy=False))
            scanned = shown(index.scan(query, limit, fuzzy=False))
            assert indexed == scanned, f"{query!r}, limit {limit}"


@pytest.mark.parametrize("which", ["sample", "scaled"])
def test_with_typos_the_search_tests_queries_rank_alike(which: str, request) -> None:
    index: SearchIndex = request.getfixturevalue(which)
    for query, _, _ in QUERIES:
        indexed = shown(index.search(query, 5))
        scanned = shown(index.scan(query, 5))
        assert indexed[:1] == scanned[:1], query
        if which == "sample":  # every text is a candidate there: all five agree
            assert indexed == scanned, query


def test_the_search_tests_expectations_hold_at_1000_items(scaled: SearchIndex) -> None:
    """Among 907 generated look-alikes, the first result of every query is the item a
    resident means or one derived from it (the same service in a city, a sub-case of it)."""
    for query, expected, why in QUERIES:
        codes = {expected} if isinstance(expected, str) else expected
        top = scaled.search(query, 1)[0].item
        derived = {f"generated from {code}" for code in codes}
        assert top.code in codes or top.source in derived, (query, why, top.name, top.source)


def test_text_tokens_are_pypinyins_tokens(scaled: SearchIndex) -> None:
    texts = {normalise(t) for item in scaled.items for t in (item.name, *item.keywords)}
    assert len(texts) > 1_000
    for text in texts:
        assert text_tokens(text) == tokens.__wrapped__(text), text


def test_candidates_are_few(scaled: SearchIndex) -> None:
    """The point of the index: a selective query touches a small part of the catalogue."""
    plan = scaled.postings.plan("gljt")
    assert plan.candidates, "高龄津贴 texts are candidates for gljt"
    assert len(plan.candidates) < scaled.text_count / 10
    assert scaled.postings.plan("vvvv").candidates == frozenset()  # no syllable starts with v
    assert scaled.postings.containing("量子计算机") == frozenset()


def brute_next_letters(index: SearchIndex, query: str) -> frozenset[str]:
    letters = set()
    for letter in "abcdefghijklmnopqrstuvwxyz":
        if any(match_syllables(query + letter, text.toks, text.starts) is not None
               for text in index.texts):
            letters.add(letter)
    return frozenset(letters)


def test_next_letters_equal_trying_every_text(scaled: SearchIndex) -> None:
    for query in ("", "y", "yl", "ylb", "dbs", "gaol", "sh", "zhongd", "qq", "80z"):
        assert scaled.next_letters(query) == brute_next_letters(scaled, query), query


def test_build_time_is_recorded(sample: SearchIndex) -> None:
    assert sample.build_ms > 0
    assert sample.text_count <= sum(1 + len(item.keywords) for item in sample.items) * 2

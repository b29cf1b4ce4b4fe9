"""Catalogue benchmarks: search time over the full catalogue, index build, bundle verify.

Search time is measured per query over every item of the embedded sample catalogue (93 items,
no offer filter), for the real queries of tests/unit/test_catalogue_search.py (initials, full
pinyin, Chinese, synonyms, typos, codes), each run 50 times; the figure is the median of all
those runs, with the p95 and the slowest query's median. Target: median < 5 ms. A second run
over a catalogue ten times as large (930 items: each item repeated with a new code) shows how
search scales for a district catalogue.

Run: ``KIOSK_BENCH=1 .venv/bin/python -m pytest -q -s tests/bench/bench_catalogue.py
-o python_files='bench_*.py'`` or ``.venv/bin/python tests/bench/bench_catalogue.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from test_catalogue_search import QUERIES  # the real queries of the search tests

from kiosk.catalogue.bundle import DEMO_PUBLIC_KEY, EMBEDDED_BUNDLE, trust, verify_bundle
from kiosk.catalogue.model import Catalogue
from kiosk.catalogue.search import SearchIndex
from kiosk.catalogue.view import CatalogueView

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(not os.environ.get("KIOSK_BENCH"), reason="set KIOSK_BENCH=1 to run"),
]

RUNS = 50
TARGET_MS = 5.0


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def load() -> Catalogue:
    return verify_bundle(EMBEDDED_BUNDLE.read_bytes(), trust([DEMO_PUBLIC_KEY])).catalogue


def measure_search(index: SearchIndex, runs: int = RUNS) -> dict[str, float | str]:
    samples: list[float] = []
    per_query: dict[str, float] = {}
    queries = [query for query, _, _ in QUERIES]
    for query in queries:
        index.search(query)  # warm the pinyin cache for the query itself
    for query in queries:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            index.search(query)
            times.append((time.perf_counter() - started) * 1000)
        per_query[query] = statistics.median(times)
        samples.extend(times)
    slowest = max(per_query, key=per_query.__getitem__)
    return {"median_ms": statistics.median(samples), "p95_ms": percentile(samples, 95),
            "slowest": slowest, "slowest_ms": per_query[slowest], "queries": len(queries)}


def larger(catalogue: Catalogue, factor: int) -> Catalogue:
    items = [item.model_copy(update={"code": f"{item.code}-{n}"})
             for n in range(factor) for item in catalogue.items]
    return catalogue.model_copy(update={"items": tuple(items)})


def timed_ms(function, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def report() -> tuple[str, float]:
    catalogue = load()
    view = CatalogueView.build(catalogue)
    assert view.index is not None
    search = measure_search(view.index)
    big = larger(catalogue, 10)
    big_index = SearchIndex(big.items, big.synonyms, big.hot_terms)
    big_search = measure_search(big_index, runs=10)
    raw = EMBEDDED_BUNDLE.read_bytes()
    keys = trust([DEMO_PUBLIC_KEY])
    verify_ms = timed_ms(lambda: verify_bundle(raw, keys))
    build_ms = timed_ms(lambda: CatalogueView.build(catalogue))
    letters = [timed_ms(lambda q=q: view.next_letters(q))
               for q in ("", "y", "s", "yl", "sh", "dbs", "gaol", "ylbx")]
    lines = [
        f"catalogue search, {len(catalogue.items)} items, {search['queries']} queries x {RUNS}: "
        f"median {search['median_ms']:.2f} ms, p95 {search['p95_ms']:.2f} ms, slowest query "
        f"{search['slowest']!r} {search['slowest_ms']:.2f} ms (target median < {TARGET_MS} ms)",
        f"catalogue search, {len(big.items)} items: median {big_search['median_ms']:.2f} ms, "
        f"p95 {big_search['p95_ms']:.2f} ms",
        f"keyboard hints (next letters) per key press: median {statistics.median(letters):.1f} "
        f"ms, slowest {max(letters):.1f} ms",
        f"bundle verify (signature + schema, {len(raw)} B): {verify_ms:.1f} ms; view build "
        f"(filter + index): {build_ms:.1f} ms",
    ]
    return "\n".join(lines), float(search["median_ms"])


def test_bench_catalogue_search() -> None:
    text, median = report()
    print("\n" + text)
    assert median < TARGET_MS, text


if __name__ == "__main__":
    print(report()[0])

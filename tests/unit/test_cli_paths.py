"""The ``kiosk`` command finds what it needs in the source checkout after the regroup into
``kiosk/cli/`` (``kiosk bench`` looked for ``kiosk/tests/bench``)."""

from __future__ import annotations

from pathlib import Path

from kiosk.cli.main import bench_folder

ROOT = Path(__file__).resolve().parents[2]


def test_kiosk_bench_finds_the_benchmarks() -> None:
    folder = bench_folder()
    assert folder == ROOT / "tests" / "bench"
    assert (folder / "bench_ui.py").exists() and (folder / "bench_queue.py").exists()

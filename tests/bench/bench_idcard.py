"""Benchmark: last byte of a read reply → IdCardRead event (target: median < 5 ms).

1,000 card presentations per configuration, through the emulator over a real pty at 115200 and
over TCP. The emulator stamps ``time.perf_counter()`` just before it writes the last byte of each
``30 01`` reply; the subscriber stamps the IdCardRead it receives. With ``address`` on (the
default), the figure includes the ``30 03`` appended-address round trip that follows the read.

Run: ``.venv/bin/python -m pytest -q -s tests/bench/bench_idcard.py --benchmark-enable``
(or ``BENCH=1``)
or ``.venv/bin/python tests/bench/bench_idcard.py``.
"""

from __future__ import annotations

import os
import statistics
import threading
import time

import pytest

from drivers.base import DeviceState, DeviceStateChanged
from drivers.idcard import IdCardRead, IdCardRemoved, samples
from drivers.idcard.emulator import PtyEmulator, SamEmulator, TcpEmulator
from drivers.idcard.frames import Command
from drivers.idcard.sam_driver import SamIdCardReader

READS = 1000

pytestmark = pytest.mark.bench  # registered by the lead in pyproject; skipped unless enabled


def measure(transport: str, reads: int = READS, address: bool = True) -> list[float]:
    """Latencies in milliseconds, one per read."""
    emulator = SamEmulator()
    server = PtyEmulator(emulator) if transport == "pty" else TcpEmulator(emulator)
    last_byte = [0.0]
    latencies: list[float] = []
    ready, read, removed = threading.Event(), threading.Event(), threading.Event()

    def on_reply(command: Command | None, at: float) -> None:
        if command is Command.READ_TEXT_PHOTO:
            last_byte[0] = at

    def on_event(event: object) -> None:
        if isinstance(event, IdCardRead):
            latencies.append((time.perf_counter() - last_byte[0]) * 1000)
            read.set()
        elif isinstance(event, IdCardRemoved):
            removed.set()
        elif isinstance(event, DeviceStateChanged) and event.state is DeviceState.READY:
            ready.set()

    emulator.on_reply_sent = on_reply
    server.start()
    reader = SamIdCardReader(server.url, {"poll_hz": 1000, "address": address})
    reader.subscribe(on_event)
    reader.start()
    try:
        assert ready.wait(5), "reader did not become ready"
        for _ in range(reads):
            read.clear()
            removed.clear()
            emulator.put_card(samples.RESIDENT)
            assert read.wait(5), "no IdCardRead"
            assert removed.wait(5), "no IdCardRemoved"
    finally:
        reader.stop()
        server.stop()
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "n": len(ordered),
        "median_ms": statistics.median(ordered),
        "p95_ms": ordered[max(0, int(len(ordered) * 0.95) - 1)],
        "max_ms": ordered[-1],
    }


def _print(name: str, stats: dict[str, float]) -> None:
    print(f"{name:<32} n={stats['n']:.0f}  median={stats['median_ms']:.2f} ms  "
          f"p95={stats['p95_ms']:.2f} ms  max={stats['max_ms']:.2f} ms", flush=True)


def _enabled(config: pytest.Config) -> bool:
    try:
        flag = bool(config.getoption("--benchmark-enable"))
    except ValueError:
        flag = False
    # tests/conftest.py deletes KIOSK_* variables, so BENCH=1 is the one that reaches here
    return flag or "1" in (os.environ.get("KIOSK_BENCH"), os.environ.get("BENCH"))


@pytest.mark.timeout(300)
@pytest.mark.parametrize("transport", ["pty", "tcp"])
@pytest.mark.parametrize("address", [True, False], ids=["with-address", "text-photo-only"])
def test_bench_read_reply_to_event(request, transport: str, address: bool) -> None:
    if not _enabled(request.config):
        pytest.skip("benchmark: pass --benchmark-enable or set BENCH=1")
    stats = summary(measure(transport, address=address))
    _print(f"idcard {transport} {'with' if address else 'without'} address", stats)
    assert stats["n"] == READS


if __name__ == "__main__":
    for transport in ("pty", "tcp"):
        for address in (True, False):
            name = f"idcard {transport} {'with' if address else 'without'} address"
            _print(name, summary(measure(transport, address=address)))

"""Printer benchmarks: ticket latency over TCP and job sizes (native vs raster QR).

Latency is measured from "print this ticket" (building the layout, encoding, the status check
before the job, sending) to the moment the emulator received the job's last byte (the cut), over
200 tickets on 127.0.0.1. Targets: median < 50 ms, job < 2 KB with native QR.

Run: ``KIOSK_BENCH=1 .venv/bin/python -m pytest -q -s tests/bench/bench_printer.py
-o python_files='bench_*.py'`` or ``.venv/bin/python tests/bench/bench_printer.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from drivers.printer.emulator import PrinterEmulator
from drivers.printer.encoder import EncoderOptions, EscposEncoder
from drivers.printer.escpos_driver import EscposPrinter
from kiosk.printing.samples import TICKET
from kiosk.printing.slips import QueueTicket, queue_ticket

pytestmark = [
    pytest.mark.bench,
    pytest.mark.skipif(not os.environ.get("KIOSK_BENCH"), reason="set KIOSK_BENCH=1 to run"),
]

TICKETS = 200


def _ticket(n: int) -> QueueTicket:
    return QueueTicket(hall_name=TICKET.hall_name, number=f"A{n:03d}", service=TICKET.service,
                       people_ahead=n % 17, estimated_wait_min=(n % 17) * 5,
                       issued_at=datetime.now(),
                       follow_url=f"https://queue.example.invalid/t/370102-A{n:03d}")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure_latency(tickets: int = TICKETS, qr: str = "native") -> dict[str, float]:
    """Milliseconds from print to last byte at the emulator, per ticket."""
    with PrinterEmulator() as emu:
        emu.start_tcp()
        printer = EscposPrinter(emu.tcp_url, {"qr": qr})
        printer.start()
        try:
            assert printer.wait_until(lambda p: p.status().can_print, 5)
            printer.print_document(queue_ticket(_ticket(0)))  # warm-up: fonts, caches
            emu.wait_for_jobs(1, 5)
            samples: list[float] = []
            sizes: list[int] = []
            for n in range(1, tickets + 1):
                started = time.perf_counter()
                printer.print_document(queue_ticket(_ticket(n)))
                job = emu.wait_for_jobs(n + 1, 5)[n]
                samples.append((job.finished - started) * 1000)
                sizes.append(len(job.data))
        finally:
            printer.stop()
    return {"median_ms": statistics.median(samples), "p95_ms": percentile(samples, 95),
            "max_ms": max(samples), "mean_bytes": statistics.mean(sizes)}


def job_sizes() -> dict[str, int]:
    doc = queue_ticket(_ticket(5))
    return {qr: len(EscposEncoder(EncoderOptions(qr=qr)).encode(doc))
            for qr in ("native", "raster")}


def report() -> str:
    native = measure_latency()
    raster = measure_latency(50, "raster")
    sizes = job_sizes()
    return "\n".join([
        f"queue ticket over TCP, {TICKETS} tickets, native QR: median "
        f"{native['median_ms']:.1f} ms, p95 {native['p95_ms']:.1f} ms, max "
        f"{native['max_ms']:.1f} ms (target median < 50 ms)",
        f"queue ticket over TCP, 50 tickets, raster QR: median {raster['median_ms']:.1f} ms, "
        f"p95 {raster['p95_ms']:.1f} ms",
        f"job size: native QR {sizes['native']} B (target < 2048 B), raster QR "
        f"{sizes['raster']} B ({sizes['raster'] / sizes['native']:.1f}×)",
    ])


def test_bench_printer_ticket() -> None:
    text = report()
    print("\n" + text)
    assert "median" in text


if __name__ == "__main__":
    print(report())

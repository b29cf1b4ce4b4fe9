"""A kiosk-like load on a hall server: threads taking numbers, every answer recorded.

Used by the hall tests and the benchmark (a separate process per simulated kiosk), and by a
technician to check a hall server before opening::

    python -m kiosk.queue.loadgen --url http://127.0.0.1:8480 --count 500 --threads 4 \\
        --categories A,B --out result.json

The output is JSON: ``{"tickets": [{id, number, category, request_id, ms}], "errors": [...],
"seconds": ...}``. Requests are retried with the same request id, so a server that restarts in
the middle does not make anyone get two numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from kiosk.queue.client import HttpQueueService
from kiosk.queue.errors import QueueError


def run(url: str, count: int, threads: int, categories: list[str], *, retries: int = 40,
        timeout_s: float = 5.0, terminal: str = "loadgen", api_key: str = ""
        ) -> dict[str, Any]:
    """Issue ``count`` tickets over ``threads`` threads, categories in turn."""
    client = HttpQueueService(url, timeout_s=timeout_s, retries=retries, backoff_s=0.05,
                              max_backoff_s=0.5, terminal=terminal, api_key=api_key)
    tickets: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    lock = threading.Lock()
    counter = iter(range(count))

    def worker() -> None:
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            request_id = uuid.uuid4().hex
            category = categories[index % len(categories)]
            started = time.perf_counter()
            try:
                ticket = client.issue_ticket(category, request_id=request_id)
            except QueueError as exc:
                with lock:
                    errors.append({"category": category, "request_id": request_id,
                                   "code": exc.code, "message": exc.message})
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                tickets.append({"id": ticket.id, "number": ticket.number,
                                "category": ticket.category, "request_id": request_id,
                                "ms": round(elapsed, 3)})

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, name=f"loadgen-{i}") for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    seconds = time.perf_counter() - started
    client.close()
    return {"tickets": tickets, "errors": errors, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.queue.loadgen")
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--categories", default="A")
    parser.add_argument("--retries", type=int, default=40)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--terminal", default=f"loadgen-{os.getpid()}")
    parser.add_argument("--out", type=Path, help="write the JSON here (default: stdout)")
    parser.add_argument("--api-key-env", default="KIOSK_QUEUE_API_KEY",
                        help="environment variable holding the kiosk key (not on the command "
                             "line, where other users could read it)")
    args = parser.parse_args(argv)
    categories = [c.strip().upper() for c in args.categories.split(",") if c.strip()]
    result = run(args.url, args.count, args.threads, categories, retries=args.retries,
                 timeout_s=args.timeout, terminal=args.terminal,
                 api_key=os.environ.get(args.api_key_env, ""))
    text = json.dumps(result, ensure_ascii=False)
    if args.out:
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(args.out)
    else:
        print(text)
    print(f"{len(result['tickets'])} tickets, {len(result['errors'])} errors in "
          f"{result['seconds']:.2f} s", file=sys.stderr)
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

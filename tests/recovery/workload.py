"""The terminal's core doing one durable thing over and over, until the test kills it.

Run as ``python tests/recovery/workload.py OP DATA_DIR CONFIG_TOML [ARG]``; prints ``BEGIN n``
before and ``DONE n <what>`` after each operation (flushed), so that the test knows which
operations the terminal had confirmed when the SIGKILL came. Operations:

* ``rating``: a resident's rating through ``RatingService.record`` (into the outbox);
* ``queue``: ``issue_ticket`` on the embedded queue, with request id ``req-n``;
* ``catalogue``: a new signed catalogue bundle installed and swapped in (ARG: the private
  key, hex);
* ``print``: a 参保缴费证明 printed on the ESC/POS printer the config names;
* ``drain``: ratings written while the broker is away, then the outbox drained to it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def build(data_dir: Path, config_file: Path):  # type: ignore[no-untyped-def]
    from config.loader import load_config
    from kiosk.core import build_kiosk

    config = load_config("demo", config_file, env={})
    config = config.model_copy(update={
        "storage": config.storage.model_copy(update={"data_dir": data_dir}),
        "ui": config.ui.model_copy(update={"simulator": False})})
    kiosk = build_kiosk(config)
    kiosk.start()
    return kiosk


def main(op: str, data_dir: Path, config_file: Path, arg: str = "") -> None:
    kiosk = build(data_dir, config_file)
    say("READY")
    n = 0
    while True:
        n += 1
        say(f"BEGIN {n}")
        what = OPERATIONS[op](kiosk, n, arg)
        kiosk.handoff.drain()
        say(f"DONE {n} {what}")


def rating(kiosk, n: int, _arg: str) -> str:  # type: ignore[no-untyped-def]
    from kiosk.ratings.levels import Level, RatingRecord

    kiosk.ratings.record(RatingRecord(item="proof", level=Level.SATISFIED))
    return "rated"


def queue(kiosk, n: int, _arg: str) -> str:  # type: ignore[no-untyped-def]
    ticket = kiosk.queue.issue_ticket("A", request_id=f"req-{n}")
    return f"{ticket.id} {ticket.number}"


def catalogue(kiosk, n: int, key_hex: str) -> str:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.catalogue.samples import numbered_bundle, sample_catalogue

    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key_hex))
    raw = numbered_bundle(sample_catalogue(), n + 1, key, drop=n % 3)
    result = kiosk.catalogue.service.install(raw)
    if result.outcome not in ("updated", "unchanged"):
        raise SystemExit(f"install refused: {result}")
    kiosk.catalogue.between_sessions()
    return str(kiosk.catalogue.service.view.serial)


def print_proof(kiosk, n: int, _arg: str) -> str:  # type: ignore[no-untyped-def]
    from drivers.idcard.samples import RESIDENT
    from kiosk.identity.person import Identity
    from kiosk.printing.slips import proof

    person = Identity(source="idcard", name=RESIDENT.name, id_number=RESIDENT.id_number)
    first = kiosk.proofs.available(person)[0]
    outcome = kiosk.printing.print_now(proof(kiosk.proofs.document(first.id, person)))
    if not outcome.ok:
        raise SystemExit(f"print failed: {outcome.reason}")
    return outcome.job_id


def drain(kiosk, n: int, arg: str) -> str:  # type: ignore[no-untyped-def]
    """Ratings first (the broker is away, they wait), then wait for the outbox to drain;
    ``drain-only``: just drain (the life after the crash)."""
    if n <= RATINGS and arg != "drain-only":
        return rating(kiosk, n, "")
    deadline = time.monotonic() + 120
    while kiosk.reporter.outbox.depth and time.monotonic() < deadline:
        time.sleep(0.05)
    return f"drained {kiosk.reporter.outbox.depth}"


RATINGS = 300  # as tests/recovery/test_recovery_kill.py expects

OPERATIONS = {"rating": rating, "queue": queue, "catalogue": catalogue, "print": print_proof,
              "drain": drain}

if __name__ == "__main__":
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), *sys.argv[4:5])

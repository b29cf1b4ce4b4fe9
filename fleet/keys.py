"""The evaluation system's X25519 key pair that seals the real-name part of ratings.

    python -m fleet.keys new-evaluation-key --out eval      # eval.x25519 (secret)
                                                            # prints ratings.evaluation_public_key

The private key stays with the evaluation system (follow-up of real-name bad reviews); the
terminal gets only the public key, so it can seal but never open.
"""

from __future__ import annotations

import argparse
import base64
import os
from pathlib import Path

from nacl.public import PrivateKey


def new_evaluation_key() -> PrivateKey:
    return PrivateKey.generate()


def public_b64(key: PrivateKey) -> str:
    return base64.b64encode(bytes(key.public_key)).decode("ascii")


def save(key: PrivateKey, path: Path) -> None:
    path.write_text(base64.b64encode(bytes(key)).decode("ascii") + "\n")
    os.chmod(path, 0o600)


def load(path: Path) -> PrivateKey:
    return PrivateKey(base64.b64decode(path.read_text().strip()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fleet.keys", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    new = sub.add_parser("new-evaluation-key")
    new.add_argument("--out", type=Path, required=True, help="file stem; writes STEM.x25519")
    args = parser.parse_args(argv)
    key = new_evaluation_key()
    path = args.out.with_suffix(".x25519")
    save(key, path)
    print(f"private key: {path}\nratings.evaluation_public_key = \"{public_b64(key)}\"")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

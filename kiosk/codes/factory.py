"""The code platform adapter and the scan gate, built from the ``[codes]`` section
(``config/codes.py``) and ``[backends.platform]``."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import Any

from config.codes import CodesConfig
from kiosk.codes.classify import Classifier
from kiosk.codes.gate import ScanGate
from kiosk.codes.platform import CodePlatform
from kiosk.codes.tokens import load_private_key

log = logging.getLogger(__name__)


def classifier(codes: CodesConfig) -> Classifier:
    return Classifier(codes.resident_patterns, codes.enterprise_patterns, codes.ticket_patterns,
                      codes.licence_hosts)


def scan_gate(codes: CodesConfig) -> ScanGate:
    return ScanGate(max_length=codes.max_length, window_s=codes.duplicate_window_s,
                    classifier=classifier(codes))


def build_code_platform(codes: CodesConfig, backend: Any, terminal_id: str, *,
                        environ: dict[str, str] | None = None,
                        clock: Callable[[], float] | None = None,
                        data_dir: Any = None) -> CodePlatform:
    """The platform adapter for ``backend`` (``config.backends.platform``: ``type``, ``url``,
    ``timeout_s``). Raises ``ValueError`` with a plain explanation when a file is unusable.

    The embedded platform signs proofs with a key kept in ``<data_dir>/platform/`` (made on
    first start), so printed proofs still verify after a restart."""
    import time

    clock = clock or time.time
    if backend.type == "http":
        from kiosk.codes.http_adapter import HttpCodePlatform

        env = os.environ if environ is None else environ
        api_key = env.get(codes.api_key_env, "") if codes.api_key_env else ""
        return HttpCodePlatform(backend.url, timeout_s=float(backend.timeout_s),
                                api_key=api_key, terminal_id=terminal_id, clock=clock)
    from kiosk.codes.embedded import EmbeddedCodePlatform

    key = None
    if codes.issuer_key_file:
        try:
            key = load_private_key(codes.issuer_key_file)
        except OSError as exc:
            raise ValueError(f"codes.issuer_key_file: cannot read {codes.issuer_key_file}: "
                             f"{exc.strerror}") from exc
        except ValueError as exc:
            raise ValueError(f"codes.issuer_key_file: {exc}") from exc
    else:
        log.warning("codes.issuer_key_file is empty: codes are signed with a key made for this "
                    "run only")
    proof_key = None
    if data_dir is not None:
        from kiosk.codes.proofdocs import load_or_create_key, proof_key_path

        try:
            proof_key = load_or_create_key(proof_key_path(data_dir))
        except (OSError, ValueError) as exc:
            raise ValueError(f"storage.data_dir: the platform key in "
                             f"{proof_key_path(data_dir)} is unusable ({exc}); delete it to "
                             "make a new one (proofs printed before will no longer verify)"
                             ) from exc
    verify_url = backend.url or "https://platform.example.invalid"
    return EmbeddedCodePlatform(key, terminal_id=_code_terminal_id(terminal_id),
                                lifetime_s=codes.lifetime_s, trusted_keys=codes.trusted_keys,
                                skew_s=float(codes.clock_skew_s), clock=clock,
                                proof_key=proof_key, verify_base_url=verify_url)


def _code_terminal_id(terminal_id: str) -> str:
    """A terminal id as a code may carry it (1-40 of A-Z a-z 0-9 . _ -); config ids already are."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", terminal_id).strip("-")[:40]
    return cleaned or "TERMINAL"

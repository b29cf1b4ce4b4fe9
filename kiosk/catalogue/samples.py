"""Sample catalogues and bundles for demos, a technician's sync check, and tests.

:func:`numbered_version` derives version *n* of the sample catalogue: every item carries the
version in its ``source`` field, so a view that mixed two versions would show it at once
(``tests/integration/test_catalogue_sync.py`` checks exactly that while bundles change).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.catalogue.bundle import sign_bundle
from kiosk.catalogue.model import Catalogue, Item
from kiosk.catalogue.source import load_source

BASE_SERIAL = 2025031801


def sample_catalogue() -> Catalogue:
    return load_source()


def version_name(n: int) -> str:
    return f"2025.03.18-{n}"


def numbered_version(base: Catalogue, n: int, *, drop: int = 0) -> Catalogue:
    """Version ``n`` of ``base``: serial ``BASE_SERIAL + n - 1``, every item's ``source`` says
    ``version <name>``; ``drop`` leaves out that many items at the end (a withdrawn item)."""
    name = version_name(n)
    items = [item.model_copy(update={"source": f"version {name}"}) for item in base.items]
    if drop:
        items = items[:-drop]
    return base.model_copy(update={
        "version": name, "serial": BASE_SERIAL + n - 1,
        "published_at": base.published_at + timedelta(days=n - 1),
        "notice": f"{base.notice} (version {name})"[:300],
        "items": tuple(items)})


def numbered_bundle(base: Catalogue, n: int, key: Ed25519PrivateKey, *, drop: int = 0) -> bytes:
    return sign_bundle(numbered_version(base, n, drop=drop), key)


def is_consistent(items: Iterable[Item], version: str) -> bool:
    """Every item of a view belongs to ``version`` (see :func:`numbered_version`)."""
    return all(item.source == f"version {version}" for item in items)

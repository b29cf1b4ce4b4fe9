"""The service catalogue: items and guides (事项要素), signed bundles, sync, search.

No Kivy here. Modules, bottom up:

* ``model``: the pydantic models of a catalogue (:class:`Item`, :class:`Guide`, ...).
* ``bundle``: the signed bundle format, Ed25519 keys, :func:`verify_bundle`.
* ``source``: the editable TOML sources of a bundle (the sample lives in ``data/source``).
* ``pinyin`` / ``search``: the search index (pinyin, initials, synonyms, typos).
* ``view``: what this terminal offers (:class:`OfferFilter`), browse and search.
* ``store`` / ``service`` / ``sync``: bundles on disk, the swap between sessions, HTTP sync.
* ``runtime``: :func:`build_catalogue`, the one object the composition root holds.
* :class:`CatalogueSettings`: the ``[catalogue]`` config section (``config/catalogue.py``).
* ``printing``: an item's guide as a printable checklist; ``keyboard``: the search keyboard.
* ``server``: the reference publishing server; ``cli``: ``kiosk catalogue …``.
"""

from config.catalogue import CatalogueSettings
from kiosk.catalogue.bundle import BundleError, VerifiedBundle, verify_bundle
from kiosk.catalogue.model import Catalogue, Guide, Item, LifeEvent, Material
from kiosk.catalogue.runtime import CatalogueRuntime, build_catalogue
from kiosk.catalogue.search import Hit, SearchIndex
from kiosk.catalogue.service import CatalogueEvent, CatalogueService, SyncResult
from kiosk.catalogue.view import CatalogueView, Group, OfferFilter

__all__ = ["BundleError", "Catalogue", "CatalogueEvent", "CatalogueRuntime", "CatalogueService",
           "CatalogueSettings", "CatalogueView", "Group", "Guide", "Hit", "Item", "LifeEvent",
           "Material", "OfferFilter", "SearchIndex", "SyncResult", "VerifiedBundle",
           "build_catalogue", "verify_bundle"]

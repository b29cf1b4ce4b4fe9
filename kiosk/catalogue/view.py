"""What one terminal offers: the catalogue filtered by its site profile, with search and browse.

A :class:`CatalogueView` is immutable and complete: it is built (filter + search index) off
the UI thread and handed over whole, so a screen holding one never sees a catalogue half
replaced. Screens ask it for items, search results and the browse lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from config.catalogue import LEVELS, CatalogueSettings
from kiosk.catalogue.model import Catalogue, Item, LifeEvent
from kiosk.catalogue.search import Hit, SearchIndex


@dataclass(frozen=True)
class OfferFilter:
    """Which items this terminal offers (from :class:`config.catalogue.CatalogueSettings`).

    An item is offered when its level is in ``levels``, it has one of ``categories`` (empty =
    any) and its code is not in ``exclude_codes``; codes in ``include_codes`` are offered
    whatever their level or category.
    """

    levels: frozenset[str] = frozenset(LEVELS)
    categories: frozenset[str] = frozenset()
    include_codes: frozenset[str] = frozenset()
    exclude_codes: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: CatalogueSettings) -> OfferFilter:
        return cls(levels=frozenset(settings.levels), categories=frozenset(settings.categories),
                   include_codes=frozenset(settings.include_codes),
                   exclude_codes=frozenset(settings.exclude_codes))

    def offers(self, item: Item) -> bool:
        if item.code in self.include_codes:
            return True
        if item.code in self.exclude_codes or item.level not in self.levels:
            return False
        return not self.categories or bool(self.categories.intersection(item.categories))

    def apply(self, items: Iterable[Item]) -> tuple[Item, ...]:
        return tuple(item for item in items if self.offers(item))


@dataclass(frozen=True)
class Group:
    """A browse entry: a life event, department or category and its offered items."""

    key: str
    name: str
    items: tuple[Item, ...]
    description: str = ""


@dataclass(frozen=True, eq=False)
class CatalogueView:
    catalogue: Catalogue
    offer: OfferFilter = field(default_factory=OfferFilter)
    items: tuple[Item, ...] = ()
    index: SearchIndex | None = None
    hot: tuple[str, ...] = ()  # hot terms that find something here, in catalogue order

    @classmethod
    def build(cls, catalogue: Catalogue, offer: OfferFilter | None = None) -> CatalogueView:
        """Filter and index ``catalogue``: the whole view is ready before anyone sees it."""
        offer = offer or OfferFilter()
        items = offer.apply(catalogue.items)
        index = SearchIndex(items, catalogue.synonyms, catalogue.hot_terms)
        hot = tuple(t.term for t in catalogue.hot_terms
                    if index.search(t.term, 1, fuzzy=False))
        return cls(catalogue=catalogue, offer=offer, items=items, index=index, hot=hot)

    # -- identity ------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        return self.catalogue.version

    @property
    def serial(self) -> int:
        return self.catalogue.serial

    @property
    def sample_data(self) -> bool:
        return self.catalogue.sample_data

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return (f"CatalogueView(version={self.version!r}, offered={len(self.items)}/"
                f"{len(self.catalogue.items)})")

    # -- lookup and search ---------------------------------------------------------------------
    def get(self, code: str) -> Item | None:
        """An offered item by code (None if absent or not offered here)."""
        for item in self.items:
            if item.code == code:
                return item
        return None

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        assert self.index is not None
        return self.index.search(query, limit)

    def next_letters(self, query: str) -> frozenset[str]:
        assert self.index is not None
        return self.index.next_letters(query)

    def hot_terms(self, limit: int = 8) -> list[str]:
        """Frequent search words that find something here, for one-tap chips."""
        return list(self.hot[:limit])

    def popular(self, limit: int = 8) -> list[Item]:
        """The most requested offered items (the guide screen's first page)."""
        return sorted(self.items, key=lambda item: (-item.popularity, item.code))[:limit]

    # -- browse --------------------------------------------------------------------------------
    @staticmethod
    def _ranked(items: Iterable[Item]) -> tuple[Item, ...]:
        return tuple(sorted(items, key=lambda item: (-item.popularity, item.code)))

    def life_events(self) -> list[Group]:
        """Life-event topics (一件事) in the catalogue's order, those with offered items."""
        groups = []
        for event in self.catalogue.life_events:
            items = self._ranked(item for item in self.items if event.id in item.life_events)
            if items:
                groups.append(Group(event.id, event.name, items, event.description))
        return groups

    def life_event(self, event_id: str) -> LifeEvent | None:
        return next((e for e in self.catalogue.life_events if e.id == event_id), None)

    def departments(self) -> list[Group]:
        """Departments with offered items, most items first."""
        names: dict[str, list[Item]] = {}
        for item in self.items:
            names.setdefault(item.department, []).append(item)
        ordered = sorted(names.items(), key=lambda pair: (-len(pair[1]), pair[0]))
        return [Group(name, name, self._ranked(items)) for name, items in ordered]

    def categories(self) -> list[Group]:
        names: dict[str, list[Item]] = {}
        for item in self.items:
            for category in item.categories:
                names.setdefault(category, []).append(item)
        ordered = sorted(names.items(), key=lambda pair: (-len(pair[1]), pair[0]))
        return [Group(name, name, self._ranked(items)) for name, items in ordered]

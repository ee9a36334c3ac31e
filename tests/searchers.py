"""Searchers for executor tests: the ``Searcher`` protocol over a fixed list of products, so a
test decides what retrieval returns and sees what it was asked."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from catalog.models import Filters, ProductHit
from service.answering.catalog_view import ProductEntry
from service.answering.record import meets


class Listing:
    """Returns ``found`` (in that order, within ``among``) and products by id; filters are
    ignored, as if retrieval had applied them. Records every query."""

    capped = True  # at most ``k`` results

    def __init__(self, found: Sequence[str] = ()) -> None:
        self.found = list(found)
        self.queries: list[str] = []

    def _found(self, filters: Filters | None) -> list[str]:
        return self.found

    def search(
        self,
        query: str,
        k: int,
        filters: Filters | None = None,
        *,
        among: Collection[str] | None = None,
    ) -> list[ProductHit]:
        self.queries.append(query)
        found = [pid for pid in self._found(filters) if among is None or pid in among]
        return self.products(found[:k] if self.capped else found)

    def products(self, product_ids: Sequence[str]) -> list[ProductHit]:
        return [
            ProductHit(product_id=pid, title=pid, score=1.0, metadata={}, chunks=[])
            for pid in product_ids
        ]


class Priced(Listing):
    """Over ``entries``, most expensive first (the worst order for a price bound), applying
    the filters and returning every entry that meets them, however small ``k``."""

    capped = False

    def __init__(self, entries: list[ProductEntry]) -> None:
        self.entries = sorted(entries, key=lambda e: -(e.price or 0.0))
        super().__init__([e.product_id for e in self.entries])

    def _found(self, filters: Filters | None) -> list[str]:
        return [e.product_id for e in self.entries if filters is None or meets(e, filters)]

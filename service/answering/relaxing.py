"""Retrieval that drops the least important constraint until something matches, and what it
retrieves with."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from typing import Protocol

from catalog.models import Filters, ProductHit
from catalog.text import blank, content_words
from service.answering.catalog_view import CatalogView
from service.answering.plan import RequestPlan

# Dropped one after another until something matches, least important first.
RELAX_ORDER: tuple[tuple[str, ...], ...] = (
    ("min_rating",),
    ("in_stock",),
    ("min_price", "max_price"),
    ("brand",),
    ("category",),
)


class Searcher(Protocol):
    def search(
        self,
        query: str,
        k: int,
        filters: Filters | None = None,
        *,
        among: Collection[str] | None = None,
    ) -> list[ProductHit]: ...

    def products(self, product_ids: Sequence[str]) -> list[ProductHit]: ...


def search_relaxing(
    searcher: Searcher,
    query: str,
    k: int,
    filters: Filters,
    among: Collection[str] | None = None,
    fit: Callable[[list[ProductHit]], int] | None = None,
) -> tuple[list[ProductHit], list[str]]:
    """Retrieval (within ``among`` when given) dropping the least important constraint
    until something meets the rest. A brand and a category that meet nothing together: the
    one whose dropping leaves hits that ``fit`` the request better goes ("the OtterBox
    Defender case for the iPhone 7" is in another category than the one its words suggest);
    the brand on a tie ("Samsung laptops" where Samsung makes none)."""
    hits = searcher.search(query, k, filters, among=among)
    if hits or filters.is_empty():
        return hits, []
    current = filters.model_dump(exclude_none=True)
    relaxed: list[str] = []

    def without(name: str) -> list[ProductHit]:
        rest = {key: value for key, value in current.items() if key != name}
        return searcher.search(query, k, Filters(**rest) if rest else None, among=among)

    for group in RELAX_ORDER:
        present = [name for name in group if name in current]
        if not present:
            continue
        tried: list[ProductHit] | None = None  # already searched without ``present``
        if present == ["brand"] and "category" in current and fit is not None:
            tried, by_category = without("brand"), without("category")
            if by_category and fit(by_category) > fit(tried):
                present, tried = ["category"], by_category  # the brand stays
        for name in present:
            relaxed.append(f"{name} {current.pop(name)}")
        if tried is None:
            tried = searcher.search(query, k, Filters(**current) if current else None, among=among)
        hits = tried
        if hits:
            break
    return hits, relaxed


def retrievable(plan: RequestPlan) -> str:
    """The words to retrieve with: the message without its constraint phrases, which the
    filters carry ("phones under $5" relaxed to any price must not rank the "iPhone 5")."""
    if plan.query != plan.message or not plan.spans:
        return plan.query  # rewritten from the conversation: its own words
    rest = " ".join(blank(plan.message, plan.spans).split())
    return rest if content_words(rest) else plan.query


def nearest_price_first(
    hits: list[ProductHit], relaxed: list[str], filters: Filters, view: CatalogView
) -> list[ProductHit]:
    """With the price bound dropped, the closest matches are the closest in price: "phones
    under $5" shows the cheapest phones first (in retrieval order where prices tie)."""
    if not any(item.split()[0] in ("min_price", "max_price") for item in relaxed):
        return hits

    def beyond(hit: ProductHit) -> float:
        entry = view.products.get(hit.product_id)
        if entry is None or entry.price is None:
            return math.inf
        low, high = filters.min_price, filters.max_price
        return max(0.0, (low - entry.price) if low is not None else 0.0) + max(
            0.0, (entry.price - high) if high is not None else 0.0
        )

    return sorted(hits, key=beyond)


def holds_model(
    models: dict[tuple[str, str], str], view: CatalogView
) -> Callable[[list[ProductHit]], bool] | None:
    """Whether some hit is of a model the shopper named ("iphone 6s"); None: none named."""
    if not models:
        return None

    def need(found: list[ProductHit]) -> bool:
        return any(_of_model(hit.product_id, model, view) for hit in found for model in models)

    return need


def of_models(
    searcher: Searcher,
    query: str,
    k: int,
    plan: RequestPlan,
    models: dict[tuple[str, str], str],
    known: list[str],
    view: CatalogView,
) -> tuple[list[ProductHit], list[str], tuple[str, str] | None] | None:
    """The products of the named models, when retrieval ranked other models first ("unlocked
    iphone 6s": the iPhone 6s listings, saying none mentions "unlocked"); None if none."""
    hits: list[ProductHit] = []
    for itself in (True, False):  # the iPhone 6s itself before its cases
        holders = {p for p in view.products for m in models if _of_model(p, m, view, itself)}
        hits, relaxed = search_relaxing(searcher, query, k, plan.filters, holders)
        if hits:
            break
    if not hits:
        return None
    entries = [view.products[hit.product_id] for hit in hits]
    named = {word for model in models for word in model}
    lacking = [w for w in known if w not in named and not any(w in e.title_words for e in entries)]
    return hits, relaxed, ((", ".join(models.values()), " ".join(lacking)) if lacking else None)


def _of_model(
    product_id: str, model: tuple[str, str], view: CatalogView, itself: bool = False
) -> bool:
    """The title names the model; ``itself``: as what the product is, not what it fits."""
    entry = view.products.get(product_id)
    if entry is None:
        return False
    named = (entry.subject_words or entry.title_words) if itself else entry.title_words
    return all(word in named for word in model)

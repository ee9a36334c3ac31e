"""Shopper filters as Chroma's ``where`` (several keys need ``$and``); a value Chroma must
never see is refused here."""

from __future__ import annotations

import math
from typing import Any

from catalog.models import Filters, facet_key


class FilterError(ValueError):
    """A filter value Chroma must never see (not finite)."""


def filters_to_where(filters: Filters | None) -> dict[str, Any] | None:
    """Translate filters into Chroma's ``where`` (several keys need ``$and``)."""
    if filters is None:
        return None
    for name in ("min_price", "max_price", "min_rating"):
        value = getattr(filters, name)
        if value is not None and not math.isfinite(float(value)):
            raise FilterError(f"{name} must be a finite number")
    clauses: list[dict[str, Any]] = []
    if filters.min_price is not None:
        clauses.append({"price": {"$gte": float(filters.min_price)}})
    if filters.max_price is not None:
        clauses.append({"price": {"$lte": float(filters.max_price)}})
    if filters.brand is not None:
        clauses.append({"brand_key": {"$eq": facet_key(filters.brand)}})
    if filters.category is not None:
        key = facet_key(filters.category)  # any level of the path (Filters.matches agrees)
        clauses.append(
            {"$or": [{"category_key": {"$eq": key}}, {"category_keys": {"$contains": key}}]}
        )
    if filters.in_stock is not None:
        clauses.append({"in_stock": {"$eq": filters.in_stock}})
    if filters.min_rating is not None:
        clauses.append({"rating": {"$gte": float(filters.min_rating)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}

"""Products' filterable facts as columns, so a filter is tested on 30k products in one pass.

The same test as ``Filters.matches`` (and Chroma's ``where``), vectorised: the keyword side of
hybrid search masks its candidates with it, using the metadata of the current generation
rather than what the keyword index was built with (a price feed leaves the index alone).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from catalog.models import Filters, facet_key


class ProductFacts:
    """Price, rating, stock, brand and category of each product (one row per product)."""

    def __init__(self, metadatas: Sequence[dict[str, Any]]) -> None:
        self.rows: dict[str, int] = {}
        prices, ratings, stock, brands = [], [], [], []
        self._brand_codes: dict[str, int] = {}
        # Category key -> rows holding it at any level of their path (``category_matches``).
        categories: dict[str, list[int]] = {}
        for meta in metadatas:
            product_id = str(meta.get("product_id", ""))
            if product_id in self.rows:
                continue
            self.rows[product_id] = len(self.rows)
            prices.append(_number(meta.get("price")))
            ratings.append(_number(meta.get("rating")))
            in_stock = meta.get("in_stock")
            stock.append(-1 if not isinstance(in_stock, bool) else int(in_stock))
            brands.append(_code(self._brand_codes, meta.get("brand_key")))
            row = len(self.rows) - 1
            levels = meta.get("category_keys")
            keys = {*(levels if isinstance(levels, list) else ()), meta.get("category_key")}
            for key in keys:
                if isinstance(key, str):
                    categories.setdefault(key, []).append(row)
        self.price = np.array(prices, dtype=np.float64)
        self.rating = np.array(ratings, dtype=np.float64)
        self.in_stock = np.array(stock, dtype=np.int8)
        self.brand = np.array(brands, dtype=np.int32)
        self._categories = {key: np.array(rows, dtype=np.int64) for key, rows in categories.items()}

    def __len__(self) -> int:
        return len(self.rows)

    def mask(self, filters: Filters | None, among: Collection[str] | None = None) -> np.ndarray:
        """True for the products ``filters`` accepts (missing values never match a bound) and,
        given ``among``, that are among those product ids."""
        keep = np.ones(len(self.rows), dtype=bool)
        if among is not None:
            keep[:] = False
            keep[[row for pid in among if (row := self.rows.get(pid, -1)) >= 0]] = True
        if filters is None:
            return keep
        with np.errstate(invalid="ignore"):  # NaN (no price) compares False, as it should
            if filters.min_price is not None:
                keep &= self.price >= filters.min_price
            if filters.max_price is not None:
                keep &= self.price <= filters.max_price
            if filters.min_rating is not None:
                keep &= self.rating >= filters.min_rating
        if filters.brand is not None:
            keep &= self.brand == self._brand_codes.get(facet_key(filters.brand), -2)
        if filters.category is not None:
            in_category = np.zeros(len(self.rows), dtype=bool)
            in_category[self._categories.get(facet_key(filters.category), _NONE)] = True
            keep &= in_category
        if filters.in_stock is not None:
            keep &= self.in_stock == int(filters.in_stock)
        return keep

    def rows_of(self, product_ids: Sequence[str]) -> np.ndarray:
        """Row of each product (-1 when unknown), e.g. for every chunk of a keyword index."""
        return np.array([self.rows.get(pid, -1) for pid in product_ids], dtype=np.int64)


_NONE = np.array([], dtype=np.int64)


def chunk_mask(
    facts: ProductFacts,
    rows: np.ndarray,
    filters: Filters | None,
    among: Collection[str] | None = None,
) -> np.ndarray:
    """One weight per chunk (1 kept, 0 excluded) from the chunks' product rows."""
    products = facts.mask(filters, among)
    known = rows >= 0
    keep = np.zeros(len(rows), dtype=np.float32)
    keep[known] = products[rows[known]]
    return keep


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return float("nan")
    return float(value)


def _code(codes: dict[str, int], value: Any) -> int:
    if not isinstance(value, str):
        return -1
    return codes.setdefault(value, len(codes))

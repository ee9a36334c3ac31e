"""Orders over the catalog: the sort a request's words ask for, and the products it puts first.

- ``OrderReader``: the graded word of a message (``scales.find_scale``) as the constraints'
  order: a superlative sorts, a comparative is a comparison's dimension;
- ``by_attribute``: products ordered by an attribute's magnitude, and how many were left out;
- ``winner``: the one product a comparison's dimension puts first (none on a tie).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from service.answering.attributes import AskedAttribute
from service.answering.catalog_view import CatalogView, ProductEntry
from service.answering.conditions import attribute_value
from service.answering.constraints import Constraints
from service.answering.facts import ProductFacts
from service.answering.measures import measure, physical_kind, ranked
from service.answering.scales import (
    Scale,
    dimension_attribute,
    find_scale,
    how_dimension,
    split_order,
    unranked,
)


class OrderReader:
    def __init__(self, embeddings: Embeddings) -> None:
        self.embeddings = embeddings
        self._word_vectors: dict[str, np.ndarray] = {}

    def read(
        self, text: str, constraints: Constraints, view: CatalogView, named: int = 0
    ) -> Scale | None:
        """The scale of ``text``, applied to ``constraints``. Of one named product, a
        superlative of an attribute's own noun asks that attribute ("the smallest order I can
        place for the X" is its minimum order quantity), so it is no order."""
        if constraints.sort or constraints.compare_on:
            return None  # price and rating words came first
        scale = find_scale(text, view, view.attribute_index(self.embeddings), self._vector)
        if scale is not None and scale.noun and not scale.adjective and named == 1:
            return None
        if scale is None and constraints.unrated:  # "best rated" where nothing is rated
            return unranked(constraints.unrated, constraints.spans[-1])
        if scale is None:
            return None
        constraints.spans.append(scale.span)
        if scale.superlative:
            constraints.sort = scale.order
        else:
            constraints.compare_on = scale.order
        return scale

    def asked(
        self, message: str, view: CatalogView, product_ids: list[str]
    ) -> AskedAttribute | None:
        """The attribute a "how heavy / how big" question asks of the products, when their
        values measure that dimension ("20 g" is a weight, "10 ml" is not)."""
        dimension = how_dimension(message)
        if dimension is None or not product_ids:
            return None
        index = view.attribute_index(self.embeddings)
        attribute = dimension_attribute(dimension, view, index, self._vector)
        if attribute is None:
            return None
        kind = physical_kind(dimension)
        for product_id in product_ids:
            found = measure(value_of(view, product_id, attribute.key), dimension)
            if found is None or (
                kind is not None and found.kind.startswith("[") and found.kind != kind
            ):
                return None  # "how heavy is the mascara?" is not answered by "10 ml"
        return AskedAttribute(attribute.key, attribute.label, 1.0, "")

    def _vector(self, word: str) -> np.ndarray:
        if word not in self._word_vectors:
            vector = np.asarray(self.embeddings.embed_query(word), np.float32)
            self._word_vectors[word] = vector  # the graded words' few dimensions
        return self._word_vectors[word]


def by_attribute(
    entries: list[ProductEntry], view: CatalogView, key: str, descending: bool, scale: Scale | None
) -> tuple[list[str], tuple[int, int]]:
    """Product ids ordered by ``key``'s magnitude, and the (no value, other units) counts."""
    dimension = scale.component if scale else None
    values = [(entry.product_id, value_of(view, entry.product_id, key)) for entry in entries]
    order = ranked(values, descending=descending, dimension=dimension)
    measured = sum(1 for _, value in values if measure(value, dimension) is not None)
    return [product_id for product_id, _ in order], (len(entries) - measured, measured - len(order))


def value_of(view: CatalogView, product_id: str, key: str) -> Any:
    record = view.record(product_id)
    attributes = record.get("attributes")
    return attribute_value(record, attributes if isinstance(attributes, dict) else {}, key)


def leaders(products: list[ProductFacts], compare_on: str, scale: Scale | None) -> list[str]:
    """The products sharing the best value on a comparison's dimension, when at least two
    products have a comparable value; [] otherwise."""
    key, descending = split_order(compare_on)
    dimension = scale.component if scale else None
    values = [(p.product_id, fact.value) for p in products if (fact := p.field(key)) is not None]
    order = ranked(values, descending=descending, dimension=dimension)
    if len(order) < 2:
        return []
    return [product_id for product_id, found in order if found.magnitude == order[0][1].magnitude]


def winner(products: list[ProductFacts], compare_on: str, scale: Scale | None) -> str | None:
    """The one product a comparison's dimension puts first; None on a tie."""
    best = leaders(products, compare_on, scale)
    return best[0] if len(best) == 1 else None

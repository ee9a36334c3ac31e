"""Multi-turn retrieval: follow-ups resolved from history, constraints carried and relaxed."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from catalog.models import Filters, ProductHit, ScoredChunk
from service.answering.constraints import Vocabulary
from service.answering.retrieval import Retriever
from service.answering.types import Turn

_PRODUCTS = [
    {
        "product_id": "78",
        "title": "Apple MacBook Pro 14 Inch Space Grey",
        "brand": "Apple",
        "brand_key": "apple",
        "category": "laptops",
        "category_key": "laptops",
        "price": 1999.99,
        "rating": 3.65,
        "in_stock": True,
    },
    {
        "product_id": "81",
        "title": "Lenovo Yoga 920",
        "brand": "Lenovo",
        "brand_key": "lenovo",
        "category": "laptops",
        "category_key": "laptops",
        "price": 1099.99,
        "rating": 2.86,
        "in_stock": True,
    },
    {
        "product_id": "82",
        "title": "New DELL XPS 13 9300 Laptop",
        "brand": "Dell",
        "brand_key": "dell",
        "category": "laptops",
        "category_key": "laptops",
        "price": 1499.99,
        "rating": 2.67,
        "in_stock": False,
    },
    {
        "product_id": "6",
        "title": "Calvin Klein CK One",
        "brand": "Calvin Klein",
        "brand_key": "calvin klein",
        "category": "fragrances",
        "category_key": "fragrances",
        "price": 49.99,
        "rating": 4.37,
        "in_stock": True,
    },
]


def _filters(**values: object) -> Filters:
    return Filters.model_validate(values)


class WordSearcher:
    """A searcher over the products above: word overlap, filters applied like Chroma's."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, Filters | None]] = []

    def _hit(self, meta: dict, score: float) -> ProductHit:
        chunk = ScoredChunk(
            chunk_id=f"{meta['product_id']}::core::0",
            product_id=meta["product_id"],
            text=meta["title"],
            metadata=meta,
            score=score,
        )
        return ProductHit(
            product_id=meta["product_id"],
            title=meta["title"],
            score=score,
            metadata=meta,
            chunks=[chunk],
            similarity=score,
        )

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[ProductHit]:
        self.queries.append((query, filters))
        words = set(query.lower().split())
        scored = []
        for meta in _PRODUCTS:
            if filters is not None and not filters.matches(meta):
                continue
            text = f"{meta['title']} {meta['category']}".lower()
            score = sum(1 for word in words if word in text) / max(len(words), 1)
            scored.append(self._hit(meta, score))
        scored.sort(key=lambda hit: -hit.score)
        return scored[:k]

    def products(self, product_ids: Sequence[str]) -> list[ProductHit]:
        metas = {meta["product_id"]: meta for meta in _PRODUCTS}
        return [self._hit(metas[pid], 0.0) for pid in product_ids if pid in metas]


@pytest.fixture
def searcher() -> WordSearcher:
    return WordSearcher()


@pytest.fixture
def retriever(searcher: WordSearcher) -> Retriever:
    vocabulary = Vocabulary.from_metadatas(_PRODUCTS)
    return Retriever(searcher, lambda: vocabulary)


LIST_ANSWER = (
    "Here is what I found in the catalog:\n"
    "1. New DELL XPS 13 9300 Laptop — $1499.99 [82]\n"
    "2. Lenovo Yoga 920 — $1099.99 [81]\n"
    "3. Apple MacBook Pro 14 Inch Space Grey — $1999.99 [78]"
)
HISTORY = [Turn("user", "show me laptops"), Turn("assistant", LIST_ANSWER)]


def test_pronoun_follow_up_carries_the_product_over(retriever: Retriever) -> None:
    history = [
        Turn("user", "What's the price of the Lenovo Yoga 920?"),
        Turn("assistant", "Lenovo Yoga 920 costs $1099.99 [81]."),
    ]
    ctx = retriever.retrieve("does it have a warranty?", history, None, 3)
    assert ctx.carried_over == ["81"]
    assert ctx.hits[0].product_id == "81"
    assert "Lenovo Yoga 920" in ctx.query


def test_titles_in_earlier_turns_count_without_citations(retriever: Retriever) -> None:
    history = [
        Turn("user", "tell me about the Calvin Klein CK One"),
        Turn("assistant", "It is a fragrance."),
    ]
    ctx = retriever.retrieve("how much is it?", history, None, 3)
    assert ctx.carried_over == ["6"] and ctx.hits[0].product_id == "6"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("how much is the second one?", "81"),
        ("does the first one have a warranty?", "82"),
        ("what about the last one?", "78"),
        ("what about the cheaper one?", "81"),
        ("which of them is the most expensive?", "78"),
        ("which one is better rated?", "78"),
    ],
)
def test_ordinals_and_comparisons_pick_from_the_last_list(
    retriever: Retriever, message: str, expected: str
) -> None:
    ctx = retriever.retrieve(message, HISTORY, None, 3)
    assert ctx.carried_over == [expected]
    assert ctx.hits[0].product_id == expected


def test_plural_reference_carries_all_listed_products(retriever: Retriever) -> None:
    ctx = retriever.retrieve("are they in stock?", HISTORY, None, 5)
    assert ctx.carried_over == ["82", "81", "78"]
    assert [hit.product_id for hit in ctx.hits[:3]] == ["82", "81", "78"]


def test_refinement_keeps_the_earlier_subject(retriever: Retriever, searcher: WordSearcher) -> None:
    history = [Turn("user", "laptops under $2500"), Turn("assistant", LIST_ANSWER)]
    ctx = retriever.retrieve("what about under $1500?", history, None, 5)
    assert ctx.filters == _filters(category="laptops", max_price=1500)
    assert {hit.product_id for hit in ctx.hits} == {"81", "82"}
    assert "laptops" in ctx.query


def test_new_subject_is_a_new_search(retriever: Retriever) -> None:
    ctx = retriever.retrieve("is it possible to get perfume under $60?", HISTORY, None, 3)
    assert ctx.carried_over == []
    assert [hit.product_id for hit in ctx.hits] == ["6"]


def test_relaxes_price_before_category_and_orders_by_closeness(retriever: Retriever) -> None:
    ctx = retriever.retrieve("laptops under $5", [], None, 3)
    assert ctx.relaxed == ["max_price 5.0"]
    assert ctx.filters == _filters(category="laptops")
    assert [hit.metadata["price"] for hit in ctx.hits] == [1099.99, 1499.99, 1999.99]


def test_relaxes_rating_first(retriever: Retriever) -> None:
    ctx = retriever.retrieve("laptops rated 4.5 stars and up", [], None, 3)
    assert ctx.relaxed == ["min_rating 4.5"]
    assert {hit.metadata["category"] for hit in ctx.hits} == {"laptops"}


def test_explicit_filters_win_and_sorting(retriever: Retriever) -> None:
    ctx = retriever.retrieve("cheapest laptops under $1200", [], _filters(max_price=1600), 3)
    assert ctx.filters == _filters(category="laptops", max_price=1600)
    assert [hit.product_id for hit in ctx.hits] == ["81", "82"]
    assert ctx.relaxed is None


def test_no_history_no_carry_over(retriever: Retriever) -> None:
    ctx = retriever.retrieve("how much is it?", [], None, 3)
    assert ctx.carried_over == []

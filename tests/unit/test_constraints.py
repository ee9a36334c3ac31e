"""Shopping constraints from words: prices, ratings, stock, sort, catalog brands and categories."""

from __future__ import annotations

import pytest

from catalog.models import Filters
from service.answering.constraints import Vocabulary, merge_filters, parse_constraints

_CATALOG = [
    ("1", "Apple MacBook Pro 14 Inch Space Grey", "Apple", "laptops", 1999.99),
    ("2", "Lenovo Yoga 920", "Lenovo", "laptops", 1099.99),
    ("3", "iPhone X", "Apple", "smartphones", 899.99),
    ("4", "iPhone 12 Silicone Case with MagSafe Plum", "Apple", "mobile-accessories", 29.99),
    ("5", "Apple", None, "groceries", 1.99),
    ("6", "Calvin Klein CK One", "Calvin Klein", "fragrances", 49.99),
    ("7", "Rolex Datejust", "Rolex", "mens-watches", 10999.99),
    ("8", "Watch Gold for Women", "Fashion Gold", "womens-watches", 799.99),
    ("9", "Nike Air Jordan 1 Red And Black", "Nike", "mens-shoes", 149.99),
    ("10", "Red Shoes", None, "womens-shoes", 34.99),
    ("11", "Sunglasses", "Fashion Shades", "sunglasses", 22.99),
    ("12", "Dolce Shine Eau de", "Dolce & Gabbana", "fragrances", 69.99),
]


def _filters(**values: object) -> Filters:
    return Filters.model_validate(values)


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    metadatas = []
    for product_id, title, brand, category, price in _CATALOG:
        meta = {"product_id": product_id, "title": title, "category": category, "price": price}
        if brand:
            meta["brand"] = brand
        metadatas.append(meta)
    return Vocabulary.from_metadatas(metadatas)


def _parsed(message: str, vocabulary: Vocabulary) -> dict:
    return parse_constraints(message, vocabulary).filters.model_dump(exclude_none=True)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("laptops under $1200", {"max_price": 1200.0, "category": "laptops"}),
        ("anything less than 100 dollars", {"max_price": 100.0}),
        ("phones below 300", {"max_price": 300.0, "category": "smartphones"}),
        ("between 20 and 40", {"min_price": 20.0, "max_price": 40.0}),
        ("sunglasses $20-$40", {"min_price": 20.0, "max_price": 40.0, "category": "sunglasses"}),
        ("from $1,000 to $2,500.50", {"min_price": 1000.0, "max_price": 2500.5}),
        ("laptops over 500", {"min_price": 500.0, "category": "laptops"}),
        ("a laptop under 1.5k", {"max_price": 1500.0, "category": "laptops"}),
        ("perfume", {"category": "fragrances"}),
        ("cologne at most $60", {"max_price": 60.0, "category": "fragrances"}),
        ("women's watch under 1000", {"max_price": 1000.0, "category": "womens-watches"}),
        ("mens shoes in stock", {"category": "mens-shoes", "in_stock": True}),
        ("rated 4+ phones", {"category": "smartphones", "min_rating": 4.0}),
        ("sunglasses 4 stars and up", {"category": "sunglasses", "min_rating": 4.0}),
        ("at least 4.5 stars", {"min_rating": 4.5}),
        ("Calvin Klein perfume", {"brand": "Calvin Klein", "category": "fragrances"}),
        ("anything by dolce & gabbana", {"brand": "Dolce & Gabbana"}),
        ("Apple laptops", {"brand": "Apple", "category": "laptops"}),
        ("Apple products under 1k", {"brand": "Apple", "max_price": 1000.0}),
    ],
)
def test_constraints_from_words(message: str, expected: dict, vocabulary: Vocabulary) -> None:
    assert _parsed(message, vocabulary) == expected


@pytest.mark.parametrize(
    "message",
    [
        "do you have apples?",  # "Apple" is also a fruit in this catalog: no brand filter
        "watches",  # men's and women's watches: ambiguous, no category
        "shoes",
        "iphone 12 case",  # the phone the case is for is not the product's category
        "phone case",
        "Is the iPhone X in stock?",  # asks about stock; not a filter
        "how many are in stock?",
        "up to 2 year warranty",  # a number with a unit is not a price
        "iPhone 13 rating",  # a model number is not a rating
    ],
)
def test_words_that_are_not_filters(message: str, vocabulary: Vocabulary) -> None:
    assert _parsed(message, vocabulary) == {}


@pytest.mark.parametrize(
    ("message", "sort"),
    [
        ("cheapest laptop", "price_asc"),
        ("the least expensive perfume", "price_asc"),
        ("most expensive phone", "price_desc"),
        ("best rated sunglasses", "rating_desc"),
        ("which smartphones have the best rating?", "rating_desc"),
        ("phones with the highest customer reviews", "rating_desc"),
        ("laptops", None),
    ],
)
def test_sort_order(message: str, sort: str | None, vocabulary: Vocabulary) -> None:
    assert parse_constraints(message, vocabulary).sort == sort


def test_query_loses_constraint_words_but_keeps_the_subject(vocabulary: Vocabulary) -> None:
    parsed = parse_constraints("cheapest laptops under $1200 rated 4+ in stock", vocabulary)
    assert parsed.query == "laptops"
    assert parsed.filters == _filters(
        category="laptops", max_price=1200, min_rating=4, in_stock=True
    )


def test_full_titles_are_mentioned_and_not_read_as_filters(vocabulary: Vocabulary) -> None:
    parsed = parse_constraints(
        "What is the warranty for Apple MacBook Pro 14 Inch Space Grey?", vocabulary
    )
    assert parsed.mentioned == ["1"]
    assert parsed.filters.is_empty()


def test_explicit_filters_win(vocabulary: Vocabulary) -> None:
    parsed = parse_constraints("laptops under $1200", vocabulary).filters
    merged = merge_filters(parsed, _filters(max_price=2000, brand="Apple"))
    assert merged == _filters(category="laptops", max_price=2000, brand="Apple")
    # A parsed bound that contradicts an explicit one is dropped, not an error.
    merged = merge_filters(_filters(max_price=50), _filters(min_price=100))
    assert merged == _filters(min_price=100)
    assert merge_filters(parsed, None) == parsed


def test_vocabulary_knows_catalog_brands_and_categories(vocabulary: Vocabulary) -> None:
    assert vocabulary.brands["calvin klein"] == "Calvin Klein"
    assert "mens-watches" in vocabulary.categories
    assert vocabulary.category_for("perfume", None) == "fragrances"
    assert vocabulary.category_for("watch", None) is None
    assert vocabulary.category_for("watch", "womens") == "womens-watches"

"""Ordering by any numeric attribute: measures of values with units (pint), and graded words
("lightest", "longer warranty", "the most stock") resolved against three differently shaped
catalogs' own attributes: DummyJSON (numbers, duration texts, an object of dimensions), the
INR shop (quantities in grams, millilitres and pieces) and Best Buy (nothing to weigh)."""

from __future__ import annotations

import pytest

from service.answering.catalog_view import CatalogView
from service.answering.compose import compose
from service.answering.conditions import attribute_value
from service.answering.facts import Execution, FieldFact, ProductFacts
from service.answering.measures import measure, ranked
from service.answering.plan import Planner
from service.answering.scales import ordered_attributes, split_order
from tests.catalog_views import catalog_view


@pytest.fixture(scope="module")
def planner(embeddings) -> Planner:
    return Planner(embeddings)


# -- measures ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("smaller", "larger"),
    [
        ("3 months warranty", "1 year warranty"),  # a unit, not the digits, decides
        ("No warranty", "1 week warranty"),
        ("Ships in 1-2 business days", "Ships in 2 weeks"),
        ("900 g", "1.5 kg"),
        ("500 ml", "1 l"),
        ("8 fl oz", "1 l"),
        ("4 gm", "12 gm"),  # a unit pint does not know orders by number
        ("900 mAh", "10,000 mAh"),  # a comma grouping thousands is no decimal point
        (2, 10.5),
    ],
)
def test_values_order_by_magnitude(smaller: object, larger: object) -> None:
    order = ranked([("a", larger), ("b", smaller)], descending=False)
    assert [item for item, _ in order] == ["b", "a"]


def test_values_of_another_kind_or_none_are_left_out() -> None:
    items = [("kg", "2 kg"), ("g", "300 g"), ("ml", "250 ml"), ("none", None), ("text", "Red")]
    assert [item for item, _ in ranked(items, descending=True)] == ["kg", "g"]
    # A dimension that means a physical kind picks it even when another kind is commoner.
    volumes = [("a", "1 l"), ("b", "2 l"), ("c", "300 g")]
    assert [item for item, _ in ranked(volumes, descending=True, dimension="weight")] == ["c"]


def test_an_object_measures_by_the_named_component_or_as_a_whole() -> None:
    tall = {"width": 1, "height": 9, "depth": 1}
    wide = {"width": 5, "height": 2, "depth": 5}
    by_height = ranked([("tall", tall), ("wide", wide)], descending=True, dimension="height")
    assert [item for item, _ in by_height] == ["tall", "wide"]
    by_size = ranked([("tall", tall), ("wide", wide)], descending=True, dimension="size")
    assert [item for item, _ in by_size] == ["wide", "tall"]
    assert measure({"colour": "red"}) is None


def test_an_order_key_may_hold_underscores() -> None:
    assert split_order("Return_Window_desc") == ("Return_Window", True)
    assert split_order("price_asc") == ("price", False)


# -- graded words on the catalogs --------------------------------------------------------------
def _attribute(catalog: str, word: str) -> str:
    """The key of the catalog's ordered attribute whose label holds ``word``."""
    view = catalog_view(catalog)
    keys = [a.key for a in ordered_attributes(view) if word in a.label.lower()]
    assert len(keys) == 1, (catalog, word, keys)
    return keys[0]


def _label_of(view: CatalogView, key: str) -> str:
    return next(a.label.lower() for a in view.askable() if a.key == key)


def _category_with(catalog: str, key: str) -> str:
    """The category of the catalog with the most products that hold ``key``."""
    view = catalog_view(catalog)
    counts: dict[str, int] = {}
    for entry in view.products.values():
        record = view.record(entry.product_id)
        attributes = record.get("attributes") or {}
        if entry.category and measure(attribute_value(record, attributes, key)) is not None:
            counts[entry.category] = counts.get(entry.category, 0) + 1
    return max(sorted(counts), key=lambda name: counts[name])


def test_weight_words_order_by_the_weight_attribute(planner: Planner) -> None:
    view = catalog_view("demo")
    weight = _attribute("demo", "weight")
    category = _category_with("demo", weight)
    light = planner.plan(f"which is the lightest {category}?", [], view)
    assert light.sort == f"{weight}_asc" and light.filters.category == category
    heavy = planner.plan(f"the heaviest {category}", [], view)
    assert heavy.sort == f"{weight}_desc"


def test_the_noun_after_the_word_names_the_attribute(planner: Planner) -> None:
    view = catalog_view("demo")
    warranty = _attribute("demo", "warranty")
    discount = _attribute("demo", "discount")
    assert planner.plan("which has the longest warranty?", [], view).sort == f"{warranty}_desc"
    assert planner.plan("the biggest discount", [], view).sort == f"{discount}_desc"
    # An open quantifier orders only by what it names.
    assert planner.plan("tell me more about the products", [], view).sort is None


def test_a_word_of_the_attribute_label_is_not_an_order(planner: Planner) -> None:
    view = catalog_view("demo")
    minimum = next(a for a in ordered_attributes(view) if a.label.lower().startswith("minimum"))
    result = planner.plan(f"what is the {minimum.label.lower()} of laptops?", [], view)
    assert result.sort is None and result.scale is None


def test_a_comparative_between_named_products_is_the_comparison_dimension(
    planner: Planner,
) -> None:
    view = catalog_view("demo")
    weight = _attribute("demo", "weight")
    category = _category_with("demo", weight)
    first, second = sorted(
        (e for e in view.products.values() if e.category == category), key=lambda e: e.product_id
    )[:2]
    result = planner.plan(f"is the {first.title} heavier than the {second.title}?", [], view)
    assert result.intent == "compare" and result.compare_on == f"{weight}_desc"


def test_quantities_in_grams_order_the_lightest_by_mass(planner: Planner) -> None:
    view = catalog_view("inr")
    quantity = next(a.key for a in ordered_attributes(view) if a.type == "quantity")
    result = planner.plan("what's the heaviest thing you sell?", [], view)
    assert result.sort == f"{quantity}_desc"
    values = []
    for entry in view.products.values():
        record = view.record(entry.product_id)
        values.append(
            (entry.title, attribute_value(record, record.get("attributes") or {}, quantity))
        )
    order = ranked(values, descending=True, dimension="weight")
    assert {found.kind for _, found in order} == {"[mass]"}
    heaviest = max(
        m.magnitude for _, value in values if (m := measure(value)) and m.kind == "[mass]"
    )
    assert order[0][1].magnitude == heaviest


def test_a_catalog_with_nothing_to_weigh_says_so(planner: Planner) -> None:
    view = catalog_view("bestbuy")
    result = planner.plan("what's the lightest phone?", [], view)
    assert result.scale is not None and result.scale.key is None
    assert result.sort is None  # not ordered by something else instead


def test_without_ratings_popularity_words_name_a_field_the_label_derives_from(
    planner: Planner,
) -> None:
    # Best Buy has no ratings: "most popular" orders by the field whose label holds the
    # word "popular" derives into, if the catalog has one; "best rated" is said, not guessed.
    view = catalog_view("bestbuy")
    assert view.profile.rating_scale is None
    popular = _attribute("bestbuy", "popular")
    category = _category_with("bestbuy", popular)
    result = planner.plan(f"what's the most popular {category}?", [], view)
    assert result.sort == f"{popular}_desc"
    assert result.scale is not None and result.scale.adjective
    rated = planner.plan(f"best rated {category}", [], view)
    assert rated.sort is None and rated.scale is not None and rated.scale.key is None
    assert rated.scale.word == "best rated"
    # Where ratings exist, the same words order by rating.
    assert planner.plan("most popular laptops", [], catalog_view("demo")).sort == "rating_desc"


def test_a_comparison_on_an_attribute_names_its_winner_in_the_shoppers_words(
    planner: Planner,
) -> None:
    view = catalog_view("bestbuy")
    popular = _attribute("bestbuy", "popular")
    entries = sorted(view.products.values(), key=lambda e: e.product_id)[:3]
    names = " or the ".join(e.title for e in entries[:2])
    result = planner.plan(f"which is more popular, the {names}?", [], view)
    assert result.intent == "compare" and result.compare_on == f"{popular}_desc"
    values = {entries[0].product_id: 10, entries[1].product_id: 30}
    products = []
    for entry in entries[:2]:
        value = values[entry.product_id]
        fact = FieldFact(entry.product_id, popular, "Popularity", value, str(value))
        products.append(ProductFacts(entry.product_id, entry.title, {}, fields=[fact]))
    winner = entries[1]
    execution = Execution(plan=result, products=products, winner=winner.product_id)
    text = compose(execution, view).text
    assert f"is more popular: 30 [{winner.product_id}] vs 10 [{entries[0].product_id}]" in text


def test_a_superlative_of_an_attributes_noun_about_one_product_asks_it(
    planner: Planner,
) -> None:
    view = catalog_view("demo")
    warranty = _attribute("demo", "warranty")
    title = sorted(view.products.values(), key=lambda e: e.product_id)[0].title
    result = planner.plan(f"what is the longest warranty I can get for the {title}?", [], view)
    assert result.sort is None and result.scale is None
    assert result.intent == "attribute" and [ref.title for ref in result.products] == [title]
    smallest = planner.plan(f"the smallest {_label_of(view, warranty)} of the {title}", [], view)
    assert smallest.sort is None and smallest.intent == "attribute"


def test_how_heavy_asks_the_attribute_whose_value_is_a_weight(planner: Planner) -> None:
    # The INR shop's quantities are grams for some products, millilitres for others.
    view = catalog_view("inr")
    quantity = next(a.key for a in ordered_attributes(view) if a.type == "quantity")
    by_kind: dict[str, str] = {}
    for entry in sorted(view.products.values(), key=lambda e: e.product_id):
        record = view.record(entry.product_id)
        found = measure(attribute_value(record, record.get("attributes") or {}, quantity))
        if found is not None and found.kind in ("[mass]", "[length] ** 3"):
            by_kind.setdefault(found.kind, entry.title)
    weighed = planner.plan(f"how heavy is the {by_kind['[mass]']}?", [], view)
    assert [item.key for item in weighed.attributes] == [quantity]
    poured = planner.plan(f"how heavy is the {by_kind['[length] ** 3']}?", [], view)
    assert quantity not in [item.key for item in poured.attributes]  # millilitres weigh nothing
    sized = planner.plan(f"how big is the {by_kind['[length] ** 3']}?", [], view)
    assert [item.key for item in sized.attributes] == [quantity]

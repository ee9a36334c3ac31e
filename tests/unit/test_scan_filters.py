"""The filtered scan behind superlatives ("cheapest unlocked phone") on the Best Buy catalog
(category lists, multi-word brands; the other fixture catalogs have neither): a category holds
at every level of a product's path, as Chroma's ``where`` does for retrieval, and the scan is
restricted to what the shopper named."""

from __future__ import annotations

from catalog.models import Filters
from catalog.text import stopwords
from service.answering.plan import Planner
from service.answering.record import meets, subject_words
from tests.catalog_views import catalog_view


def test_a_category_filter_holds_at_any_level_of_the_path() -> None:
    view = catalog_view("bestbuy")
    entries = sorted(view.products.values(), key=lambda e: e.product_id)
    deep = [e for e in entries if len(e.category_path) >= 3]
    assert deep, "the Best Buy catalog has category paths"
    for entry in deep[:50]:
        for level in entry.category_path:
            assert meets(entry, Filters(category=level)), (entry.title, level)
    leaves = {e.category_path[-1] for e in entries if e.category_path}
    entry = deep[0]
    other = next(leaf for leaf in sorted(leaves) if leaf not in entry.category_path)
    assert not meets(entry, Filters(category=other))
    # The scan over a middle level finds every product whose path holds it.
    middle = entry.category_path[1]
    found = {e.product_id for e in entries if meets(e, Filters(category=middle))}
    assert found == {e.product_id for e in entries if middle in e.category_path}
    assert entry.product_id in found


def test_a_word_of_an_unfiltered_brand_is_still_the_subject(embeddings) -> None:
    # "cheapest case" is about cases even though "Case-Mate" is a brand: only the filtered
    # brand's words stand for the filter. Words picked from the catalog, not written here.
    view = catalog_view("bestbuy")
    planner = Planner(embeddings)
    brand_word = next(
        word
        for key in sorted(view.brand_words)
        for word in view.brand_words[key]
        if len(view.brand_words[key]) >= 2
        and len(view.title_index.get(word, ())) >= 50
        and word not in view.category_terms
        and word.isalpha()
        and word not in stopwords()
    )
    plan = planner.plan(f"cheapest {brand_word}", [], view)
    assert plan.sort == "price_asc" and plan.filters.brand is None
    assert subject_words(plan, view) == ([brand_word], [])


def test_a_long_brand_is_said_by_its_first_two_words(embeddings) -> None:
    view = catalog_view("bestbuy")
    planner = Planner(embeddings)
    two_word = {
        view.brand_words[key] for key in view.brand_words if len(view.brand_words[key]) == 2
    }
    long = [
        key
        for key in sorted(view.brand_words)
        if len(view.brand_words[key]) >= 3
        and view.brand_words[key][:2] not in two_word
        and all(w.isalpha() for w in view.brand_words[key][:2])
    ]
    assert long, "the Best Buy catalog has brands of three or more words"
    for key in long:
        first_two = " ".join(view.brand_words[key][:2])
        plan = planner.plan(f"show me {first_two} products", [], view)
        assert plan.filters.brand == view.brand_keys[key], first_two

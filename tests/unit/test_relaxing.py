"""Price bounds a search must meet, on differently shaped catalogs (words, models and prices
picked from each catalog): retrieval never matches the bound's number against titles, the
closest matches shown are the closest in price, a brand or category that meet nothing together
drop the one that fits worse, and "only those under <price>" narrows the listed products."""

from __future__ import annotations

import pytest

from catalog.models import Filters, ProductHit
from catalog.text import plural, stopwords, tokens
from service.answering.catalog_view import CatalogView, ProductEntry
from service.answering.execute import Executor
from service.answering.plan import Planner
from service.answering.record import subject_words, things_named
from service.answering.relaxing import retrievable, search_relaxing
from service.answering.types import Turn
from tests.catalog_views import catalog_view
from tests.searchers import Priced


@pytest.fixture(scope="module")
def planner(embeddings) -> Planner:
    return Planner(embeddings)


def _kind(view: CatalogView) -> tuple[str, list[ProductEntry]]:
    """The title word most priced products hold, and those products."""
    priced = [e for e in view.products.values() if e.price is not None and e.price >= 2]
    counts: dict[str, int] = {}
    for entry in priced:
        for word in entry.title_words:
            if word.isalpha() and len(word) > 3 and word not in stopwords():
                counts[word] = counts.get(word, 0) + 1
    word = max(sorted(counts), key=lambda w: counts[w])
    return word, [e for e in priced if word in e.title_words]


@pytest.mark.parametrize("catalog", ["demo", "bestbuy", "inr"])
def test_an_unmet_price_bound_lists_the_nearest_prices_first(
    planner: Planner, catalog: str
) -> None:
    view = catalog_view(catalog)
    word, holding = _kind(view)
    floor = min(e.price for e in holding if e.price is not None)
    bound = view.format_price(floor / 2)
    plan = planner.plan(f"{plural(word)} under {bound}", [], view)
    assert plan.intent == "search" and plan.filters.max_price == pytest.approx(floor / 2, abs=0.01)
    searcher = Priced(holding)
    execution = Executor(searcher, None, None).run(plan, view)  # type: ignore[arg-type]
    assert execution.relaxed and execution.relaxed[0].startswith("max_price")
    prices = [view.products[hit.product_id].price for hit in execution.hits]
    cheapest = sorted(e.price for e in holding if e.price is not None)[: plan.k]
    assert prices == cheapest, [view.products[h.product_id].title for h in execution.hits]
    # The bound's words are the filter's, not words to find in titles.
    said = {token.text for token in tokens(bound)}
    assert all(not said & {token.text for token in tokens(q)} for q in searcher.queries)
    assert all(word in {token.stem for token in tokens(q)} for q in searcher.queries)


def test_a_query_of_constraints_only_or_rewritten_is_kept(planner: Planner) -> None:
    view = catalog_view("bestbuy")
    plan = planner.plan(f"anything under {view.format_price(50)}?", [], view)
    assert plan.spans and retrievable(plan) == plan.query  # nothing left to retrieve with
    plan.query = "rewritten from the conversation"
    assert retrievable(plan) == "rewritten from the conversation"


@pytest.mark.parametrize("catalog", ["demo", "bestbuy"])
def test_a_kind_none_of_which_meets_the_bound_is_said_not_replaced(
    planner: Planner, catalog: str
) -> None:
    # Every product naming the word is one, all dearer than the bound; cheaper strangers are
    # not listed in their place as if they met the search.
    view = catalog_view(catalog)
    entries = [e for e in view.products.values() if e.price is not None]
    checked = 0
    for word in sorted(view.title_index):
        holders = [e for e in entries if word in e.title_words]
        if not word.isalpha() or len(word) < 4 or word in stopwords() or len(holders) < 2:
            continue
        floor = min(e.price for e in holders if e.price is not None)
        strangers = [e for e in entries if e not in holders and e.price and e.price < floor / 2]
        plan = planner.plan(f"{plural(word)} under {view.format_price(floor / 2)}", [], view)
        if plan.intent != "search" or subject_words(plan, view)[0] != [word] or not strangers:
            continue
        unbounded = planner.plan(f"show me {plural(word)}", [], view)
        if things_named(unbounded, view) is not None:  # narrowed without the bound too
            continue
        assert things_named(plan, view) == {e.product_id for e in holders}, word
        execution = Executor(Priced(strangers + holders), None, None).run(plan, view)  # type: ignore[arg-type]
        listed = [view.products[hit.product_id] for hit in execution.hits]
        assert listed and all(entry in holders for entry in listed), (word, listed)
        assert execution.relaxed and execution.relaxed[0].startswith("max_price")
        checked += 1
        if checked == 3:
            break
    assert checked == 3


@pytest.mark.parametrize("catalog", ["demo", "bestbuy"])
def test_a_brand_and_category_meeting_nothing_drop_the_one_that_fits_worse(catalog: str) -> None:
    # A category guessed from the words ("case ... iPhone 7") beside the brand the shopper
    # named: when the brand's products name what was asked, the category goes, else the brand.
    view = catalog_view(catalog)
    entries = sorted(view.products.values(), key=lambda e: e.product_id)
    by_brand: dict[str, list[ProductEntry]] = {}
    for entry in entries:
        if entry.brand:
            by_brand.setdefault(entry.brand, []).append(entry)
    brand = max(sorted(by_brand), key=lambda b: len(by_brand[b]))
    category = next(
        c
        for c in sorted(view.categories)
        if all(e.brand != brand for e in entries if e.category == c)
    )
    word = next(
        w
        for e in by_brand[brand]
        for w in sorted(e.title_words)
        if w.isalpha()
        and w not in stopwords()
        and not any(w in o.title_words for o in entries if o.category == category)
    )
    searcher = Priced(entries)
    filters = Filters(brand=brand, category=category)

    def fit(hits: list[ProductHit]) -> int:
        return sum(word in view.products[hit.product_id].title_words for hit in hits)

    hits, relaxed = search_relaxing(searcher, word, 5, filters, fit=fit)
    assert relaxed == [f"category {category}"]
    assert hits and all(view.products[hit.product_id].brand == brand for hit in hits)
    hits, relaxed = search_relaxing(searcher, word, 5, filters, fit=lambda hits: 0)
    assert relaxed == [f"brand {brand}"]
    assert hits and all(view.products[hit.product_id].category == category for hit in hits)


@pytest.mark.parametrize("catalog", ["demo", "bestbuy"])
def test_only_those_under_a_price_narrows_the_listed_products(
    planner: Planner, catalog: str
) -> None:
    # After a list, "only those under <price>" keeps the listed products that meet it (not a
    # price table of the first four, nor a new search of the whole catalog).
    view = catalog_view(catalog)
    priced = sorted(
        (e for e in view.products.values() if e.price is not None), key=lambda e: e.product_id
    )
    listed = priced[:5]
    prices = sorted({e.price for e in listed if e.price is not None})
    assert len(prices) >= 2
    bound = prices[len(prices) // 2]
    history = [
        Turn("user", "show me a few things"),
        Turn(
            "assistant", "\n".join(f"{i}. {e.title} [{e.product_id}]" for i, e in enumerate(listed))
        ),
    ]
    earlier = [e.product_id for e in listed]
    for said in (
        f"only those under {view.format_price(bound)}",
        f"only the ones under {view.format_price(bound)}",
    ):
        plan = planner.plan(said, history, view, earlier=earlier)
        assert plan.intent == "search" and plan.within == earlier, said
        searcher = Priced(priced)  # the whole catalog: the listed ones must be chosen
        execution = Executor(searcher, None, None).run(plan, view)  # type: ignore[arg-type]
        kept = {hit.product_id for hit in execution.hits}
        assert kept == {e.product_id for e in listed if e.price is not None and e.price <= bound}
    # Asking of them is still a question, not a narrowing.
    asked = planner.plan("are they in stock?", history, view, earlier=earlier)
    assert asked.within is None


class _OthersFirst(Priced):
    """Filtered retrieval that ranks every other product before the ``last`` ones."""

    def __init__(self, entries: list[ProductEntry], last: set[str]) -> None:
        super().__init__(entries)
        self.capped = True
        self.found = [p for p in self.found if p not in last] + [p for p in self.found if p in last]


def test_a_named_model_no_product_of_the_filters_is_relaxed_to_the_model(
    planner: Planner,
) -> None:
    # "is the gold iphone 6s unlocked?" listed other makers' unlocked phones, as if they were.
    view = catalog_view("bestbuy")
    checked = 0
    for word, number in sorted(view.model_pairs):
        model = [e for e in view.products.values() if {word, number} <= e.subject_words]
        if len(model) < 3 or not word.isalpha() or word in stopwords():
            continue
        kinds = {e.category for e in model}
        other = next(
            (c for c, p in sorted(view.categories.items()) if p.count >= 5 and c not in kinds),
            None,
        )
        plan = planner.plan_search(f"{word} {number}", view)
        if other is None or plan.filters.category is not None:
            continue
        plan.filters = Filters(category=other)
        searcher = _OthersFirst(list(view.products.values()), {e.product_id for e in model})
        execution = Executor(searcher, None, None).run(plan, view)  # type: ignore[arg-type]
        assert execution.relaxed == [f"category {other}"], (word, number)
        assert all(hit.product_id in {e.product_id for e in model} for hit in execution.hits)
        # Unfiltered, retrieval ranking other models first: the model's own products.
        plan.filters = Filters()
        strangers = [e for e in view.products.values() if not {word, number} <= e.title_words]
        searcher = _OthersFirst(strangers + model, {e.product_id for e in model})
        execution = Executor(searcher, None, None).run(plan, view)  # type: ignore[arg-type]
        assert [view.products[h.product_id] in model for h in execution.hits] == [True] * min(
            len(model), plan.k
        )
        checked += 1
        if checked == 4:
            break
    assert checked == 4

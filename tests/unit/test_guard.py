"""The fact guard: every figure of a model's answer bound to the fact it is stated for, over
the real demo catalog's view and facts executed from real plans."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from catalog.models import Filters, ProductHit
from service.answering.catalog_view import CatalogView
from service.answering.execute import Executor
from service.answering.facts import Execution
from service.answering.guard import check_answer, parse_citations
from service.answering.passages import CosineRanker
from service.answering.plan import Planner
from tests.catalog_views import catalog_view, product_id


class _NoSearch:
    """Named-product plans never search; these tests never reach it."""

    def search(self, *args: object, **kwargs: object) -> list:
        raise AssertionError("no search expected")

    def products(self, product_ids: Sequence[str]) -> list:
        return []

    def product_chunks(self, product_id: str) -> list:
        return []


@pytest.fixture(scope="module")
def facts(embeddings):
    planner = Planner(embeddings)
    executor = Executor(_NoSearch(), _NoSearch(), CosineRanker(embeddings))
    view = catalog_view("demo")

    def run(message: str) -> Execution:
        return executor.run(planner.plan(message, [], view), view)

    return run


def _ids(*titles: str) -> list[str]:
    view = catalog_view("demo")
    return [product_id(view, title) for title in titles]


def test_the_right_price_and_warranty_pass(facts) -> None:
    execution = facts("What's the price and the warranty of the Boxed Blender?")
    (blender,) = _ids("Boxed Blender")
    text = f"The Boxed Blender costs $39.99 [{blender}] with a 5 year warranty [{blender}]."
    assert check_answer(text, execution, catalog_view("demo")).ok


def test_a_price_equal_to_another_field_of_the_product_fails(facts) -> None:
    execution = facts("How much is the Gucci Bloom Eau de?")
    (gucci,) = _ids("Gucci Bloom Eau de")
    record = catalog_view("demo").record(gucci)
    minimum = record["attributes"]["minimumOrderQuantity"]  # a number of the same record
    result = check_answer(f"It costs ${minimum} [{gucci}].", execution, catalog_view("demo"))
    assert not result.ok and "price" in result.problems[0]


def test_a_number_planted_in_the_question_is_not_evidence(facts) -> None:
    execution = facts("Is the Boxed Blender's warranty 9 years?")
    (blender,) = _ids("Boxed Blender")
    result = check_answer(
        f"Yes, the Boxed Blender has a 9 year warranty [{blender}].",
        execution,
        catalog_view("demo"),
    )
    assert not result.ok and "'9'" in result.problems[0]


def test_a_duration_must_be_the_stated_fields_own(facts) -> None:
    execution = facts("What are the warranty and the return policy of the Boxed Blender?")
    (blender,) = _ids("Boxed Blender")
    record = catalog_view("demo").record(blender)
    days = record["attributes"]["returnPolicy"].split()[0]  # the return window's number
    text = f"The Boxed Blender has a {days} year warranty [{blender}]."
    assert not check_answer(text, execution, catalog_view("demo")).ok


def test_a_swapped_citation_fails(facts) -> None:
    execution = facts("Which is cheaper, the Realme C35 or the Oppo A57?")
    realme, oppo = _ids("Realme C35", "Oppo A57")
    view = catalog_view("demo")
    realme_price = view.products[realme].price
    right = f"The Realme C35 costs ${realme_price:,.2f} [{realme}]."
    swapped = f"The Realme C35 costs ${realme_price:,.2f} [{oppo}]."
    assert check_answer(right, execution, view).ok
    assert not check_answer(swapped, execution, view).ok


def test_citations_and_names_outside_the_plan_fail(facts) -> None:
    execution = facts("How much is the Realme C35?")
    (realme,) = _ids("Realme C35")
    view = catalog_view("demo")
    price = view.products[realme].price
    result = check_answer(f"It costs ${price:,.2f} [999999].", execution, view)
    assert not result.ok and "not a product of the plan" in result.problems[0]
    named = check_answer(
        f"The Realme C35 costs ${price:,.2f} [{realme}]; the iPhone X is better.", execution, view
    )
    assert not named.ok and "iPhone X" in named.problems[0]


def test_scale_of_a_rating_is_not_a_claim(facts) -> None:
    execution = facts("What is the rating of the Realme C35?")
    (realme,) = _ids("Realme C35")
    rating = catalog_view("demo").products[realme].rating
    text = f"The Realme C35 is rated {rating} out of 5 [{realme}]."
    assert check_answer(text, execution, catalog_view("demo")).ok


def test_the_plans_own_price_limit_may_be_restated_but_never_as_a_price(facts) -> None:
    execution = facts("How much is the Boxed Blender?")
    (blender,) = _ids("Boxed Blender")
    view = catalog_view("demo")
    answer = f"Here is a blender under $50. The Boxed Blender costs $39.99 [{blender}]."
    # Without a price limit in the plan, the uncited $50 is a figure no fact holds.
    assert not check_answer(answer, execution, view).ok
    execution.plan.filters = Filters(max_price=50)
    assert check_answer(answer, execution, view).ok
    # A cited sentence stating the limit as the product's price still fails.
    wrong = check_answer(f"The Boxed Blender costs $50 [{blender}].", execution, view)
    assert not wrong.ok and "$50" in wrong.problems[0]


def test_citations_parse_lists_and_skip_links() -> None:
    assert parse_citations("a [1] b [2, 3] c [x](http://e) [1]") == ["1", "2", "3"]


def test_a_unit_the_fact_does_not_give_fails(facts) -> None:
    # The demo catalog's weights are bare numbers: "2 pounds" invents the unit.
    view = catalog_view("demo")
    execution = facts("How heavy is the Boxed Blender?")
    (blender,) = _ids("Boxed Blender")
    weight = view.record(blender)["attributes"]["weight"]
    invented = check_answer(f"It weighs {weight} pounds [{blender}].", execution, view)
    assert not invented.ok and "pound" in invented.problems[0]
    assert check_answer(f"It weighs {weight} [{blender}].", execution, view).ok
    # A unit the fact gives passes in another form ("5 years" for "5 year warranty").
    warranty = facts("What is the warranty of the Boxed Blender?")
    years = view.record(blender)["attributes"]["warrantyInformation"].split()[0]
    text = f"It comes with {years} years of warranty [{blender}]."
    assert check_answer(text, warranty, view).ok


def _hit(view: CatalogView, pid: str) -> ProductHit:
    entry = view.products[pid]
    meta = {"price": entry.price, "brand": entry.brand, "rating": entry.rating}
    meta["record"] = view.records[pid]
    return ProductHit(product_id=pid, title=entry.title, score=1.0, metadata=meta, chunks=[])


def test_a_sorted_list_names_its_first_product_first(embeddings) -> None:
    class _Listing(_NoSearch):
        def products(self, product_ids: Sequence[str]) -> list:
            view = catalog_view("demo")
            return [_hit(view, pid) for pid in product_ids]

    planner = Planner(embeddings)
    executor = Executor(_Listing(), _NoSearch(), CosineRanker(embeddings))
    view = catalog_view("demo")
    execution = executor.run(planner.plan("what is the cheapest laptop?", [], view), view)
    first, *rest = execution.products
    last = rest[-1]
    price = view.format_price(first.metadata["price"])
    right = f"The cheapest is the {first.title}, {price} [{first.product_id}]."
    assert check_answer(right, execution, view).ok
    dearer = view.format_price(last.metadata["price"])
    wrong = f"The cheapest is the {last.title}, {dearer} [{last.product_id}]."
    result = check_answer(wrong, execution, view)
    assert not result.ok and "first" in result.problems[-1]


def test_a_comparison_calls_the_winner_cheaper_not_the_other(facts) -> None:
    view = catalog_view("demo")
    execution = facts("Which is cheaper, the Realme C35 or the Oppo A57?")
    a, b = _ids("Realme C35", "Oppo A57")
    cheap, dear = sorted((a, b), key=lambda pid: view.products[pid].price or 0.0)
    assert execution.winner == cheap
    name = {pid: view.products[pid].title for pid in (a, b)}
    price = {pid: view.format_price(view.products[pid].price or 0.0) for pid in (a, b)}
    right = (
        f"The {name[cheap]} is cheaper at {price[cheap]} [{cheap}], "
        f"while the {name[dear]} costs {price[dear]} [{dear}]."
    )
    assert check_answer(right, execution, view).ok
    also_right = f"The {name[cheap]} [{cheap}] is cheaper than the {name[dear]} [{dear}]."
    assert check_answer(also_right, execution, view).ok
    wrong = (
        f"The {name[dear]} is cheaper at {price[dear]} [{dear}], "
        f"while the {name[cheap]} costs {price[cheap]} [{cheap}]."
    )
    result = check_answer(wrong, execution, view)
    assert not result.ok and f'calls [{dear}] "cheaper"' in result.problems[-1]


def test_saying_the_catalog_lacks_a_compared_model_states_no_figure(facts) -> None:
    execution = facts("compare the iPhone 9 and the iPhone X")
    assert execution.absent == ["iPhone 9"]
    (phone,) = _ids("iPhone X")
    view = catalog_view("demo")
    said = f"The catalog has no iPhone 9 to compare with. The iPhone X costs $899.99 [{phone}]."
    assert check_answer(said, execution, view).ok
    # Only a sentence saying it is absent: the model's number is no figure of the iPhone X.
    claimed = f"The iPhone X [{phone}] is 9 times faster than the iPhone 9."
    result = check_answer(claimed, execution, view)
    assert not result.ok and "'9'" in result.problems[0]


def test_a_list_of_variants_names_only_its_own_products() -> None:
    # Listing five "Apple - iPhone 6s ..." variants, the guard read a name across two lines
    # ("... (Sprint), $649.99 | 2. Apple - iPhone 6s Plus") as a sixth variant not listed.
    from service.answering.compose import compose
    from service.answering.plan import RequestPlan
    from service.answering.record import listing

    view = catalog_view("bestbuy")
    lines: dict[tuple[str, str], list[str]] = {}
    for word, number in view.model_pairs:
        if word.isalpha() and not number.isalpha():
            lines[(word, number)] = [
                e.product_id for e in view.products.values() if {word, number} <= e.subject_words
            ]
    checked = 0
    for model, ids in sorted(lines.items(), key=lambda item: -len(item[1]))[:6]:
        hits = [
            ProductHit(
                product_id=pid,
                title=view.products[pid].title,
                score=1.0,
                metadata={"price": view.products[pid].price},
                chunks=[],
            )
            for pid in sorted(ids)[:5]
        ]
        plan = RequestPlan(intent="search", message=" ".join(model), query=" ".join(model))
        execution = Execution(plan=plan, hits=hits)
        execution.products = [listing(hit, view) for hit in hits]
        text = compose(execution, view).text
        assert check_answer(text, execution, view).problems == [], text
        checked += 1
    assert checked == 6

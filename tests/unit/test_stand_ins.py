"""Which retrieved products may stand for a search holding words the catalog does not, on two
differently shaped catalogs (titles picked from the catalog, not written here)."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Collection
from dataclasses import replace

import pytest

from catalog.models import ProductHit, ScoredChunk
from catalog.text import content_words, stopwords
from service.answering.catalog_view import CatalogView
from service.answering.compose import compose
from service.answering.execute import Executor
from service.answering.plan import Planner, RequestPlan
from service.answering.record import subject_words
from service.answering.stand_ins import (
    RELEVANT_SIMILARITY,
    absent_models,
    absent_rivals,
    context_hits,
    saying_hits,
    standing_hits,
)
from tests.catalog_views import catalog_view

FAR = RELEVANT_SIMILARITY - 0.2
NEAR = RELEVANT_SIMILARITY + 0.1


@pytest.fixture(scope="module")
def planner(embeddings) -> Planner:
    return Planner(embeddings)


def _two_products(view: CatalogView) -> tuple[str, str, str]:
    """A product whose title has three or more content words (its id and title), and another."""
    entries = sorted(view.products.values(), key=lambda e: e.product_id)
    named = next(e for e in entries if len(set(content_words(e.title))) >= 3)
    other = next(e for e in entries if e.product_id != named.product_id)
    return named.product_id, named.title, other.product_id


def _hit(product_id: str, similarity: float) -> ProductHit:
    return ProductHit(
        product_id=product_id, title="", score=1.0, metadata={}, chunks=[], similarity=similarity
    )


@pytest.mark.parametrize("catalog", ["demo", "bestbuy"])
def test_a_product_named_by_its_full_title_stands_beside_foreign_words(
    planner: Planner, catalog: str
) -> None:
    view = catalog_view(catalog)
    named, title, other = _two_products(view)
    plan = planner.plan_search(f"About the {title}: will it fit my 1995 Zorblat Qx7?", view)
    hits = [_hit(named, FAR), _hit(other, FAR)]
    # The foreign words and numbers describe the shopper's things: the named product stays;
    # another, even close in meaning, holds no "1995".
    assert [h.product_id for h in standing_hits(hits, plan, view)] == [named]
    hits = [_hit(named, FAR), _hit(other, NEAR)]
    assert [h.product_id for h in standing_hits(hits, plan, view)] == [named]
    plan = planner.plan_search(f"About the {title}: will it fit my Zorblat truck?", view)
    hits = [_hit(named, FAR), _hit(other, FAR), _hit(other + "-near", NEAR)]
    kept = [h.product_id for h in standing_hits(hits, plan, view)]
    assert kept == [named, other + "-near"]  # close in meaning stands; far does not


@pytest.mark.parametrize("catalog", ["demo", "bestbuy"])
def test_foreign_words_without_a_named_product_leave_only_close_products(
    planner: Planner, catalog: str
) -> None:
    view = catalog_view(catalog)
    named, title, other = _two_products(view)
    first_word = title.split()[0]
    plan = planner.plan_search(f"is the Zorblat Qx7 {first_word} in stock?", view)
    hits = [_hit(named, FAR), _hit(other, NEAR)]
    assert [h.product_id for h in standing_hits(hits, plan, view)] == [other]


@pytest.mark.parametrize("catalog", ["demo", "bestbuy"])
def test_a_described_need_offers_the_products_its_known_words_name(catalog: str) -> None:
    # "a gift for my mom who loves cooking": the words no text holds describe the shopper;
    # the products whose titles hold the catalog's word are offered as the closest matches.
    view = catalog_view(catalog)
    named, title, other = _two_products(view)
    word = next(
        w
        for w in content_words(title)
        if w.isalpha() and w not in content_words(view.products[other].title)
    )
    message = f"I need a present for my zorblat who loves {word}"
    plan = RequestPlan(intent="recommend", message=message, query=message)
    hits = [_hit(other, FAR), _hit(named, FAR)]
    assert standing_hits(hits, plan, view) == []
    kept, unmatched = context_hits(hits, plan, view)
    assert [h.product_id for h in kept] == [named]
    assert "zorblat" in unmatched
    # A search for a thing for someone ("a phone for my dad") is offered the same way.
    plan = RequestPlan(intent="search", message=f"a {word} for my zorblat", query=word)
    kept, unmatched = context_hits(hits, plan, view)
    assert ([h.product_id for h in kept], unmatched) == ([named], ["zorblat"])
    # A search for a thing no text holds, a proper name or an unknown model number asks for one
    # thing the catalog lacks: nothing is offered in its place.
    for intent, said in (
        ("search", f"a zorblat for my {word}"),
        ("search", f"a zorblat {word}"),
        ("recommend", f"I need the Zorblat {word}"),
        ("recommend", f"I need a {word} zorblat Qx7"),
    ):
        plan = RequestPlan(intent=intent, message=said, query=said)  # type: ignore[arg-type]
        assert context_hits(hits, plan, view) == ([], []), said


@pytest.mark.parametrize("catalog", ["demo", "bestbuy"])
def test_a_model_no_title_holds_is_not_stood_for_by_its_neighbours(
    planner: Planner, catalog: str
) -> None:
    # "iPhone 8" where titles hold "iPhone 7" and "Honor 8": neither stands for it.
    view = catalog_view(catalog)
    word, number = sorted(p for p in view.model_pairs if p[0].isalpha() and p[1].isdigit())[0]
    other = next(
        str(n)
        for n in range(2, 100)
        if (word, str(n)) not in view.model_pairs and any(b == str(n) for _, b in view.model_pairs)
    )
    holder = next(
        e.product_id
        for e in sorted(view.products.values(), key=lambda e: e.product_id)
        if other in e.title_words
    )
    plan = planner.plan_search(f"show me the {word} {other} please", view)
    assert absent_models(plan, view) == [f"{word} {other}"]
    assert standing_hits([_hit(holder, NEAR)], plan, view) == []
    present = planner.plan_search(f"show me the {word} {number} please", view)
    assert absent_models(present, view) == []
    measured = planner.plan_search(f"show me the {word} {other}gb please", view)
    assert absent_models(measured, view) == []  # a measure, not a model


def _model_word(word: str) -> bool:
    return word.isalpha() and word not in stopwords()


class _Products:
    """A searcher that only fetches products by id (a comparison retrieves nothing)."""

    def products(self, product_ids: list[str]) -> list[ProductHit]:
        return [_hit(pid, 1.0) for pid in product_ids]


@pytest.mark.parametrize("catalog", ["demo", "bestbuy"])
def test_a_comparison_with_a_model_the_catalog_lacks_says_so(
    planner: Planner, catalog: str
) -> None:
    # "compare the iPhone 9 and the iPhone X" without an iPhone 9: not the iPhone X alone.
    view = catalog_view(catalog)
    checked = 0
    for entry in sorted(view.products.values(), key=lambda e: e.product_id):
        said = entry.title.split()
        pairs = [(a.lower(), b.lower()) for a, b in itertools.pairwise(said)]
        pair = next((p for p in pairs if p in view.model_pairs and _model_word(p[0])), None)
        if pair is None:
            continue
        number = next(str(n) for n in range(2, 100) if (pair[0], str(n)) not in view.model_pairs)
        absent = f"{pair[0]} {number}"
        plan = planner.plan(f"compare the {absent} and the {entry.title}", [], view)
        if [ref.product_id for ref in plan.products] != [entry.product_id]:
            continue  # the title names more than this product
        assert plan.intent == "compare", entry.title
        execution = Executor(_Products(), None, None).run(plan, view)  # type: ignore[arg-type]
        assert execution.absent == [absent]
        answer = compose(execution, view)
        assert answer.text.startswith(f"The catalog has no {absent} to compare with"), answer.text
        assert f"[{entry.product_id}]" in answer.text
        # Without a category nothing says the number names a rival ("size 8" of a shoe tree).
        products = {**view.products, entry.product_id: replace(entry, category=None)}
        bare = copy.copy(view)
        bare.products = products
        assert absent_rivals(plan, bare) == []
        checked += 1
        if checked == 3:
            break
    assert checked >= 1


class _Found(_Products):
    """A searcher that finds ``found``, each close to the query."""

    def __init__(self, found: list[str]) -> None:
        self.found = found

    def search(
        self, query: str, k: int, filters: object = None, *, among: Collection[str] | None = None
    ) -> list[ProductHit]:
        found = [pid for pid in self.found if among is None or pid in among]
        return [_hit(pid, NEAR) for pid in found[:k]]


@pytest.mark.parametrize(
    ("catalog", "message", "unmatched"),
    [
        ("demo", "Motorola phones", ["Motorola"]),  # phones, but no Motorola
        ("demo", "Nokia laptops under 2000 dollars", ["Nokia"]),
        ("inr", "Zanzibar body lotion", ["Zanzibar"]),
        ("inr", "how many plates come in the Plate pack?", []),  # a verb, not a name
    ],
)
def test_a_name_no_text_holds_is_said_beside_the_closest_products(
    planner: Planner, catalog: str, message: str, unmatched: list[str]
) -> None:
    view = catalog_view(catalog)
    plan = planner.plan(message, [], view)
    assert plan.intent == "search"
    found = sorted(view.products)[:3]
    execution = Executor(_Found(found), None, None).run(plan, view)  # type: ignore[arg-type]
    assert execution.unmatched == unmatched
    if unmatched:
        answer = compose(execution, view).text
        assert answer.startswith(f'No product in the catalog mentions "{unmatched[0]}"'), answer


@pytest.mark.parametrize("catalog", ["demo", "bestbuy"])
def test_a_word_only_descriptions_hold_is_found_by_the_products_saying_it(
    planner: Planner, catalog: str
) -> None:
    # A shopper's word no title holds but a description does ("makeup" of a powder canister):
    # the products saying it stand for it, however far their embeddings; the others do not.
    view = catalog_view(catalog)
    said = {
        pid: set(content_words(str(view.record(pid).get("description") or "")))
        for pid in sorted(view.products)
    }
    every = set().union(*said.values())
    view = replace(view, knows=every.__contains__)
    holders: dict[str, list[str]] = {}
    for pid, held in said.items():
        for word in held:
            holders.setdefault(word, []).append(pid)
    word = next(
        w
        for w in sorted(holders, key=lambda w: (-len(holders[w]), w))
        if w.isalpha()
        and len(w) > 4
        and w not in view.title_index
        and w not in view.tag_index
        and w not in stopwords()
    )
    holder = holders[word][0]
    other = next(pid for pid in said if word not in said[pid])
    plan = planner.plan_search(f"do you have {word}?", view)
    assert subject_words(plan, view) == ([], [word])

    def hit(pid: str) -> ProductHit:
        text = str(view.record(pid).get("description") or "")
        chunk = ScoredChunk(chunk_id=pid, product_id=pid, text=text, metadata={}, score=1.0)
        return _hit(pid, FAR).model_copy(update={"chunks": [chunk]})

    assert [h.product_id for h in standing_hits([hit(other), hit(holder)], plan, view)] == [holder]
    # Among products that stand anyway, those saying it are the answer, and it is said.
    kept, written = saying_hits([hit(other), hit(holder)], plan, view)
    assert ([h.product_id for h in kept], written) == ([holder], [word])
    # Beside a word a title holds, it only qualifies what is sought.
    plans = (
        (w, planner.plan_search(f"do you have {w} {word}?", view))
        for w in sorted(view.products[other].title_words)
        if w.isalpha() and len(w) > 3 and w not in stopwords()
    )
    plan = next(p for w, p in plans if subject_words(p, view)[0] == [w])
    assert saying_hits([hit(other), hit(holder)], plan, view)[1] == []
    # A word no text holds still leaves only what is close in meaning.
    plan = planner.plan_search(f"do you have {word} zorblats?", view)
    assert standing_hits([hit(other), hit(holder)], plan, view) == []
    # So does an attribute's name, which every product's text may hold ("a warranty").
    label, name = next(
        (w, a.label)
        for a in view.askable()
        for w in content_words(a.label)
        if w.isalpha() and w not in view.title_index and w not in view.tag_index
    )
    plan = planner.plan_search(f"does it have a {label}?", view)
    assert subject_words(plan, view) == ([], [label])
    chunk = ScoredChunk(
        chunk_id="f", product_id=holder, text=f"{name}: yes", metadata={}, score=1.0
    )
    fielded = _hit(holder, FAR).model_copy(update={"chunks": [chunk]})
    assert standing_hits([fielded], plan, replace(view, knows=lambda w: True)) == []

"""Superlatives and comparatives over record attributes, end to end over the real demo store
(real model, embedded Chroma): the order is computed over the whole catalog from the values'
magnitudes, shown with each value and cited; a word the catalog has nothing to order by is
said, not silently ignored."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from aisle.settings import load_settings
from service.answering.answerer import Outcome
from service.answering.guard import parse_citations
from service.answering.measures import measure
from service.state import Catalog

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ROWS = json.loads((ROOT / "data/catalog/products.json").read_text())


@pytest.fixture(scope="module")
def catalog(demo_data_dir: Path, embeddings) -> Catalog:
    return Catalog(load_settings(_env_file=None, data_dir=demo_data_dir), embeddings)


def ask(catalog: Catalog, message: str) -> Outcome:
    answerer, view = catalog.answering()
    return answerer.run(message, [], None, view)


def ids(catalog: Catalog) -> dict[str, str]:
    _, view = catalog.answering()
    return {entry.title: entry.product_id for entry in view.products.values()}


def test_the_heaviest_of_a_category_is_ordered_over_the_whole_category(catalog: Catalog) -> None:
    by_category: dict[str, list[dict]] = {}
    for item in ROWS:
        by_category.setdefault(item["category"], []).append(item)
    # A category whose weights differ at the top, so the order is not a tie.
    category, items = max(
        sorted(by_category.items()), key=lambda pair: len({r["weight"] for r in pair[1]})
    )
    outcome = ask(catalog, f"what's the heaviest {category}?")
    heaviest = max(items, key=lambda r: r["weight"])
    cited = parse_citations(outcome.answer.text)
    found = ids(catalog)
    weights = [next(r["weight"] for r in items if found[r["title"]] == p) for p in cited]
    assert weights == sorted(weights, reverse=True)
    assert weights[0] == heaviest["weight"]
    assert f"Of the {len(items)} matching products in the catalog, by weight, heaviest first:" in (
        outcome.answer.text
    )
    assert f"Weight: {heaviest['weight']:g}" in outcome.answer.text


def test_a_longer_warranty_compares_durations_not_digits(catalog: Catalog) -> None:
    # Two products whose warranties' digits and durations disagree ("6 months" < "1 year").
    def duration(item: dict) -> float:
        found = measure(item["warrantyInformation"])
        return found.magnitude if found else -1.0

    def digits(item: dict) -> int:
        number = re.search(r"\d+", item["warrantyInformation"])
        return int(number.group()) if number else 0

    shorter, longer = next(
        (a, b)
        for a in ROWS
        for b in ROWS
        if 0 < duration(a) < duration(b) and digits(a) > digits(b) and a["title"] != b["title"]
    )
    outcome = ask(
        catalog, f"which has the longer warranty, the {shorter['title']} or the {longer['title']}?"
    )
    found = ids(catalog)
    assert outcome.plan.intent == "compare"
    assert outcome.execution.winner == found[longer["title"]]
    assert (
        f"The {longer['title']} has the longer warranty: {longer['warrantyInformation']} "
        f"[{found[longer['title']]}]" in outcome.answer.text
    )


def test_a_graded_word_with_nothing_to_order_by_is_said(catalog: Catalog) -> None:
    # The demo catalog records no dates: "newest" cannot order anything.
    outcome = ask(catalog, "what's the newest laptop?")
    assert outcome.plan.sort is None
    assert 'The catalog records nothing to rank "newest" by' in outcome.answer.text
    assert parse_citations(outcome.answer.text)  # the laptops are still listed

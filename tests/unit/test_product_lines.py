"""A question on a product line (many variants, no one product named) is answered from one
variant; cases made for the line, families of different products and requests for the
line's products are not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tests.catalog_views as views
from service.answering.passages import Passage, passages_of, restates
from service.answering.plan import Planner
from service.answering.product_lines import named_line
from tests.catalog_views import catalog_view


@pytest.fixture(scope="module")
def planner(embeddings) -> Planner:
    return Planner(embeddings)


def test_an_open_question_on_a_phone_line_asks_one_of_its_variants(planner: Planner) -> None:
    view = catalog_view("bestbuy")
    for message in ("is the Apple iPhone 7 waterproof?", "does the iPhone 7 have 3D Touch?"):
        result = planner.plan(message, [], view)
        assert result.intent == "attribute", message
        (ref,) = result.products
        # A phone of the line (not the "iPhone 7 Silicone Case", not a 3D Daisy case).
        assert ref.title.startswith("Apple - iPhone 7 ") and "Case" not in ref.title
    line = named_line("is the Apple iPhone 7 waterproof?", view)
    assert line is not None and len(line.members) >= 20
    assert not any("Case" in view.products[pid].title for pid in line.members)


@pytest.mark.parametrize(
    ("message", "line"),
    [
        # A "Lightning To Headphone Jack Adapter" is named by the asked feature's words only.
        ("does the iPhone 7 have a headphone jack?", "Apple - iPhone 7 "),
        # The product's name reads like a search; the question around it does not.
        ("what camera does the Samsung Galaxy S7 have?", "Samsung - Galaxy S7 "),
        ("is the galaxy s7 edge water resistant?", "Samsung - Galaxy S7 edge "),
        # A field all its variants agree on (its price is in the no-line cases below).
        ("what brand is the iPhone 7?", "Apple - iPhone 7 "),
    ],
)
def test_the_line_is_the_subject_of_a_question_about_it(
    planner: Planner, message: str, line: str
) -> None:
    result = planner.plan(message, [], catalog_view("bestbuy"))
    assert result.intent == "attribute", message
    (ref,) = result.products
    assert ref.title.startswith(line) and "Adapter" not in ref.title, ref.title


def test_a_comparison_of_lines_compares_a_variant_of_each(planner: Planner) -> None:
    view = catalog_view("bestbuy")
    result = planner.plan("compare the iPhone 7 and the iPhone 6s", [], view)
    assert result.intent == "compare"
    first, second = (ref.title for ref in result.products)
    assert first.startswith("Apple - iPhone 7 ") and second.startswith("Apple - iPhone 6s ")
    # One side not sold: the comparison keeps the other, and the answer says so.
    result = planner.plan("compare the Galaxy S7 with the Galaxy S9", [], view)
    assert result.intent == "compare"
    assert [ref.title[:20] for ref in result.products] == ["Samsung - Galaxy S7 "]
    # On price each line shows its cheapest variant (its plainest may cost more).
    result = planner.plan("which is cheaper, the iPhone 7 or the Galaxy S7?", [], view)
    assert result.intent == "compare" and result.compare_on == "price_asc"
    for ref, words in zip(result.products, ("iPhone 7", "Galaxy S7"), strict=True):
        line = named_line(f"is the {words} waterproof?", view)
        assert line is not None and ref.product_id in line.members
        assert view.products[ref.product_id].price == min(
            view.products[pid].price or 0.0 for pid in line.members
        )
    assert planner.plan("compare iphone 7 cases", [], view).intent == "search"


@pytest.mark.parametrize(
    ("catalog", "message"),
    [
        ("bestbuy", "screen protector for the iPhone 7"),  # what it fits
        ("bestbuy", "do you have the iPhone 7?"),  # asks for the products, nothing of them
        ("bestbuy", "how much is the iPhone 7?"),  # variants' prices differ: a search
        ("bestbuy", "is the iPhone 7 cheap?"),  # so is a price word
        ("bestbuy", "Galaxy S7 cases"),  # a kind said beside the line's name
        # No iPhone 7 Plus is sold, only its silicone cases: "iPhone"s are mostly phones.
        ("bestbuy", "is the iPhone 7 Plus waterproof?"),
        ("bestbuy", "Samsung Galaxy S7 cases"),
        ("demo", "is the iPhone waterproof?"),  # the 5s, 6, 9, X: a family, not variants
    ],
)
def test_no_line_question(planner: Planner, catalog: str, message: str) -> None:
    result = planner.plan(message, [], catalog_view(catalog))
    assert result.intent == "search" and result.products == [], message


def test_lines_on_a_catalog_of_another_shape(
    planner: Planner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeve = "A 40 litre pack with a padded laptop sleeve, hip belt and rain cover."
    rows = [
        {"sku": f"T{i}", "name": f"Trailblazer 40L Backpack - {colour}", "price": 89 + i,
         "description": sleeve.replace("pack", f"{colour.lower()} pack"), "category": "Backpacks"}
        for i, colour in enumerate(["Red", "Slate", "Olive", "Black"])
    ] + [
        {"sku": "R1", "name": "Rain Cover for Trailblazer 40L", "price": 15, "category": "Covers",
         "description": "A fitted rain cover."},
        {"sku": "S1", "name": "Padded Laptop Sleeve", "price": 25, "category": "Sleeves",
         "description": "A neoprene sleeve for 15 inch laptops."},
        {"sku": "K1", "name": "Kettle Classic 1.7L", "price": 30, "category": "Kettles",
         "description": "Stainless steel kettle that boils water fast with auto shut-off."},
        {"sku": "K2", "name": "Kettle Glass 1.5L", "price": 35, "category": "Kettles",
         "description": "Borosilicate glass jug with a blue light and a keep-warm setting."},
    ]  # fmt: skip
    rows += [
        {"sku": f"U{i}", "name": f"Summit 30L Daypack - {colour}", "price": 60 + i,
         "description": f"A light {colour.lower()} daypack with a bottle pocket, a padded back"
                        " panel and a chest strap for day hikes.",
         "category": "Backpacks"}
        for i, colour in enumerate(["Grey", "Teal"])
    ]  # fmt: skip
    path = tmp_path / "outdoor.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    monkeypatch.setitem(views.CATALOGS, "outdoor", path)
    view = catalog_view("outdoor")
    for message in (
        "does the Trailblazer 40L have a laptop sleeve?",  # not the "Padded Laptop Sleeve"
        "does the Trailblazer 40L have a padded laptop sleeve?",
    ):
        result = planner.plan(message, [], view)
        assert result.intent == "attribute", message
        (ref,) = result.products
        assert ref.title.startswith("Trailblazer 40L Backpack - "), message
    for message in (
        "is the padded laptop sleeve neoprene?",
        "does the padded laptop sleeve fit the Trailblazer 40L?",  # named first: the subject
    ):
        result = planner.plan(message, [], view)
        assert [ref.title for ref in result.products] == ["Padded Laptop Sleeve"], message
    assert named_line("is the kettle dishwasher safe?", view) is None  # different texts
    compared = planner.plan("compare the Trailblazer 40L and the Summit 30L", [], view)
    assert compared.intent == "compare"
    assert [ref.title.split(" - ")[0] for ref in compared.products] == [
        "Trailblazer 40L Backpack",
        "Summit 30L Daypack",
    ]


def test_long_descriptions_are_scored_by_sentence() -> None:
    # The scorer learned from passages of about a sentence: a 300-character description is cut.
    from catalog.models import ScoredChunk

    sentences = [f"Sentence {i} says one thing about the product at some length." for i in range(5)]
    text = " ".join(sentences)
    assert 250 < len(text) < 400
    chunk = ScoredChunk(chunk_id="c", product_id="p", text=text, score=1.0, metadata={})
    assert [p.text for p in passages_of([chunk], "Title")] == sentences


def test_a_field_the_question_already_said_answers_nothing() -> None:
    # "what camera does the Samsung Galaxy S7 have?" was answered "Brand: Samsung".
    mention = "Samsung Galaxy S7"
    assert restates(Passage("Brand: Samsung", "attribute"), mention)
    assert restates(Passage("Model: Galaxy S7", "core"), mention)
    assert not restates(Passage("Brand: Samsung", "attribute"), "iPhone 7")
    assert not restates(Passage("Category: Cell Phones > Samsung Galaxy", "core"), mention)
    sentence = "The Samsung Galaxy S7 enjoys a quad-core processor for ultra-fast responsiveness."
    assert not restates(Passage(sentence, "core"), mention)

"""What customers said: opinion questions answered from the reviews field, on the demo catalog
(reviews as objects, with a rating field) and on a small outdoor shop (reviews as plain
strings under another name, prices in euros, no rating, no ids)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aisle.settings import load_settings
from catalog.store import ProductStore
from service.answering.guard import check_answer, parse_citations
from service.state import Catalog
from tests.integration.test_answering import ROWS, ask, pid

pytestmark = pytest.mark.integration

OPINIONS = (
    "what do people say about the {}?",
    "what do customers think of the {}?",
    "is the {} any good?",
    "what are the reviews of the {}?",
    "how do people like the {}?",
    "is the {} worth buying?",
)
GEAR = [
    {
        "name": "Trail Runner 2 Hiking Boot",
        "cost": "€89,90",
        "maker": "Alpiq",
        "blurb": "Waterproof leather hiking boot with a grippy sole.",
        "guarantee": "2 years",
        "customer_feedback": ["Comfortable from day one.", "Soles wore out after a season."],
    },
    {
        "name": "Canyon Trekking Poles",
        "cost": "€39,95",
        "maker": "Norrtek",
        "blurb": "Carbon poles that fold to 38 cm.",
        "guarantee": "1 year",
        "customer_feedback": [f"Review number {n} of the poles." for n in range(1, 8)],
    },
    {
        "name": "Ridge 30L Daypack",
        "cost": "€59,00",
        "maker": "Norrtek",
        "blurb": "A 30 litre pack with a rain cover.",
        "guarantee": "5 years",
        "customer_feedback": [],
    },
]


@pytest.fixture(scope="module")
def demo(demo_data_dir: Path, embeddings) -> Catalog:
    return Catalog(load_settings(_env_file=None, data_dir=demo_data_dir), embeddings)


def _shop(folder: Path, rows: list[dict], embeddings) -> Catalog:
    from ingestion.pipeline import ingest_files

    path = folder / "gear.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    data_dir = folder / "data"
    store = ProductStore.open(chroma_url="", data_dir=data_dir, collection="products")
    summary = ingest_files([path], store=store, embeddings=embeddings)
    assert summary.failed == 0 and summary.added == len(rows), summary
    return Catalog(load_settings(_env_file=None, data_dir=data_dir), embeddings)


@pytest.fixture(scope="module")
def gear(tmp_path_factory: pytest.TempPathFactory, embeddings) -> Catalog:
    return _shop(tmp_path_factory.mktemp("gear"), GEAR, embeddings)


def test_opinion_questions_quote_the_reviews_and_the_rating(demo: Catalog) -> None:
    sample = [row for row in ROWS[::16] if row.get("reviews")]
    assert len(sample) >= 6
    for number, row in enumerate(sample):
        question = OPINIONS[number % len(OPINIONS)].format(row["title"])
        outcome = ask(demo, question)
        text = outcome.answer.text
        assert not outcome.answer.refused, question
        assert set(parse_citations(text)) == {pid(demo, row["title"])}, (question, text)
        assert f"Rating of {row['title']}: {row['rating']:g} out of 5" in text, text
        for review in row["reviews"]:
            assert f'"{review["comment"]}"' in text, (question, text)
            assert review["reviewerName"] not in text  # a name answers nothing
        assert check_answer(text, outcome.execution, outcome.view).ok, text


def test_other_questions_are_not_read_as_opinions(demo: Catalog) -> None:
    row = ROWS[3]
    for question, label in (
        ("what's the warranty of the {}?", "Warranty information"),
        ("how much is the {}?", "Price"),
        ("how well is the {} rated?", "Rating"),
    ):
        text = ask(demo, question.format(row["title"])).answer.text
        assert text.startswith(f"{label} of {row['title']}:"), text
        assert "Reviews of" not in text


def test_reviews_under_another_name_as_plain_strings(gear: Catalog) -> None:
    boot = ask(gear, "what do people say about the Trail Runner 2 Hiking Boot?").answer
    expected = '"Comfortable from day one."; "Soles wore out after a season."'
    assert f"Customer feedback of Trail Runner 2 Hiking Boot: {expected}" in boot.text
    assert "rating" not in boot.text.lower()  # this shop has no ratings to mention
    poles = ask(gear, "is the Canyon Trekking Poles any good?").answer.text
    assert '"Review number 5 of the poles." (and 2 more)' in poles
    assert "Review number 6" not in poles
    assert ask(gear, "what's the guarantee on the Ridge 30L Daypack?").answer.text == (
        f"Guarantee of Ridge 30L Daypack: 5 years [{pid(gear, 'Ridge 30L Daypack')}]."
    )


def test_a_product_nobody_reviewed_says_so(gear: Catalog) -> None:
    outcome = ask(gear, "what do customers think of the Ridge 30L Daypack?")
    assert outcome.answer.refused
    assert outcome.answer.text == (
        "The catalog has no customer feedback information for Ridge 30L Daypack."
    )


def test_a_shop_without_reviews_says_it_has_none(
    tmp_path_factory: pytest.TempPathFactory, embeddings
) -> None:
    rows = [{k: v for k, v in row.items() if k != "customer_feedback"} for row in GEAR]
    shop = _shop(tmp_path_factory.mktemp("plain"), rows, embeddings)
    for question in OPINIONS[:2]:
        outcome = ask(shop, question.format("Canyon Trekking Poles"))
        assert outcome.answer.refused
        assert outcome.answer.text == (
            "The catalog has no customer reviews information for Canyon Trekking Poles."
        )
    price = ask(shop, "how much are the Canyon Trekking Poles?").answer.text
    assert price.startswith("Price of Canyon Trekking Poles:"), price

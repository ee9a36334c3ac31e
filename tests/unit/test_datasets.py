"""Evaluation datasets: field generation is reproducible, ePQA loads, user files are checked."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from evaluation.datasets import (
    DEMO_CATALOG,
    DatasetError,
    epqa_questions,
    field_questions,
    load_dataset,
    subset,
    user_questions,
)

CATALOG_ROWS = [
    {
        "id": 1,
        "title": "Lash Princess Mascara",
        "price": 9.99,
        "rating": 4.56,
        "brand": "Essence",
        "warrantyInformation": "1 week warranty",
        "returnPolicy": "No return policy",
        "shippingInformation": "Ships in 3-5 business days",
        "availabilityStatus": "In Stock",
        "minimumOrderQuantity": 48,
        "description": "Volumizing mascara.",
    },
    {
        "id": 2,
        "title": "Oak Side Table",
        "price": 120,
        "rating": 3,
        "warrantyInformation": "2 year warranty",
        "returnPolicy": "30 days return policy",
        "shippingInformation": "Ships overnight",
        "availabilityStatus": "Low Stock",
        "minimumOrderQuantity": 1,
        "description": "A battery-free oak table in black.",
    },
]


@pytest.fixture
def small_catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(CATALOG_ROWS))
    return path


def test_field_generation_is_reproducible_with_the_seed(small_catalog: Path) -> None:
    first = field_questions(small_catalog, seed=5)
    assert first == field_questions(small_catalog, seed=5)
    other = field_questions(small_catalog, seed=6)
    assert [q.question for q in first] != [q.question for q in other]


def test_field_questions_carry_gold_values_and_products(small_catalog: Path) -> None:
    questions = field_questions(small_catalog, seed=1, phrasings=2, unknown_products=4)
    gold = {(q.product_id, q.qtype): q.gold_values for q in questions if q.answerable}
    assert gold[("1", "price")] == ("9.99",)
    assert gold[("2", "price")] == ("120.00",)
    assert gold[("1", "rating")] == ("4.56",)
    assert gold[("1", "warranty")] == ("1 week warranty",)
    assert gold[("1", "minimum_order")] == ("48",)
    assert gold[("2", "availability")] == ("Low Stock",)
    assert ("2", "brand") not in gold  # no brand in the record: no brand question
    per_field = Counter((q.product_id, q.qtype) for q in questions if q.answerable)
    assert set(per_field.values()) == {2}  # two phrasings of every (product, field)
    assert all(q.relevant_ids == (q.product_id,) for q in questions if q.product_id)
    assert all("Lash Princess Mascara" in q.question for q in questions if q.product_id == "1")


def test_field_unanswerable_questions_ask_what_the_record_lacks(small_catalog: Path) -> None:
    questions = field_questions(small_catalog, seed=3, unknown_products=6)
    missing = [q for q in questions if q.qtype == "missing_attribute"]
    assert {q.product_id for q in missing} == {"1", "2"}
    assert not any(q.answerable or q.gold_values for q in missing)
    # Product 2's record mentions a battery and a colour: never asked about them.
    table = [q.question.lower() for q in missing if q.product_id == "2"]
    assert not any("battery" in t or "colo" in t for t in table)
    unknown = [q for q in questions if q.qtype == "unknown_product"]
    assert len(unknown) == 6
    assert all(q.product_id is None and not q.answerable for q in unknown)
    assert not any("Mascara" in q.question or "Oak Side" in q.question for q in unknown)


def test_demo_field_dataset_covers_every_type() -> None:
    dataset = load_dataset("field")
    assert dataset.catalog == [DEMO_CATALOG]
    types = Counter(q.qtype for q in dataset.questions)
    expected = {
        "price",
        "warranty",
        "return_policy",
        "shipping",
        "availability",
        "brand",
        "minimum_order",
        "rating",
        "missing_attribute",
        "unknown_product",
    }
    assert set(types) == expected
    assert len({q.qid for q in dataset.questions}) == len(dataset.questions)


def test_subset_is_deterministic_and_balanced() -> None:
    questions = load_dataset("field").questions
    first = subset(questions, 50)
    assert [q.qid for q in first] == [q.qid for q in subset(list(reversed(questions)), 50)]
    assert len(first) == 50
    assert set(Counter(q.qtype for q in first).values()) == {5}
    assert subset(questions, None) == questions


def test_epqa_sample_loads_with_labels_and_unanswerable_set() -> None:
    questions = epqa_questions()
    assert len(questions) == 225
    unanswerable = [q for q in questions if not q.answerable]
    assert len(unanswerable) == 25
    assert all(not any(e.label == 2 for e in q.evidence) for q in unanswerable)
    first = questions[0]
    assert first.question.startswith("About the Cobra CPI 480")
    assert first.question.endswith(": how many outlets?")
    assert first.product_id == "B001RNOHBC"
    assert [e.label for e in first.evidence][:5] == [2, 2, 2, 1, 2]
    assert first.gold_answers[0] == "There are 2 grounded ac receptacles."
    assert first.qtype == "evidence_bullet"


def test_user_jsonl_is_loaded_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(
        "# my questions\n"
        '{"question": "How much is the Oak Side Table?", "product_id": "2",'
        ' "gold_values": ["120"]}\n'
        "\n"
        '{"id": "u2", "question": "Do you sell rockets?", "answerable": false, "type": "oos"}\n'
    )
    first, second = user_questions(path)
    assert first.qid == "mine-2" and first.relevant_ids == ("2",) and first.answerable
    assert first.qtype == "user" and first.gold_values == ("120",)
    assert second.qid == "u2" and not second.answerable and second.qtype == "oos"
    assert load_dataset(str(path)).name == "mine"


def test_user_jsonl_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"question": "ok?"}\n'
        "{not json\n"
        '{"question": ""}\n'
        '{"question": "x", "answerable": "yes"}\n'
        '{"question": "x", "gold_answers": "one"}\n'
        '{"question": "x", "colour": "red"}\n'
        "[1, 2]\n"
    )
    with pytest.raises(DatasetError) as caught:
        user_questions(path)
    message = str(caught.value)
    for line, words in [
        (2, "invalid JSON"),
        (3, "'question' must be a non-empty string"),
        (4, "'answerable' must be true or false"),
        (5, "'gold_answers' must be a list"),
        (6, "unknown key(s) colour"),
        (7, "expected a JSON object"),
    ]:
        assert f"{path}:{line}: {words}" in message
    assert f"{path}:1:" not in message


def test_unknown_dataset_name_is_an_error() -> None:
    with pytest.raises(DatasetError, match="not 'field', 'epqa' or an existing JSONL file"):
        load_dataset("no-such-file.jsonl")


def test_products_with_ambiguous_titles_are_not_asked_about(tmp_path: Path) -> None:
    rows = [
        {**CATALOG_ROWS[0], "id": 7, "title": "Sneakers Off White & Red"},
        {**CATALOG_ROWS[0], "id": 8, "title": "Sneakers off white red"},
        CATALOG_ROWS[1],
    ]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(rows))
    asked = {q.product_id for q in field_questions(path, unknown_products=0)}
    assert asked == {"2"}

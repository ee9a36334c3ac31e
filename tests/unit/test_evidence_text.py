"""The evidence scorer's text helpers: attribute passages, numbers, question types."""

from __future__ import annotations

import pytest

from catalog.evidence import text as tx


@pytest.mark.parametrize(
    ("passage", "expected"),
    [
        (
            "item_weight:  { unit:pounds, normalized_value:{ unit:pounds, value:13. }, value:13. }",
            ("item weight", "pounds, 13."),
        ),
        (
            'color:  { standardized_values:[ "ivory" ], value:"natural, ivory" }',
            ("color", "ivory, natural, ivory"),
        ),
        (
            "item_dimensions:  { width:{ unit:inches, normalized_value:{ unit:inches, value:9 }, "
            "value:9 }, height:{ unit:inches, value:5 } }",
            ("item dimensions", "width inches, 9, height inches, 5"),
        ),
        ("Warranty information: 1 year warranty", ("warranty information", "1 year warranty")),
    ],
)
def test_attribute_passages_become_name_and_readable_value(passage, expected):
    assert tx.split_attribute(passage) == expected


@pytest.mark.parametrize(
    "passage",
    [
        "yes, it plugs into the bind port.",
        "mine has two plugs. Question: how many things can be plugged in?",
        "I bought this for my son and he loves it: the colours are great and it is sturdy",
        "",
    ],
)
def test_sentences_are_not_attributes(passage):
    assert tx.split_attribute(passage) is None


def test_passage_text_is_what_gets_embedded():
    assert tx.passage_text("batteries_included:  { value:false }") == "batteries included: false"
    assert tx.passage_text("  a   review\nwith spaces ") == "a review with spaces"


def test_numbers_compare_by_value():
    assert tx.numbers("13. pounds, 1,299 dollars, 2.5 kg, 3,5 cm") == {13.0, 1299.0, 2.5, 3.5}
    assert tx.numbers("no digits here") == frozenset()


@pytest.mark.parametrize(
    ("question", "qtype"),
    [
        ("how many outlets?", "amount"),
        ("How much does it weigh?", "amount"),
        ("what is the size of the opening, inch x inch?", "measure"),
        ("i have an old singer 99 machine. will this fit ?", "yes_no"),
        ("Does it charge a Samsung Galaxy S7?", "yes_no"),
        ("is it red or blue?", "choice"),
        ("where is this product made?", "open"),
        ("", "open"),
    ],
)
def test_question_types(question, qtype):
    assert tx.question_type(question) == qtype


def test_words_strip_light_plurals_but_keep_short_words():
    assert tx.words("Cases DOES glass bus") == ["case", "does", "glass", "bus"]
    assert tx.content_words("Does this case fit the iPhone 7?") == ["case", "fit", "iphone", "7"]


def test_answer_openers():
    assert tx.opens_with_answer("Yes, it does.")
    assert not tx.opens_with_answer("It does, yes.")

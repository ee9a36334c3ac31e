"""How a refusal names what the catalog lacks."""

from __future__ import annotations

from service.answering.wording import missing_sentence

TITLE = "Brass Garden Hose Nozzle 8 Pattern"


def test_a_lead_in_naming_the_product_is_not_quoted() -> None:
    text = missing_sentence([], f"About the {TITLE}: can I use it with a Gardena reel?", TITLE)
    assert (
        text
        == f'The catalog has nothing that answers "can I use it with a Gardena reel" for {TITLE}.'
    )


def test_a_question_without_a_lead_in_is_quoted_whole() -> None:
    text = missing_sentence([], f"can the {TITLE} connect to my Gardena reel?", TITLE)
    assert (
        text
        == f'The catalog has nothing that answers "can it connect to my Gardena reel" for {TITLE}.'
    )


def test_one_topic_word_and_missing_attributes_are_named() -> None:
    assert missing_sentence([], f"what is the {TITLE}'s warranty?", TITLE) == (
        f"The catalog has no warranty information for {TITLE}."
    )
    assert missing_sentence(["Weight"], "how heavy?", TITLE) == (
        f"The catalog has no weight information for {TITLE}."
    )

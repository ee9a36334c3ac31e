"""How a refusal names what the catalog lacks."""

from __future__ import annotations

from service.answering.wording import missing_sentence, unmatched_sentence

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


def test_a_lone_word_is_named_only_when_it_is_the_thing_asked_about() -> None:
    # After a determiner or a possessive the word is a thing ("a warranty", "the Hose's
    # weight"); a verb or an adjective ("hold", "waterproof") is quoted in its question.
    assert missing_sentence([], f"does the {TITLE} have a warranty?", TITLE) == (
        f"The catalog has no warranty information for {TITLE}."
    )
    assert missing_sentence([], f"how many megapixels does the {TITLE} have?", TITLE) == (
        f"The catalog has no megapixels information for {TITLE}."
    )
    assert missing_sentence([], f"how much does the {TITLE} hold?", TITLE) == (
        f'The catalog has nothing that answers "how much does it hold" for {TITLE}.'
    )
    assert missing_sentence([], f"is the {TITLE} waterproof?", TITLE) == (
        f'The catalog has nothing that answers "is it waterproof" for {TITLE}.'
    )


def test_words_no_product_mentions_are_quoted_before_the_closest_matches() -> None:
    assert unmatched_sentence(["wedding"]) == (
        'No product in the catalog mentions "wedding"; these are the closest matches:'
    )
    assert '"gift", "mom" or "loves"' in unmatched_sentence(["gift", "mom", "loves"])

"""Features of (question, passage) pairs, computed within the candidate set."""

from __future__ import annotations

import numpy as np
import pytest

from catalog.evidence.features import FEATURES, Passage, feature_matrix, prepare


def _features(question, passages, similarities=None):
    prepared = [prepare(p) for p in passages]
    sims = similarities or [0.5] * len(prepared)
    names = [0.4 if p.name else None for p in prepared]
    rows = feature_matrix(question, prepared, sims, names)
    return {name: rows[:, i] for i, name in enumerate(FEATURES)}


def test_lexical_features_favour_the_passage_that_holds_the_asked_words():
    f = _features(
        "how many outlets does the inverter have?",
        [
            Passage("2 grounded ac outlets on the inverter", "bullet"),
            Passage("the fan is quiet", "review"),
        ],
    )
    assert f["overlap"].tolist() == [1.0, 0.0]  # "outlet", "inverter" (plural stripped)
    assert f["bm25"][0] > 0 and f["bm25"][1] == 0
    assert 0 < f["idf_overlap"][0] <= 1
    assert f["amount_x_number"].tolist() == [1.0, 0.0]
    assert f["question_amount"].tolist() == [1.0, 1.0]


def test_attribute_features():
    f = _features(
        "what is the weight of this?",
        [
            Passage("item_weight:  { unit:pounds, value:13 }", "attribute"),
            Passage("Brand: Cobra", "specs"),
            Passage("it is heavy", "review"),
        ],
    )
    assert f["is_attribute"].tolist() == [1.0, 1.0, 0.0]
    assert f["name_in_question"].tolist() == [1.0, 0.0, 0.0]  # "item" is a function word
    assert f["cos_name"].tolist() == [0.4, 0.4, 0.0]
    assert f["has_number"].tolist() == [1.0, 0.0, 0.0]


def test_numbers_and_yes_no_answers():
    f = _features(
        "will it fit a 2015 mustang?",
        [Passage("yes, it fits 2015 models"), Passage("fits 2010 to 2014 models")],
    )
    assert f["number_match"].tolist() == [1.0, 0.0]
    assert f["yes_no_x_answer_opener"].tolist() == [1.0, 0.0]


def test_similarities_are_taken_as_given_and_rows_are_deterministic():
    passages = [Passage("a"), Passage("b b b")]
    first = _features("q?", passages, [0.9, 0.1])
    assert first["cos"].tolist() == pytest.approx([0.9, 0.1])
    again = feature_matrix("q?", [prepare(p) for p in passages], [0.9, 0.1], [None, None])
    assert np.array_equal(np.column_stack([first[n] for n in FEATURES]), again)


def test_an_empty_candidate_set_has_no_rows():
    assert feature_matrix("anything?", [], [], []).shape == (0, len(FEATURES))

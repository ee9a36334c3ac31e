"""Metric functions against cases computed by hand."""

from __future__ import annotations

import math

import pytest

from evaluation import metrics, run_stats


def test_recall_mrr_and_ndcg_on_a_ranked_list() -> None:
    ranked = ["a", "b", "c", "d"]
    assert metrics.recall_at_k(ranked, {"c", "x"}, 2) == 0.0
    assert metrics.recall_at_k(ranked, {"c", "x"}, 3) == 0.5
    assert metrics.recall_at_k(ranked, set(), 3) == 0.0
    assert metrics.reciprocal_rank(ranked, {"c"}) == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank(ranked, {"z"}) == 0.0
    # One relevant item at rank 2: DCG = 1/log2(3), ideal = 1.
    assert metrics.binary_ndcg_at_k(ranked, {"b"}, 5) == pytest.approx(1 / math.log2(3))
    # Two relevant at ranks 1 and 3: (1 + 1/2) / (1 + 1/log2(3)).
    expected = 1.5 / (1 + 1 / math.log2(3))
    assert metrics.binary_ndcg_at_k(ranked, {"a", "c"}, 3) == pytest.approx(expected)
    assert metrics.binary_ndcg_at_k(ranked, {"d"}, 3) == 0.0


def test_graded_ndcg_and_hits_use_the_labels() -> None:
    gains = [0.0, 1.0, 2.0]
    # DCG = 1/log2(3) + 2/log2(4) = 0.6309 + 1; ideal from labels [2, 1, 0, 2]: 2 + 2/log2(3) + 1/2.
    ideal = 2 + 2 / math.log2(3) + 0.5
    assert metrics.ndcg_at_k(gains, [2, 1, 0, 2], 3) == pytest.approx(
        (1 / math.log2(3) + 1) / ideal
    )
    assert metrics.graded_hit_at_k(gains, 2, 2) == 0.0
    assert metrics.graded_hit_at_k(gains, 3, 2) == 1.0
    assert metrics.graded_hit_at_k(gains, 2, 1) == 1.0
    assert metrics.graded_reciprocal_rank(gains, 2) == pytest.approx(1 / 3)
    assert metrics.ndcg_at_k(gains, [0, 0], 3) == 0.0


@pytest.mark.parametrize(
    ("answer", "gold", "expected"),
    [
        ("The Lash Princess costs $9.99 [1].", ["9.99"], 1.0),
        ("It is $1,299.00.", ["1299.00"], 1.0),
        ("It costs 1299 dollars.", ["1299.00"], 1.0),
        ("It costs $10.", ["9.99"], 0.0),  # a whole number never stands for a fractional price
        ("Rated 4.6 out of 5.", ["4.56"], 1.0),  # rounding to the written precision
        ("Rated 4.5 out of 5.", ["4.56"], 0.0),
        ("Minimum order: 48 units.", ["48"], 1.0),
        ("Minimum order: 480 units.", ["48"], 0.0),
        ("Warranty: 1 year warranty [7].", ["1 year warranty"], 1.0),
        ("It ships in 1-2 business days.", ["Ships in 1-2 business days"], 1.0),
        ("It is out of stock.", ["In Stock"], 0.0),
        ("No return policy applies.", ["No return policy"], 1.0),
        ("The brand is Essence.", ["essence"], 1.0),
        ("The product id is [9] and it costs 5.", ["9"], 0.0),  # citation ids are not values
    ],
)
def test_exact_match_normalises_money_and_numbers(
    answer: str, gold: list[str], expected: float
) -> None:
    assert metrics.exact_match(answer, gold) == expected


def test_token_f1_by_hand() -> None:
    # pred tokens: [cat, sat] (article dropped); gold: [cat, sat, down] -> P=1, R=2/3, F1=0.8.
    assert metrics.token_f1("The cat sat.", "cat sat down") == pytest.approx(0.8)
    assert metrics.token_f1("dog", "cat") == 0.0
    assert metrics.token_f1("", "") == 1.0


def test_lcs_and_rouge_l_by_hand() -> None:
    assert metrics.lcs_length("abcbdab", "bdcaba") == 4  # the textbook example (bcba)
    assert metrics.lcs_length([], ["x"]) == 0
    # pred [it, has, two, outlets]; gold [there, are, two, grounded, outlets]: LCS = 2
    # P = 2/4, R = 2/5 -> F = 2*0.5*0.4/0.9
    score = metrics.rouge_l("It has two outlets", "There are two grounded outlets")
    assert score == pytest.approx(2 * 0.5 * 0.4 / 0.9)
    assert metrics.best_over(["x y", "two outlets"], "two outlets", "rouge") == 1.0
    assert metrics.best_over([], "anything", "f1") == 0.0


def test_citations_parse_validity_and_correctness() -> None:
    text = "Costs $5 [12]. Also see [B00X, 13] and [12] again; [not an id]."
    assert metrics.parse_citations(text) == ["12", "B00X", "13"]
    assert metrics.strip_citations("Costs $5 [12].") == "Costs $5 ."
    # 12 retrieved and existing; B00X retrieved but not existing; 13 existing but not retrieved.
    assert metrics.citation_validity(["12", "B00X", "13"], ["12", "B00X"], ["12", "13"]) == (
        pytest.approx(1 / 3)
    )
    assert metrics.citation_validity([], ["1"], ["1"]) == 0.0
    assert metrics.citation_correct(["3", "12"], ["12"]) == 1.0
    assert metrics.citation_correct(["3"], ["12"]) == 0.0


def test_grounding_counts_supported_sentences_and_numbers() -> None:
    context = "Essence Mascara Lash Princess. Price 9.99. Warranty: 1 week warranty."
    answer = (
        "The Essence Mascara Lash Princess costs $9.99 [1]. "
        "It has a 2 year warranty. "
        "Astronauts love its titanium rocket fuel."
    )
    result = metrics.grounding(answer, context)
    # Sentence 1: essence mascara lash princess costs 9.99 -> 5/6 covered: supported.
    # Sentence 2: [2, year, warranty] -> 1/3: not. Sentence 3: nothing: not.
    assert result["sentences"] == pytest.approx(1 / 3)
    # Numbers: 9.99 (in context) and 2 (not); the citation [1] is not a number of the answer.
    assert result["numbers"] == pytest.approx(0.5)
    assert metrics.grounding("", context) == {"sentences": None, "numbers": None}


def test_refusal_precision_recall_and_false_refusals() -> None:
    # (refused, answerable): 2 unanswerable refused, 1 unanswerable answered,
    # 1 answerable refused, 2 answerable answered.
    pairs = [
        (True, False),
        (True, False),
        (False, False),
        (True, True),
        (False, True),
        (False, True),
    ]
    scores = run_stats.refusal_scores(pairs)
    assert scores["refusal_precision"] == pytest.approx(2 / 3)
    assert scores["refusal_recall"] == pytest.approx(2 / 3)
    assert scores["false_refusal_rate"] == pytest.approx(1 / 3)
    assert run_stats.refusal_scores([(False, True)])["refusal_recall"] is None


def test_percentiles_interpolate_like_numpy() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert run_stats.percentile(values, 50) == 25.0
    assert run_stats.percentile(values, 95) == pytest.approx(38.5)
    assert run_stats.percentile([], 50) is None
    assert run_stats.mean([1.0, None, 3.0]) == 2.0


def test_judge_reply_parsing() -> None:
    from evaluation.judge import parse_score

    assert parse_score("0.75") == 0.75
    assert parse_score("Score: 1") == 1.0
    assert parse_score("I'd say 0") == 0.0
    assert parse_score("7 out of 10") is None
    assert parse_score("") is None


def test_regression_gate_arithmetic() -> None:
    from evaluation.report import compare

    baseline = {"overall": {"exact": 0.90, "false_refusal_rate": 0.02, "latency_p95_ms": 100.0}}
    same = {"overall": {"exact": 0.88, "false_refusal_rate": 0.04, "latency_p95_ms": 900.0}}
    rows = {r["metric"]: r for r in compare(same, baseline, tolerance=0.03)}
    assert rows["exact"]["delta"] == pytest.approx(-0.02)
    assert not any(r["regressed"] for r in rows.values())  # latency is shown, never gated
    worse = {"overall": {"exact": 0.85, "false_refusal_rate": 0.06, "latency_p95_ms": 90.0}}
    regressed = {r["metric"] for r in compare(worse, baseline, tolerance=0.03) if r["regressed"]}
    assert regressed == {"exact", "false_refusal_rate"}

"""Per-retriever retrieval metrics, graded relevance and the gate's PR plot in evaluation."""

from __future__ import annotations

import json
from typing import cast

import pytest

from evaluation import report
from evaluation.datasets import DatasetError, Question, user_questions
from evaluation.gate_plot import curve_points, plot_gate_curve
from evaluation.runner import EvalClient, QuestionResult, product_metrics, score


class _Records:
    def record(self, product_id: str):
        return {"product_id": product_id}


CLIENT = cast(EvalClient, _Records())


def _question(**kwargs) -> Question:
    base = {"qid": "q1", "question": "red cases", "qtype": "search_tag"}
    return Question(**{**base, **kwargs})


def test_graded_ndcg_and_recall_per_ranking():
    q = _question(relevant_ids=("a", "b"), grades=(("a", 2.0), ("b", 2.0), ("c", 1.0)))
    m = product_metrics(["c", "a", "x", "b"], q)
    assert m["recall@1"] == 0.0 and m["recall@5"] == 1.0 and m["mrr"] == 0.5
    ideal = 2 + 2 / 1.584962500721156 + 1 / 2
    assert m["ndcg@10"] == pytest.approx(
        (1 + 2 / 1.584962500721156 + 2 / 2.321928094887362) / ideal
    )


def test_every_retriever_and_the_reranked_sources_are_scored():
    q = _question(relevant_ids=("a",))
    result = QuestionResult(
        question=q,
        backend="extractive",
        answer="A [a]",
        sources=[{"product_id": "b", "snippet": ""}, {"product_id": "a", "snippet": ""}],
        search_ids=["a", "b"],
        retriever_ids={"dense": ["b", "a"], "keyword": ["a"], "hybrid": ["a", "b"]},
        search_latency_ms=3.0,
    )
    v = score(result, CLIENT)
    assert v["dense:recall@1"] == 0.0 and v["keyword:recall@1"] == 1.0
    assert v["hybrid:mrr"] == 1.0 and v["reranked:mrr"] == 0.5
    refused = QuestionResult(
        question=q, backend="x", refused=True, search_ids=["a"], search_latency_ms=1.0
    )
    assert "reranked:mrr" not in score(refused, CLIENT)


def test_user_datasets_take_grades(tmp_path):
    path = tmp_path / "graded.jsonl"
    rows = [
        {"question": "red cases", "grades": {"1": 2, "2": 1, "3": 0}},
        {"question": "blue", "grades": {"4": "high"}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows[:1]) + "\n", encoding="utf-8")
    (q,) = user_questions(path)
    assert q.grades == (("1", 2.0), ("2", 1.0)) and q.relevant_ids == ("1",)
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"graded\.jsonl:2: 'grades' must map"):
        user_questions(path)


def _metrics(**overall) -> dict:
    return {"overall": {"n": 10, **overall}, "by_backend": {}, "by_type": {}}


def test_a_drop_in_any_retriever_is_a_regression():
    retrievers = {
        f"{v}:{m}": 0.8
        for v in ("dense", "keyword", "hybrid", "reranked")
        for m in ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10")
    }
    now = _metrics(**{**retrievers, "keyword:ndcg@10": 0.7})
    rows = report.compare(now, _metrics(**retrievers))
    regressed = [r["metric"] for r in rows if r["regressed"]]
    assert regressed == ["keyword:ndcg@10"]
    table = report.retriever_table(now["overall"])
    assert list(table) == ["dense", "keyword", "hybrid", "reranked"]
    assert table["keyword"]["ndcg@10"] == 0.7
    lines = report.retriever_lines(now)
    assert lines[0] == "## Retrieval per retriever (all)"


def test_gate_curve_points_and_plot(tmp_path):
    scores = [0.1, 0.2, 0.3, 0.9]
    unanswerable = [True, False, True, False]
    points = curve_points(scores, unanswerable)
    # threshold 0.2 refuses 0.1 (right); 0.3 adds 0.2 (wrong); 0.9 adds 0.3 (right).
    assert points[:3] == [(0.2, 0.5, 1.0), (0.3, 0.5, 0.5), (0.9, 1.0, 2 / 3)]
    path = plot_gate_curve(tmp_path / "gate.png", scores, unanswerable, operating={"x": (0.5, 0.5)})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

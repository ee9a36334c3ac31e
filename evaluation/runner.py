"""Asks every question to the Aisle API and records what came back, scored.

The HTTP calls live in evaluation/client.py (black-box: it never imports the service, so it
sees exactly what a shopper's client sees) and the verdicts in evaluation/scoring.py; their
public names are re-exported here, so ``evaluation.runner`` stays the one import for callers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from evaluation.client import ApiUnavailableError, EvalClient
from evaluation.questions import Question
from evaluation.scoring import (
    RECALL_KS,
    RETRIEVER_METRICS,
    RETRIEVER_VIEWS,
    RETRIEVERS,
    SEARCH_K,
    Judge,
    QuestionResult,
    cited_context,
    evidence_gains,
    flatten_record,
    graded_ndcg,
    product_metrics,
    score,
)

__all__ = [
    "RECALL_KS",
    "RETRIEVERS",
    "RETRIEVER_METRICS",
    "RETRIEVER_VIEWS",
    "SEARCH_K",
    "ApiUnavailableError",
    "EvalClient",
    "Judge",
    "QuestionResult",
    "ask",
    "cited_context",
    "evidence_gains",
    "flatten_record",
    "graded_ndcg",
    "product_metrics",
    "results_to_jsonl",
    "run_questions",
    "score",
]


def ask(
    client: EvalClient,
    question: Question,
    backend: str | None,
    judge: Judge | None = None,
    label: str | None = None,
) -> QuestionResult:
    """Search (for product-level retrieval metrics), then chat; then score the answer.

    ``backend`` None lets the API choose; ``label`` names it in the report.
    """
    result = QuestionResult(question=question, backend=backend or label or "default")
    if question.relevant_ids:
        data, elapsed, error = client.post(
            "/v1/search", {"query": question.question, "k": SEARCH_K}
        )
        result.search_latency_ms = elapsed
        if data is not None:
            result.search_ids = [str(r.get("product_id")) for r in data.get("results", [])]
        else:
            result.error = f"search: {error}"
        for retriever in RETRIEVERS:
            if retriever == "hybrid":
                found: dict[str, Any] | None = data
            else:
                request = {"query": question.question, "k": SEARCH_K, "retriever": retriever}
                found, _, _ = client.post("/v1/search", request)  # older APIs: 422, left out
            if found is not None:
                ids = [str(r.get("product_id")) for r in found.get("results", [])]
                result.retriever_ids[retriever] = ids
    body: dict[str, Any] = {"message": question.question}
    if backend:
        body["backend"] = backend
    data, elapsed, error = client.post("/v1/chat", body)
    result.latency_ms = elapsed
    if data is None:
        result.error = f"chat: {error}"
    else:
        result.answer = str(data.get("answer") or "")
        result.sources = [s for s in data.get("sources") or [] if isinstance(s, dict)]
        result.refused = bool(data.get("refused"))
        result.reason = data.get("reason")
        result.answered_by = data.get("backend")
        result.evidence_score = _evidence_score(data)
        result.timings_ms = {
            k: float(v)
            for k, v in (data.get("timings_ms") or {}).items()
            if isinstance(v, int | float)
        }
    result.verdicts = score(result, client, judge)
    return result


def _evidence_score(data: dict[str, Any]) -> float | None:
    """The best evidence score behind the answer, if the response carries one (top level or
    in ``plan``)."""
    plan = data.get("plan") if isinstance(data.get("plan"), dict) else {}
    value = data.get("evidence_score", (plan or {}).get("evidence_score"))
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def run_questions(
    client: EvalClient,
    questions: Sequence[Question],
    backends: Sequence[str | None],
    *,
    judge: Judge | None = None,
    on_result: Callable[[QuestionResult], None] | None = None,
) -> list[QuestionResult]:
    """Ask every question to every backend, one at a time (so latencies are not contended)."""
    results = []
    default = client.default_backend() if None in backends else None
    for backend in backends:
        for question in questions:
            result = ask(client, question, backend, judge, label=default)
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results


def results_to_jsonl(results: Sequence[QuestionResult]) -> str:
    return "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in results)

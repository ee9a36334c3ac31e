"""What one asked question records (:class:`QuestionResult`) and how it is scored: per-question
verdicts for retrieval, evidence, answer, citation and grounding metrics."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from evaluation import metrics
from evaluation.client import EvalClient
from evaluation.questions import Question

SEARCH_K = 10
RECALL_KS = (1, 3, 5, 10)
# Each retriever alone and the served hybrid search (POST /v1/search "retriever"); "reranked"
# is the product order of the chat sources. Their metrics are named "<retriever>:<metric>".
RETRIEVERS = ("dense", "keyword", "hybrid")
RETRIEVER_VIEWS = (*RETRIEVERS, "reranked")
RETRIEVER_METRICS = ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10")

# (question, answer, context) -> faithfulness in [0, 1] or None when the judge could not say.
Judge = Callable[[str, str, str], float | None]


@dataclass
class QuestionResult:
    """Everything recorded for one question asked to one backend (one line of results.jsonl)."""

    question: Question
    backend: str  # the backend asked for ("default" when the API chose)
    answer: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    refused: bool = False
    reason: str | None = None
    answered_by: str | None = None  # the backend the API reports (differs on fallback)
    search_ids: list[str] = field(default_factory=list)
    retriever_ids: dict[str, list[str]] = field(default_factory=dict)
    evidence_score: float | None = None  # the answerability gate's input, when the API says
    latency_ms: float | None = None
    search_latency_ms: float | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    verdicts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "qid": self.question.qid,
            "type": self.question.qtype,
            "question": self.question.question,
            "answerable": self.question.answerable,
            "product_id": self.question.product_id,
            "gold_values": list(self.question.gold_values),
            "gold_answers": list(self.question.gold_answers),
            "backend": self.backend,
            "answered_by": self.answered_by,
            "answer": self.answer,
            "sources": self.sources,
            "refused": self.refused,
            "reason": self.reason,
            "search_ids": self.search_ids,
            "retriever_ids": self.retriever_ids,
            "evidence_score": self.evidence_score,
            "latency_ms": self.latency_ms,
            "search_latency_ms": self.search_latency_ms,
            "timings_ms": self.timings_ms,
            "error": self.error,
            "verdicts": self.verdicts,
        }


def score(result: QuestionResult, client: EvalClient, judge: Judge | None = None) -> dict[str, Any]:
    """Per-question verdicts; a metric that does not apply to the question is left out."""
    q = result.question
    v: dict[str, Any] = {"answerable": q.answerable, "refused": result.refused}
    if result.error:
        v["error"] = 1.0
    if q.relevant_ids and result.search_latency_ms is not None:
        for k in RECALL_KS:
            v[f"recall@{k}"] = metrics.recall_at_k(result.search_ids, q.relevant_ids, k)
        v["mrr"] = metrics.reciprocal_rank(result.search_ids, q.relevant_ids)
        v["ndcg@5"] = metrics.binary_ndcg_at_k(result.search_ids, q.relevant_ids, 5)
        v["ndcg@10"] = metrics.binary_ndcg_at_k(result.search_ids, q.relevant_ids, 10)
        if q.grades:
            v["ndcg@5"] = graded_ndcg(result.search_ids, q, 5)
            v["ndcg@10"] = graded_ndcg(result.search_ids, q, 10)
        views = dict(result.retriever_ids)
        if not result.error and not result.refused and q.answerable:
            views["reranked"] = list(
                dict.fromkeys(str(s.get("product_id")) for s in result.sources)
            )
        for view, ids in views.items():
            v.update({f"{view}:{name}": value for name, value in product_metrics(ids, q).items()})
    if q.evidence and q.answerable:
        gains = evidence_gains(result.sources, q)
        v["evidence_gains"] = gains
        for k in range(1, SEARCH_K + 1):
            v[f"evidence_recall@{k}"] = metrics.graded_hit_at_k(gains, k, 2)
        v["evidence_helpful@5"] = metrics.graded_hit_at_k(gains, 5, 1)
        v["evidence_mrr"] = metrics.graded_reciprocal_rank(gains, 2)
        v["evidence_ndcg@5"] = metrics.ndcg_at_k(gains, [e.label for e in q.evidence], 5)
        # Sources show one snippet per product; an answer may quote more of them.
        quoted = evidence_gains([{"snippet": result.answer}], q)
        v["evidence_in_answer"] = 1.0 if quoted and quoted[0] >= 2 else 0.0
    cited = metrics.parse_citations(result.answer)
    v["cited"] = cited
    answered = not result.refused and not result.error and bool(result.answer.strip())
    if q.answerable and q.gold_values:
        v["exact"] = metrics.exact_match(result.answer, q.gold_values) if answered else 0.0
    if q.answerable and q.gold_answers:
        v["token_f1"] = metrics.best_over(q.gold_answers, result.answer, "f1") if answered else 0.0
        v["rouge_l"] = (
            metrics.best_over(q.gold_answers, result.answer, "rouge") if answered else 0.0
        )
    if answered and cited:
        retrieved = [str(s.get("product_id")) for s in result.sources]
        existing = [pid for pid in cited if client.record(pid) is not None]
        v["citation_validity"] = metrics.citation_validity(cited, retrieved, existing)
    if answered:
        v["has_citation"] = 1.0 if cited else 0.0
    if q.answerable and q.product_id:
        v["citation_correct"] = metrics.citation_correct(cited, q.relevant_ids) if answered else 0.0
        if "exact" in v:
            v["exact_and_cited"] = v["exact"] * v["citation_correct"]
    if answered:
        context = cited_context(result, client, cited)
        ground = metrics.grounding(result.answer, context)
        v["grounded_sentences"] = ground["sentences"]
        v["grounded_numbers"] = ground["numbers"]
        if judge is not None:
            v["judge_faithfulness"] = judge(q.question, result.answer, context)
    return {key: value for key, value in v.items() if value is not None}


def graded_ndcg(ranked: Sequence[str], question: Question, k: int) -> float:
    grades = dict(question.grades)
    return metrics.ndcg_at_k([grades.get(pid, 0.0) for pid in ranked], grades.values(), k)


def product_metrics(ranked: Sequence[str], question: Question) -> dict[str, float]:
    """:data:`RETRIEVER_METRICS` of one product ranking (graded nDCG when grades exist)."""
    relevant = question.relevant_ids
    out = {f"recall@{k}": metrics.recall_at_k(ranked, relevant, k) for k in (1, 5, 10)}
    out["mrr"] = metrics.reciprocal_rank(ranked, relevant)
    out["ndcg@10"] = (
        graded_ndcg(ranked, question, 10)
        if question.grades
        else metrics.binary_ndcg_at_k(ranked, relevant, 10)
    )
    return out


def cited_context(result: QuestionResult, client: EvalClient, cited: Sequence[str]) -> str:
    """The text the answer may rest on: the snippets and stored records of the cited products
    (of every source when the answer cites none)."""
    source_ids = [str(s.get("product_id")) for s in result.sources]
    wanted = [pid for pid in cited if pid] or source_ids
    parts = [
        f"{s.get('title', '')} {s.get('snippet', '')}"
        for s in result.sources
        if str(s.get("product_id")) in wanted
    ]
    for pid in dict.fromkeys(wanted):
        record = client.record(pid)
        if record is not None:
            parts.append(flatten_record(record))
    return "\n".join(parts)


def flatten_record(value: Any) -> str:
    """All keys (camelCase split into words) and values of a JSON record, as plain text."""
    words: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            for key, inner in item.items():
                words.append(re.sub(r"(?<=[a-z])(?=[A-Z])|_", " ", str(key)))
                if key == "record" and isinstance(inner, str):
                    with contextlib.suppress(ValueError):
                        inner = json.loads(inner)
                walk(inner)
        elif isinstance(item, list):
            for inner in item:
                walk(inner)
        elif item is not None:
            words.append(str(item))

    walk(value)
    return " ".join(words)


_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text.lower()).strip().rstrip(".…").strip()


def evidence_gains(sources: Sequence[dict[str, Any]], question: Question) -> list[float]:
    """Graded relevance of each source in order: the best label of the ePQA candidates whose
    text the source's snippet contains (or that contain a long enough snippet)."""
    candidates = [(_norm(e.text), e.label) for e in question.evidence if e.text.strip()]
    gains: list[float] = []
    for source in sources:
        snippet = _norm(str(source.get("snippet") or ""))
        best = 0
        for text, label in candidates:
            if not text or not snippet:
                continue
            contained = text in snippet or (len(text) > 60 and text[:60] in snippet)
            fragment = len(snippet) >= 30 and snippet in text
            if contained or fragment:
                best = max(best, label)
        gains.append(float(best))
    return gains

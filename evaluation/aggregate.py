"""Aggregate per-question verdicts into ``metrics.json`` (overall, per backend, per question
type) and compare it with a baseline's: the numbers the regression gate reads."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaluation import metrics
from evaluation.run_stats import mean, mean_of, percentile, refusal_scores
from evaluation.scoring import RETRIEVER_METRICS, RETRIEVER_VIEWS, SEARCH_K, QuestionResult

# Mean-of-verdict metrics, in report order.
MEAN_METRICS = (
    "recall@1",
    "recall@3",
    "recall@5",
    "recall@10",
    "mrr",
    "ndcg@5",
    "ndcg@10",
    "evidence_recall@1",
    "evidence_recall@5",
    "evidence_helpful@5",
    "evidence_mrr",
    "evidence_ndcg@5",
    "evidence_in_answer",
    "exact",
    "exact_and_cited",
    "token_f1",
    "rouge_l",
    "has_citation",
    "citation_validity",
    "citation_correct",
    "grounded_sentences",
    "grounded_numbers",
    "judge_faithfulness",
    "error",
    *(f"{view}:{name}" for view in RETRIEVER_VIEWS for name in RETRIEVER_METRICS),
)
LATENCY_METRICS = ("latency_p50_ms", "latency_p95_ms", "search_latency_p50_ms")
REFUSAL_METRICS = ("refusal_precision", "refusal_recall", "false_refusal_rate")
# Lower is better for these; everything else higher is better.
LOWER_IS_BETTER = {"false_refusal_rate", "error", *LATENCY_METRICS}
# The regression gate: absolute drop allowed before --compare fails. Latency is reported but
# never gated (it depends on the machine).
TOLERANCE = 0.03
HEADLINE = (
    "recall@5",
    "mrr",
    "evidence_recall@5",
    "evidence_in_answer",
    "exact",
    "exact_and_cited",
    "token_f1",
    "rouge_l",
    "citation_validity",
    "citation_correct",
    "grounded_sentences",
    "grounded_numbers",
    "refusal_precision",
    "refusal_recall",
    "false_refusal_rate",
    "latency_p50_ms",
    "latency_p95_ms",
)
# Also gated by --compare: each retriever alone, the served hybrid and the chat's reranking, so
# a regression in any one of them shows (the tables print them in their own section).
RETRIEVER_GATED = tuple(
    f"{view}:{name}" for view in RETRIEVER_VIEWS for name in ("recall@5", "ndcg@10")
)


def aggregate(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """Metric name -> value over ``results`` (metrics that apply to none are left out)."""
    if not results:
        return {"n": 0}
    verdicts = [r.verdicts for r in results]
    out: dict[str, Any] = {"n": len(results)}
    for name in MEAN_METRICS:
        value = mean_of(verdicts, name)
        if value is not None:
            out[name] = value
    out["error"] = sum(1.0 for v in verdicts if v.get("error")) / len(verdicts)
    refusal = refusal_scores((r.refused, r.question.answerable) for r in results)
    out.update({k: v for k, v in refusal.items() if v is not None})
    latencies = [r.latency_ms for r in results if r.latency_ms is not None]
    search = [r.search_latency_ms for r in results if r.search_latency_ms is not None]
    for key, values, q in (
        ("latency_p50_ms", latencies, 50),
        ("latency_p95_ms", latencies, 95),
        ("search_latency_p50_ms", search, 50),
    ):
        value = percentile(values, q)
        if value is not None:
            out[key] = value
    return out


def build_metrics(results: Sequence[QuestionResult], meta: dict[str, Any]) -> dict[str, Any]:
    """The whole ``metrics.json``: overall, per backend, per question type, per backend x type."""
    by_backend: dict[str, list[QuestionResult]] = defaultdict(list)
    by_type: dict[str, list[QuestionResult]] = defaultdict(list)
    for result in results:
        by_backend[result.backend].append(result)
        by_type[result.question.qtype].append(result)
    return {
        **meta,
        "tolerance": TOLERANCE,
        "overall": aggregate(results),
        "by_backend": {name: aggregate(rows) for name, rows in sorted(by_backend.items())},
        "by_type": {name: aggregate(rows) for name, rows in sorted(by_type.items())},
        "by_backend_type": {
            backend: {
                qtype: aggregate([r for r in rows if r.question.qtype == qtype])
                for qtype in sorted({r.question.qtype for r in rows})
            }
            for backend, rows in sorted(by_backend.items())
        },
        "recall_curve": _curves(results),
    }


def _curves(results: Sequence[QuestionResult]) -> dict[str, dict[str, list[float | None]]]:
    """Per backend: product Recall@k and evidence Recall@k for k = 1..SEARCH_K."""
    curves: dict[str, dict[str, list[float | None]]] = {}
    for backend in sorted({r.backend for r in results}):
        rows = [r.verdicts for r in results if r.backend == backend]
        product = []
        for k in range(1, SEARCH_K + 1):
            values = [
                metrics.recall_at_k(r.search_ids, r.question.relevant_ids, k)
                for r in results
                if r.backend == backend
                and r.question.relevant_ids
                and r.search_latency_ms is not None
            ]
            product.append(mean(values))
        evidence = [mean_of(rows, f"evidence_recall@{k}") for k in range(1, SEARCH_K + 1)]
        curves[backend] = {"product": product, "evidence": evidence}
    return curves


# --- comparison ------------------------------------------------------------------------------


def load_metrics(directory: Path) -> dict[str, Any]:
    """``metrics.json`` of a previous run or a baseline directory (or the file itself)."""
    path = directory / "metrics.json" if directory.is_dir() else directory
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("overall"), dict):
        raise ValueError(f"{path}:1: not an Aisle metrics.json (no 'overall')")
    return data


def compare(
    current: dict[str, Any], baseline: dict[str, Any], tolerance: float = TOLERANCE
) -> list[dict[str, Any]]:
    """Deltas of the headline metrics, overall and per backend present in both; a row regresses
    when the metric got worse by more than ``tolerance`` (latency is never gated)."""
    rows = []
    scopes = [("all", current["overall"], baseline["overall"])]
    for backend, row in current.get("by_backend", {}).items():
        if backend in baseline.get("by_backend", {}) and len(current.get("by_backend", {})) > 1:
            scopes.append((backend, row, baseline["by_backend"][backend]))
    for scope, now, before in scopes:
        for name in (*HEADLINE, *RETRIEVER_GATED):
            if name not in now or name not in before:
                continue
            delta = now[name] - before[name]
            worse = -delta if name not in LOWER_IS_BETTER else delta
            gated = not name.endswith("_ms")
            rows.append(
                {
                    "scope": scope,
                    "metric": name,
                    "baseline": before[name],
                    "current": now[name],
                    "delta": delta,
                    "regressed": gated and worse > tolerance + 1e-12,
                }
            )
    return rows

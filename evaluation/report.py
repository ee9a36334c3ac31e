"""Aggregate per-question verdicts and write ``report.md``, ``metrics.json``, ``results.jsonl``
and PNG plots; compare a run with a baseline."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaluation import metrics
from evaluation.runner import (
    RETRIEVER_METRICS,
    RETRIEVER_VIEWS,
    SEARCH_K,
    QuestionResult,
    results_to_jsonl,
)

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
        value = metrics.mean_of(verdicts, name)
        if value is not None:
            out[name] = value
    out["error"] = sum(1.0 for v in verdicts if v.get("error")) / len(verdicts)
    refusal = metrics.refusal_scores((r.refused, r.question.answerable) for r in results)
    out.update({k: v for k, v in refusal.items() if v is not None})
    latencies = [r.latency_ms for r in results if r.latency_ms is not None]
    search = [r.search_latency_ms for r in results if r.search_latency_ms is not None]
    for key, values, q in (
        ("latency_p50_ms", latencies, 50),
        ("latency_p95_ms", latencies, 95),
        ("search_latency_p50_ms", search, 50),
    ):
        value = metrics.percentile(values, q)
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
            product.append(metrics.mean(values))
        evidence = [metrics.mean_of(rows, f"evidence_recall@{k}") for k in range(1, SEARCH_K + 1)]
        curves[backend] = {"product": product, "evidence": evidence}
    return curves


def fmt(value: Any, name: str = "") -> str:
    if value is None:
        return "-"
    if name.endswith("_ms"):
        return f"{value:.0f}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _table(rows: dict[str, dict[str, Any]], columns: Sequence[str], first: str) -> list[str]:
    present = [c for c in columns if any(c in row for row in rows.values())]
    lines = [
        "| " + " | ".join([first, "n", *present]) + " |",
        "|" + "---|" * (len(present) + 2),
    ]
    for name, row in rows.items():
        cells = [name, str(row.get("n", 0)), *(fmt(row.get(c), c) for c in present)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_report(
    run_dir: Path,
    results: Sequence[QuestionResult],
    data: dict[str, Any],
    comparison: list[dict[str, Any]] | None = None,
) -> list[Path]:
    """Write every report file into ``run_dir``; returns their paths."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "results.jsonl").write_text(results_to_jsonl(results), encoding="utf-8")
    (run_dir / "metrics.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    plots = write_plots(run_dir, results, data)
    lines = [
        f"# Aisle evaluation: {data.get('dataset')}",
        "",
        f"- created: {data.get('created')}",
        f"- API: {data.get('api_url')}",
        f"- backends: {', '.join(data.get('backends', []))}",
        f"- questions: {data.get('questions')} (limit {data.get('limit')}, "
        f"fingerprint {data.get('fingerprint')})",
        "",
        "## Overall",
        "",
        *_table({"all": data["overall"]}, HEADLINE, "set"),
        "",
        "## Per backend",
        "",
        *_table(data["by_backend"], HEADLINE, "backend"),
        "",
        "## Per question type",
        "",
        *_table(data["by_type"], HEADLINE, "type"),
        "",
        *retriever_lines(data),
    ]
    for backend, types in data["by_backend_type"].items():
        if len(data["by_backend"]) > 1:
            lines += [f"### {backend} per question type", "", *_table(types, HEADLINE, "type"), ""]
    if comparison:
        lines += ["## Compared with the baseline", "", *compare_lines(comparison), ""]
    failures = [r for r in results if _failed(r)]
    if failures:
        lines += [
            "## Failures (first 30)",
            "",
            "| qid | type | question | answer | why |",
            "|---|---|---|---|---|",
        ]
        for r in failures[:30]:
            answer = " ".join(r.answer.split())[:160].replace("|", "\\|")
            text = r.question.question[:120].replace("|", "\\|")
            lines.append(
                f"| {r.question.qid} | {r.question.qtype} | {text} | {answer} | {_failed(r)} |"
            )
        lines.append("")
    lines += ["## Plots", "", *(f"![{p.stem}]({p.name})" for p in plots), ""]
    (run_dir / "report.md").write_text("\n".join(lines), encoding="utf-8")
    return [run_dir / "report.md", run_dir / "metrics.json", run_dir / "results.jsonl", *plots]


def retriever_table(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Retriever -> its product-retrieval metrics (dense, keyword, hybrid, reranked)."""
    return {
        view: {"n": row.get("n", 0), **{m: row[f"{view}:{m}"] for m in RETRIEVER_METRICS}}
        for view in RETRIEVER_VIEWS
        if all(f"{view}:{m}" in row for m in RETRIEVER_METRICS)
    }


def retriever_lines(data: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for scope, row in {"all": data["overall"], **data["by_backend"]}.items():
        table = retriever_table(row)
        if table and (scope == "all" or len(data["by_backend"]) > 1):
            lines += [f"## Retrieval per retriever ({scope})", ""]
            lines += [*_table(table, RETRIEVER_METRICS, "retriever"), ""]
    return lines


def _failed(result: QuestionResult) -> str:
    """Why a question counts as failed ('' when it did not)."""
    v = result.verdicts
    if v.get("error"):
        return result.error or "error"
    if not result.question.answerable:
        return "" if result.refused else "answered an unanswerable question"
    if result.refused:
        return f"refused: {result.reason or ''}"[:80]
    if v.get("exact") == 0.0:
        return "gold value not stated"
    if v.get("citation_correct") == 0.0:
        return "gold product not cited"
    return ""


def write_plots(
    run_dir: Path, results: Sequence[QuestionResult], data: dict[str, Any]
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")  # no display here, and never one in CI
    import matplotlib.pyplot as plt

    paths = []
    # Metrics per backend.
    names = [
        n
        for n in (
            "recall@5",
            "mrr",
            "evidence_recall@5",
            "exact",
            "exact_and_cited",
            "token_f1",
            "citation_correct",
            "grounded_sentences",
            "refusal_recall",
            "refusal_precision",
        )
        if any(n in row for row in data["by_backend"].values())
    ]
    backends = list(data["by_backend"])
    fig, ax = plt.subplots(figsize=(max(6, len(names) * 0.9), 4))
    width = 0.8 / max(1, len(backends))
    for i, backend in enumerate(backends):
        row = data["by_backend"][backend]
        ax.bar(
            [j + i * width for j in range(len(names))],
            [row.get(n) or 0.0 for n in names],
            width=width,
            label=backend,
        )
    ax.set_xticks([j + width * (len(backends) - 1) / 2 for j in range(len(names))])
    ax.set_xticklabels(names, rotation=35, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title("Metrics per backend")
    ax.legend()
    fig.tight_layout()
    paths.append(_save(fig, run_dir / "metrics_by_backend.png"))
    # Latency histogram.
    fig, ax = plt.subplots(figsize=(6, 4))
    for backend in backends:
        values = [
            r.latency_ms for r in results if r.backend == backend and r.latency_ms is not None
        ]
        ax.hist(values, bins=30, alpha=0.6, label=backend)
    ax.set_xlabel("chat latency (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Latency")
    ax.legend()
    fig.tight_layout()
    paths.append(_save(fig, run_dir / "latency_hist.png"))
    # Recall@k curves.
    fig, ax = plt.subplots(figsize=(6, 4))
    ks = list(range(1, SEARCH_K + 1))
    for backend, curves in data["recall_curve"].items():
        for kind, values in curves.items():
            if any(v is not None for v in values):
                ax.plot(
                    ks,
                    [v if v is not None else float("nan") for v in values],
                    marker="o",
                    label=f"{backend} {kind}",
                )
    ax.set_xlabel("k")
    ax.set_ylabel("Recall@k")
    ax.set_ylim(0, 1.05)
    ax.set_title("Recall@k")
    ax.legend()
    fig.tight_layout()
    paths.append(_save(fig, run_dir / "recall_at_k.png"))
    plt.close("all")
    gate = _gate_plot(run_dir, results, data)
    return [*paths, *([gate] if gate is not None else [])]


def _gate_plot(
    run_dir: Path, results: Sequence[QuestionResult], data: dict[str, Any]
) -> Path | None:
    """``gate_pr.png`` when the run has unanswerable questions: each backend's refusal
    precision/recall, the shipped evidence gate's curve on its training hold-out, and this
    run's own curve when the API reports evidence scores."""
    if not any(not r.question.answerable for r in results):
        return None
    from evaluation.gate_plot import plot_gate_curve

    operating = {
        f"{backend} (this run)": (row["refusal_recall"], row["refusal_precision"])
        for backend, row in data["by_backend"].items()
        if row.get("refusal_recall") is not None and row.get("refusal_precision") is not None
    }
    scored = [r for r in results if r.evidence_score is not None]
    try:
        from catalog.evidence import EvidenceScorer, ScorerError

        scorer: Any = EvidenceScorer.load()
    except (ImportError, ScorerError):
        scorer = None
    return plot_gate_curve(
        run_dir / "gate_pr.png",
        [float(r.evidence_score or 0.0) for r in scored],
        [not r.question.answerable for r in scored],
        scorer,
        operating=operating,
    )


def _save(fig: Any, path: Path) -> Path:
    fig.savefig(path, dpi=100)
    return path


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


def compare_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| scope | metric | baseline | current | delta | |", "|---|---|---|---|---|---|"]
    for row in rows:
        name = row["metric"]
        lines.append(
            f"| {row['scope']} | {name} | {fmt(row['baseline'], name)} | "
            f"{fmt(row['current'], name)} | {row['delta']:+.3f} | "
            f"{'REGRESSED' if row['regressed'] else ''} |"
        )
    return lines

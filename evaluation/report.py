"""Write a run's ``report.md``, ``metrics.json``, ``results.jsonl`` and PNG plots.

The numbers come from evaluation/aggregate.py (which also compares a run with a baseline) and
the plots from evaluation/plots.py; their public names are re-exported here, so
``evaluation.report`` stays the one import for callers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaluation.aggregate import (
    HEADLINE,
    LATENCY_METRICS,
    LOWER_IS_BETTER,
    MEAN_METRICS,
    REFUSAL_METRICS,
    RETRIEVER_GATED,
    TOLERANCE,
    aggregate,
    build_metrics,
    compare,
    load_metrics,
)
from evaluation.plots import write_plots
from evaluation.runner import results_to_jsonl
from evaluation.scoring import RETRIEVER_METRICS, RETRIEVER_VIEWS, SEARCH_K, QuestionResult

__all__ = [
    "HEADLINE",
    "LATENCY_METRICS",
    "LOWER_IS_BETTER",
    "MEAN_METRICS",
    "REFUSAL_METRICS",
    "RETRIEVER_GATED",
    "RETRIEVER_METRICS",
    "RETRIEVER_VIEWS",
    "SEARCH_K",
    "TOLERANCE",
    "QuestionResult",
    "aggregate",
    "build_metrics",
    "compare",
    "compare_lines",
    "fmt",
    "load_metrics",
    "results_to_jsonl",
    "retriever_lines",
    "retriever_table",
    "write_plots",
    "write_report",
]


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

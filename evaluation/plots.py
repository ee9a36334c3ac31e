"""The PNG plots of a run: metrics per backend, latency, Recall@k and (when the run has
unanswerable questions) the answerability gate's precision/recall curve."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaluation.scoring import SEARCH_K, QuestionResult


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

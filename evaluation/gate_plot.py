"""The answerability gate's precision/recall curve as a PNG (refusal precision vs recall)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def curve_points(
    scores: Sequence[float], unanswerable: Sequence[bool]
) -> list[tuple[float, float, float]]:
    """(threshold, refusal recall, refusal precision) for every distinct score as threshold:
    a question is refused when its best evidence score is below the threshold."""
    total = sum(1 for u in unanswerable if u)
    points = []
    for threshold in [*sorted(set(scores)), float("inf")]:
        refused = [u for s, u in zip(scores, unanswerable, strict=True) if s < threshold]
        if not refused:
            continue
        hits = sum(1 for u in refused if u)
        points.append((threshold, hits / total if total else 0.0, hits / len(refused)))
    return points


def plot_gate_curve(
    path: Path,
    scores: Sequence[float],
    unanswerable: Sequence[bool],
    scorer: Any = None,
    *,
    heldout: Sequence[dict[str, float]] | None = None,
    operating: dict[str, tuple[float, float]] | None = None,
    label: str = "this run",
) -> Path:
    """Draw the curve of ``scores`` (and the training hold-out's, and operating points)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    if scores:
        points = curve_points(scores, unanswerable)
        ax.plot([p[1] for p in points], [p[2] for p in points], label=label, marker=".")
    curve = heldout
    if curve is None and scorer is not None:
        curve = scorer.gate_curve
    if curve:
        ax.plot(
            [p["refusal_recall"] for p in curve],
            [p["refusal_precision"] for p in curve],
            linestyle="--",
            label="training hold-out (hetPQA)",
        )
    if scorer is not None and not scores:
        held = scorer.gate.heldout
        ax.scatter(
            [held["refusal_recall"]],
            [held["refusal_precision"]],
            color="red",
            zorder=3,
            label=f"gate threshold {scorer.threshold:.3f} (hold-out)",
        )
    if scorer is not None and scores:
        threshold = scorer.threshold
        refused = [u for s, u in zip(scores, unanswerable, strict=True) if s < threshold]
        total = sum(1 for u in unanswerable if u) or 1
        if refused:
            hits = sum(1 for u in refused if u)
            ax.scatter(
                [hits / total],
                [hits / len(refused)],
                color="red",
                zorder=3,
                label=f"gate threshold {threshold:.3f}",
            )
    for name, (recall, precision) in (operating or {}).items():
        ax.scatter([recall], [precision], marker="s", zorder=3, label=name)
    ax.set_xlabel("refusal recall (unanswerable questions refused)")
    ax.set_ylabel("refusal precision")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_title("Answerability gate: precision / recall")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

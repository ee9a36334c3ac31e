"""Figures over a whole run (refusal rates, percentiles, means), apart from per-question metrics."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence


def refusal_scores(pairs: Iterable[tuple[bool, bool]]) -> dict[str, float | None]:
    """From (refused, answerable) pairs: precision and recall of refusing the unanswerable, and
    the false-refusal rate on answerable questions. ``None`` where the denominator is empty."""
    tp = fp = fn = answerable = 0
    for refused, is_answerable in pairs:
        if is_answerable:
            answerable += 1
            fp += refused
        else:
            tp += refused
            fn += not refused
    return {
        "refusal_precision": tp / (tp + fp) if tp + fp else None,
        "refusal_recall": tp / (tp + fn) if tp + fn else None,
        "false_refusal_rate": fp / answerable if answerable else None,
    }


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (``q`` in 0..100), like numpy's default."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def mean_of(rows: Iterable[Mapping[str, object]], key: str) -> float | None:
    return mean(v if isinstance(v, int | float) else None for v in (row.get(key) for row in rows))

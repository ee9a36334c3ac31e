"""Fusing the dense and the keyword ranking into one ranking of products (and of chunks).

Two methods, chosen by measurement (``bench/retrieval.py``; settings in ``RetrievalSettings``):

* ``rrf``: weighted reciprocal-rank fusion. Each retriever ranks products by their best chunk;
  a product earns ``weight / (rrf_k + rank)`` from each. Ranks ignore how far apart the scores
  are, so a retriever that is sure counts as much as one that is guessing.
* ``linear``: a convex combination of per-query normalised scores,
  ``dense_weight * dense + (1 - dense_weight) * keyword``. Min-max normalisation maps each
  retriever's candidates to [0, 1]; a product one retriever did not return gets 0 from it.
  This keeps the score gaps (a BM25 hit far ahead of the rest stays far ahead).

Scores are "higher is better" and comparable within one query only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from catalog.models import ScoredChunk

if TYPE_CHECKING:
    from aisle.settings import RetrievalSettings

FusionMethod = Literal["rrf", "linear"]
Normalisation = Literal["minmax", "zscore"]


@dataclass(frozen=True)
class FusionConfig:
    """How to fuse; ``dense_weight`` in [0, 1] (the keyword side gets the rest)."""

    method: FusionMethod = "rrf"
    dense_weight: float = 0.5
    rrf_k: int = 60
    normalisation: Normalisation = "minmax"


def fusion_config(retrieval: RetrievalSettings) -> FusionConfig:
    """The fusion the settings name (``AISLE_RETRIEVAL__FUSION``, ``__DENSE_WEIGHT``...)."""
    return FusionConfig(
        method=retrieval.fusion,
        dense_weight=retrieval.dense_weight,
        rrf_k=retrieval.rrf_k,
        normalisation=retrieval.normalisation,
    )


def best_per_product(chunks: Iterable[ScoredChunk]) -> dict[str, float]:
    """Each product's best chunk score, products in the order of their best chunk."""
    best: dict[str, float] = {}
    for chunk in chunks:
        if chunk.product_id not in best or chunk.score > best[chunk.product_id]:
            best[chunk.product_id] = chunk.score
    return dict(sorted(best.items(), key=lambda item: -item[1]))


def fuse_scores(
    dense: dict[str, float], keyword: dict[str, float], config: FusionConfig
) -> dict[str, float]:
    """Fused score per key (product or chunk id), best first.

    ``dense`` and ``keyword`` map keys to the retriever's raw scores (higher is better).
    """
    weight = min(1.0, max(0.0, config.dense_weight))
    if config.method == "rrf":
        parts = [(_ranks(dense), weight), (_ranks(keyword), 1.0 - weight)]
        fused: dict[str, float] = {}
        for ranks, w in parts:
            for key, rank in ranks.items():
                fused[key] = fused.get(key, 0.0) + w / (config.rrf_k + rank)
        # 1.0 means first in both retrievers (whatever the weights).
        scale = 1.0 / (config.rrf_k + 1)
        fused = {key: value / scale for key, value in fused.items()}
    else:
        norm_dense = normalise(dense, config.normalisation)
        norm_keyword = normalise(keyword, config.normalisation)
        fused = {
            key: weight * norm_dense.get(key, 0.0) + (1.0 - weight) * norm_keyword.get(key, 0.0)
            for key in {**norm_dense, **norm_keyword}
        }
    return dict(sorted(fused.items(), key=lambda item: (-item[1], item[0])))


def fuse_products(
    dense: Sequence[ScoredChunk], keyword: Sequence[ScoredChunk], config: FusionConfig
) -> dict[str, float]:
    """Products ranked by the fusion of both retrievers' best-chunk scores, best first."""
    return fuse_scores(best_per_product(dense), best_per_product(keyword), config)


def fuse_chunks(
    dense: Sequence[ScoredChunk], keyword: Sequence[ScoredChunk], config: FusionConfig
) -> dict[str, float]:
    """Chunks ranked by the same fusion at chunk level (a chunk both found collects both)."""
    return fuse_scores(
        {chunk.chunk_id: chunk.score for chunk in dense},
        {chunk.chunk_id: chunk.score for chunk in keyword},
        config,
    )


def normalise(scores: dict[str, float], method: Normalisation = "minmax") -> dict[str, float]:
    """Scores mapped to [0, 1] within this candidate set (one candidate gets 1)."""
    if not scores:
        return {}
    values = list(scores.values())
    if method == "zscore":
        mean = sum(values) / len(values)
        spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
        if spread == 0:
            return dict.fromkeys(scores, 1.0)
        # Three standard deviations either side span [0, 1]; clipped beyond.
        return {k: min(1.0, max(0.0, 0.5 + (v - mean) / (6 * spread))) for k, v in scores.items()}
    low, high = min(values), max(values)
    if high == low:
        return dict.fromkeys(scores, 1.0)
    return {key: (value - low) / (high - low) for key, value in scores.items()}


def _ranks(scores: dict[str, float]) -> dict[str, int]:
    ordered = sorted(scores.items(), key=lambda item: -item[1])
    return {key: rank for rank, (key, _) in enumerate(ordered, start=1)}

"""Fusing dense and keyword rankings (catalog/fusion.py)."""

from __future__ import annotations

import pytest

from catalog.fusion import FusionConfig, best_per_product, fuse_chunks, fuse_products, normalise
from catalog.models import ScoredChunk


def _chunk(product: str, n: int, score: float) -> ScoredChunk:
    return ScoredChunk(
        chunk_id=f"{product}::core::{n}", product_id=product, text="", metadata={}, score=score
    )


DENSE = [_chunk("a", 0, 0.80), _chunk("b", 0, 0.78), _chunk("a", 1, 0.70), _chunk("c", 0, 0.40)]
KEYWORD = [_chunk("c", 0, 20.0), _chunk("b", 0, 3.0), _chunk("d", 0, 2.5)]


def test_best_chunk_per_product_in_order():
    assert best_per_product(DENSE) == {"a": 0.80, "b": 0.78, "c": 0.40}


def test_equal_weight_rrf_is_the_previous_fusion():
    fused = fuse_products(DENSE, KEYWORD, FusionConfig("rrf", 0.5, 60))
    # b: 2nd in both; c: 3rd and 1st; a: 1st in dense only; d: 3rd in keyword only.
    expected = {
        "b": (1 / 62 + 1 / 62) / 2 * 61,
        "c": (1 / 63 + 1 / 61) / 2 * 61,
        "a": (1 / 61) / 2 * 61,
        "d": (1 / 63) / 2 * 61,
    }
    assert list(fused) == ["c", "b", "a", "d"]
    assert fused == pytest.approx(expected)


def test_linear_fusion_keeps_score_gaps():
    fused = fuse_products(DENSE, KEYWORD, FusionConfig("linear", 0.4, normalisation="minmax"))
    # dense min-max over 0.40..0.80, keyword over 2.5..20: c's keyword lead beats b's
    # near-top places in both, which RRF ranks first.
    assert fused == pytest.approx(
        {"c": 0.6, "a": 0.4, "b": 0.4 * 0.95 + 0.6 * 0.5 / 17.5, "d": 0.0}
    )
    assert list(fused) == ["c", "a", "b", "d"]
    assert list(fuse_products(DENSE, KEYWORD, FusionConfig("rrf", 0.4)))[:2] == ["c", "b"]


@pytest.mark.parametrize(("weight", "first"), [(1.0, "a"), (0.0, "c")])
def test_a_full_weight_follows_one_retriever(weight, first):
    for method in ("rrf", "linear"):
        assert next(iter(fuse_products(DENSE, KEYWORD, FusionConfig(method, weight)))) == first


def test_chunks_found_by_both_collect_both():
    fused = fuse_chunks(DENSE, KEYWORD, FusionConfig("linear", 0.5))
    assert fused["b::core::0"] > fused["a::core::1"]
    assert set(fused) == {"a::core::0", "a::core::1", "b::core::0", "c::core::0", "d::core::0"}


def test_normalisation_edge_cases():
    assert normalise({}) == {}
    assert normalise({"x": 3.0, "y": 3.0}) == {"x": 1.0, "y": 1.0}
    z = normalise({"x": 0.0, "y": 1.0, "z": 100.0}, "zscore")
    assert 0.0 <= z["x"] < z["y"] < z["z"] <= 1.0

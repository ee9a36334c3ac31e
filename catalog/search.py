"""Hybrid retrieval: dense (Chroma) and BM25 fused by reciprocal rank, one hit per product.

Filters go down into Chroma's ``where`` and are applied to BM25 candidates with the same test
(``Filters.matches``), so both retrievers see the same subset of the catalog.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog.keyword import KeywordIndex
from catalog.models import ChunkKind, Filters, ProductHit, ScoredChunk

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from aisle.settings import RetrievalSettings
    from catalog.store import ProductStore

# Most products have a handful of chunks; fetch enough of them to fill k products.
_CHUNKS_PER_PRODUCT = 3


def core_chunk_id(product_id: str) -> str:
    return f"{product_id}::{ChunkKind.CORE.value}::0"


class KeywordIndexHandle:
    """The current BM25 index: reloaded when ingestion saved a new generation.

    When nothing is saved yet, the index is built from the store (kept in memory only:
    ingestion owns the saved copy).
    """

    def __init__(self, keyword_dir: Path, store: ProductStore) -> None:
        self.keyword_dir = Path(keyword_dir)
        self._store = store
        self._index: KeywordIndex | None = None
        self._generation: str | None = None
        self._lock = threading.Lock()

    def get(self) -> KeywordIndex:
        saved = KeywordIndex.saved_generation(self.keyword_dir)
        index = self._index
        if index is not None and saved == self._generation:
            return index
        with self._lock:
            if self._index is not None and saved == self._generation:
                return self._index
            loaded = KeywordIndex.load(self.keyword_dir) if saved is not None else None
            if loaded is None:
                loaded = KeywordIndex.build(self._store.iter_chunks())
            self._index, self._generation = loaded, saved
            return loaded


class HybridSearcher:
    """Dense + keyword search over the store, fused by reciprocal rank and grouped by product."""

    def __init__(
        self,
        store: ProductStore,
        embeddings: Embeddings,
        keyword: KeywordIndexHandle,
        settings: RetrievalSettings,
    ) -> None:
        self.store = store
        self.embeddings = embeddings
        self.keyword = keyword
        self.settings = settings

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[ProductHit]:
        """The ``k`` best products for ``query`` among those matching ``filters``."""
        if filters is not None and filters.is_empty():
            filters = None
        candidates = max(self.settings.candidates, k * _CHUNKS_PER_PRODUCT)
        dense: list[ScoredChunk] = []
        if query.strip():
            vector = self.embeddings.embed_query(query)
            dense = self.store.query(vector, candidates, filters)
        sparse = self.keyword.get().search(query, candidates, filters)
        return self._fuse(dense, sparse, k)

    def products(self, product_ids: Sequence[str]) -> list[ProductHit]:
        """Hits for named products (e.g. carried over from earlier turns), in the given order."""
        chunks = {
            chunk.product_id: chunk
            for chunk in self.store.get_chunks(
                [core_chunk_id(product_id) for product_id in dict.fromkeys(product_ids)]
            )
        }
        hits = []
        for product_id in dict.fromkeys(product_ids):
            chunk = chunks.get(product_id)
            if chunk is not None:
                hits.append(_hit(product_id, chunk.metadata, [chunk], score=0.0, similarity=None))
        return hits

    # -- internals --------------------------------------------------------------------------
    def _fuse(
        self, dense: list[ScoredChunk], sparse: list[ScoredChunk], k: int
    ) -> list[ProductHit]:
        rrf_k = self.settings.rrf_k
        # Chunk-level fusion: a chunk found by both retrievers collects both contributions.
        fused: dict[str, float] = {}
        chunks: dict[str, ScoredChunk] = {}
        for ranking in (dense, sparse):
            for rank, chunk in enumerate(ranking, start=1):
                fused[chunk.chunk_id] = fused.get(chunk.chunk_id, 0.0) + 1.0 / (rrf_k + rank)
                # Dense chunks carry the full metadata (the core one its record): keep them.
                chunks.setdefault(chunk.chunk_id, chunk)
        similarity: dict[str, float] = {}
        for chunk in dense:
            similarity[chunk.product_id] = max(similarity.get(chunk.product_id, -1.0), chunk.score)

        # Product-level fusion: each retriever ranks products by their best chunk.
        product_score: dict[str, float] = {}
        for ranking in (dense, sparse):
            seen: set[str] = set()
            for chunk in ranking:
                if chunk.product_id in seen:
                    continue
                seen.add(chunk.product_id)
                rank = len(seen)
                product_score[chunk.product_id] = product_score.get(chunk.product_id, 0.0) + 1.0 / (
                    rrf_k + rank
                )
        # 1.0 means first in both retrievers.
        scale = 2.0 / (rrf_k + 1)
        ranked = sorted(product_score, key=lambda pid: -product_score[pid])[:k]

        by_product: dict[str, list[ScoredChunk]] = {pid: [] for pid in ranked}
        for chunk_id, chunk in chunks.items():
            if chunk.product_id in by_product:
                by_product[chunk.product_id].append(
                    chunk.model_copy(update={"score": fused[chunk_id] / scale})
                )

        core: dict[str, dict[str, Any]] = {}
        for pid, product_chunks in by_product.items():
            for chunk in product_chunks:
                if chunk.chunk_id == core_chunk_id(pid) and "record" in chunk.metadata:
                    core[pid] = chunk.metadata
        missing = [core_chunk_id(pid) for pid in ranked if pid not in core]
        for chunk in self.store.get_chunks(missing):  # one round trip for all of them
            core[chunk.product_id] = chunk.metadata

        hits = []
        for pid in ranked:
            product_chunks = sorted(by_product[pid], key=lambda chunk: -chunk.score)
            metadata = core.get(pid) or product_chunks[0].metadata
            hits.append(
                _hit(
                    pid,
                    metadata,
                    product_chunks,
                    score=product_score[pid] / scale,
                    similarity=similarity.get(pid),
                )
            )
        return hits


def _hit(
    product_id: str,
    metadata: dict[str, Any],
    chunks: list[ScoredChunk],
    *,
    score: float,
    similarity: float | None,
) -> ProductHit:
    return ProductHit(
        product_id=product_id,
        title=str(metadata.get("title") or product_id),
        score=round(score, 6),
        metadata=dict(metadata),
        chunks=chunks,
        similarity=similarity,
    )

"""Hybrid retrieval: dense (Chroma) and BM25 fused (catalog/fusion.py), one hit per product.

Filters are tested on the dense candidates and on BM25's with the same product facts
(vectorised in ``catalog.facts``), so both retrievers see the same subset of the catalog.

Consistency while an ingest rewrites the store: both retrievers give candidate ids (dense from
the store as it is, keyword from the index of the generation this process holds); the products
ranked first are then read from the store, and a chunk or product that is gone, or whose
stored facts no longer pass the filters, is dropped and the ranking made again. What is shown
is the stored version, so shoppers never get a product that ``GET /v1/products/{id}`` cannot
serve, nor an old price beside a new one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from catalog.digests import chunk_product_id
from catalog.fusion import fuse_chunks, fuse_products, fusion_config
from catalog.models import Filters, ProductHit, ScoredChunk
from catalog.views import KeywordIndexHandle, SearchView, core_chunk_id

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from aisle.settings import RetrievalSettings
    from catalog.store import ProductStore

__all__ = ["HybridSearcher", "KeywordIndexHandle", "SearchView", "core_chunk_id"]

Retriever = Literal["hybrid", "dense", "keyword"]
# Most products have a handful of chunks; fetch enough of them to fill k products.
_CHUNKS_PER_PRODUCT = 3
# A filtered dense search tests this many unfiltered neighbours per wanted chunk first.
FILTER_POOL = 10
# A selective filter scores up to this many allowed chunks from their stored vectors, searches
# up to _MAX_IDS of them by id, and leaves more to Chroma's where (measured at 42k chunks).
_EXACT_IDS = 200
_MAX_IDS = 20_000
# Rankings made again after dropping what an ingest removed meanwhile, at most.
_MAX_ROUNDS = 4


class HybridSearcher:
    """Dense + keyword search over the store, fused (``RetrievalSettings.fusion``) and grouped
    by product."""

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

    def search(
        self,
        query: str,
        k: int,
        filters: Filters | None = None,
        *,
        retriever: Retriever = "hybrid",
        among: Collection[str] | None = None,
    ) -> list[ProductHit]:
        """The ``k`` best products for ``query`` among those matching ``filters`` (and, given
        ``among``, among those product ids); ``retriever`` "dense" or "keyword" uses that one
        alone (to measure each).

        Both retrievers give ids and scores only; the fusion ranks products on those, and the
        store is read once, for the chunks of the ``k`` products ranked first (fetching every
        candidate's text and metadata cost more than the searches themselves)."""
        if filters is not None and filters.is_empty():
            filters = None
        candidates = max(self.settings.candidates, k * _CHUNKS_PER_PRODUCT)
        dense: list[ScoredChunk] = []
        view = self.keyword.view()
        if query.strip() and retriever != "keyword":
            vector = self.embeddings.embed_query(query)
            dense = self._dense(vector, candidates, filters, view, among)
        sparse: list[ScoredChunk] = []
        if retriever != "dense":
            mask = view.keyword_mask(filters, among)
            sparse = view.index.search(query, candidates, filters, mask=mask)
        return self._ranked(dense, sparse, filters, k)

    def _dense(
        self,
        vector: Sequence[float],
        k: int,
        filters: Filters | None,
        view: SearchView,
        among: Collection[str] | None = None,
    ) -> list[ScoredChunk]:
        """The ``k`` nearest chunks (ids and scores) that meet ``filters``. The nearest
        ``k * FILTER_POOL`` are taken unfiltered and tested against this generation's product
        facts; a filter too selective for that pool searches only the chunks it allows (by id:
        a few ms, where Chroma's metadata ``where`` scans for hundreds at 40k chunks)."""
        if filters is None and among is None:
            return _candidates(self.store.nearest_ids(vector, k))
        pool = self.store.nearest_ids(vector, k * FILTER_POOL)
        allowed = view.facts.mask(filters, among)
        rows = view.facts.rows_of([chunk_product_id(chunk_id) for chunk_id, _ in pool])
        kept = [pair for pair, row in zip(pool, rows, strict=True) if row >= 0 and allowed[row]]
        if len(kept) >= k or len(pool) < k * FILTER_POOL:
            return _candidates(kept[:k])
        mask = view.keyword_mask(filters, among)
        ids = [] if mask is None else [view.index.ids[i] for i in np.flatnonzero(mask)]
        if not ids:
            return []
        if len(ids) <= _EXACT_IDS:
            return _candidates(self.store.similarities(vector, ids)[:k])
        if len(ids) > _MAX_IDS and among is None:  # Chroma's where cannot say ``among``
            return self.store.query(vector, k, filters)
        return _candidates(self.store.nearest_ids(vector, k, within=ids))

    def _ranked(
        self,
        dense: list[ScoredChunk],
        sparse: list[ScoredChunk],
        filters: Filters | None,
        k: int,
    ) -> list[ProductHit]:
        """Fused products, each checked against the store as it is now: a product whose core
        chunk is gone or whose stored facts fail ``filters``, or a chunk that is gone, is
        dropped and the ranking made again without it."""
        dropped: set[str] = set()
        for _ in range(_MAX_ROUNDS):
            dense = [chunk for chunk in dense if chunk.chunk_id not in dropped]
            sparse = [chunk for chunk in sparse if chunk.chunk_id not in dropped]
            product_score = fuse_products(dense, sparse, fusion_config(self.settings))
            ranked = list(product_score)[:k]
            found: dict[str, list[ScoredChunk]] = {pid: [] for pid in ranked}
            for chunk in (*dense, *sparse):
                if chunk.product_id in found:
                    found[chunk.product_id].append(chunk)
            wanted = [c.chunk_id for chunks in found.values() for c in chunks]
            stored = {
                chunk.chunk_id: chunk
                for chunk in self.store.get_chunks(wanted + [core_chunk_id(p) for p in ranked])
            }
            gone = {chunk_id for chunk_id in wanted if chunk_id not in stored}
            for pid in ranked:
                core = stored.get(core_chunk_id(pid))
                if (
                    core is None
                    or "record" not in core.metadata
                    or (filters is not None and not filters.matches(core.metadata))
                ):
                    gone.update(chunk.chunk_id for chunk in found[pid])
            if not gone:
                return self._hits(ranked, product_score, dense, sparse, stored)
            dropped |= gone
        return []  # the store changes faster than it can be read: nothing stable to show

    def _hits(
        self,
        ranked: list[str],
        product_score: dict[str, float],
        dense: list[ScoredChunk],
        sparse: list[ScoredChunk],
        stored: dict[str, ScoredChunk],
    ) -> list[ProductHit]:
        # Chunk-level fusion orders a product's chunks; a chunk both found collects both.
        fused = fuse_chunks(dense, sparse, fusion_config(self.settings))
        similarity: dict[str, float] = {}
        for chunk in dense:
            similarity[chunk.product_id] = max(similarity.get(chunk.product_id, -1.0), chunk.score)
        chosen = set(ranked)
        by_product: dict[str, dict[str, ScoredChunk]] = {pid: {} for pid in ranked}
        for chunk in (*dense, *sparse):
            if chunk.product_id in chosen and chunk.chunk_id in stored:
                by_product[chunk.product_id].setdefault(
                    chunk.chunk_id,
                    stored[chunk.chunk_id].model_copy(update={"score": fused[chunk.chunk_id]}),
                )
        hits = []
        for pid in ranked:
            chunks = sorted(by_product[pid].values(), key=lambda chunk: -chunk.score)
            metadata = stored[core_chunk_id(pid)].metadata
            score = product_score[pid]
            hits.append(_hit(pid, metadata, chunks, score=score, similarity=similarity.get(pid)))
        return hits

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


def _candidates(pairs: Sequence[tuple[str, float]]) -> list[ScoredChunk]:
    """Dense candidates as ids and scores only (text and metadata are read for the winners)."""
    return [
        ScoredChunk.model_construct(
            chunk_id=chunk_id,
            product_id=chunk_product_id(chunk_id),
            text="",
            metadata={},
            score=score,
        )
        for chunk_id, score in pairs
    ]

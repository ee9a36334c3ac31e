"""Hybrid retrieval: dense (Chroma) and BM25 fused (catalog/fusion.py), one hit per product.

Filters go down into Chroma's ``where`` and are applied to BM25 candidates with the same test
(vectorised in ``catalog.facts``), so both retrievers see the same subset of the catalog.

Consistency while an ingest rewrites the store: dense hits come from the store as it is;
keyword hits come from an index of the generation this process holds, so each one is checked
against the store before it is used: a chunk or product that is gone is dropped, one that
changed is replaced by its stored version (and filtered again). Shoppers never get a product
that ``GET /v1/products/{id}`` cannot serve, nor an old price beside a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from catalog.fusion import fuse_chunks, fuse_products, fusion_config
from catalog.models import Filters, ProductHit, ScoredChunk
from catalog.views import KeywordIndexHandle, SearchView, core_chunk_id

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from aisle.settings import RetrievalSettings
    from catalog.store import ProductStore

log = logging.getLogger(__name__)

__all__ = ["HybridSearcher", "KeywordIndexHandle", "SearchView", "core_chunk_id"]

Retriever = Literal["hybrid", "dense", "keyword"]
# Most products have a handful of chunks; fetch enough of them to fill k products.
_CHUNKS_PER_PRODUCT = 3
# A filtered dense search tests this many unfiltered neighbours per wanted chunk first.
FILTER_POOL = 10


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
    ) -> list[ProductHit]:
        """The ``k`` best products for ``query`` among those matching ``filters``; ``retriever``
        "dense" or "keyword" uses that one alone (to measure each)."""
        if filters is not None and filters.is_empty():
            filters = None
        candidates = max(self.settings.candidates, k * _CHUNKS_PER_PRODUCT)
        dense: list[ScoredChunk] = []
        view = self.keyword.view()
        if query.strip() and retriever != "keyword":
            vector = self.embeddings.embed_query(query)
            dense = self._dense(vector, candidates, filters, view)
        sparse: list[ScoredChunk] = []
        if retriever != "dense":
            sparse = view.index.search(query, candidates, filters, mask=view.keyword_mask(filters))
        hits = self._fuse(dense, self._live(sparse, filters), k)
        # A product deleted between the dense query and the record fetch has no record left.
        return [hit for hit in hits if "record" in hit.metadata]

    def _dense(
        self, vector: Sequence[float], k: int, filters: Filters | None, view: SearchView
    ) -> list[ScoredChunk]:
        """The ``k`` nearest chunks that meet ``filters``. Chroma's filtered query scans
        metadata (hundreds of ms at 40k chunks): the nearest ``k * FILTER_POOL`` ids are taken
        unfiltered and tested against this generation's product facts instead, and only a
        filter too selective for that pool goes to Chroma's ``where``."""
        if filters is None:
            return self.store.query(vector, k, None)
        pool = self.store.nearest_ids(vector, k * FILTER_POOL)
        allowed = view.facts.mask(filters)
        rows = view.facts.rows_of([chunk_id.rsplit("::", 2)[0] for chunk_id, _ in pool])
        kept = [
            (chunk_id, score)
            for (chunk_id, score), row in zip(pool, rows, strict=True)
            if row >= 0 and allowed[row]
        ][:k]
        if len(kept) < k and len(pool) == k * FILTER_POOL:
            return self.store.query(vector, k, filters)  # a selective filter: let Chroma scan
        scores = dict(kept)
        chunks = self.store.get_chunks([chunk_id for chunk_id, _ in kept])
        found = [c.model_copy(update={"score": scores[c.chunk_id]}) for c in chunks]
        # The store's own metadata decides (the facts may be a generation old).
        live = [c for c in found if filters.matches(c.metadata)]
        return sorted(live, key=lambda chunk: -chunk.score)

    def _live(self, sparse: list[ScoredChunk], filters: Filters | None) -> list[ScoredChunk]:
        """Keyword hits as the store holds them now (see the module docstring)."""
        if not sparse:
            return []
        cores = [core_chunk_id(chunk.product_id) for chunk in sparse]
        stored = {
            chunk.chunk_id: chunk
            for chunk in self.store.get_chunks([chunk.chunk_id for chunk in sparse] + cores)
        }
        live = []
        for chunk in sparse:
            now, core = stored.get(chunk.chunk_id), stored.get(core_chunk_id(chunk.product_id))
            if now is None or core is None:
                continue
            if filters is not None and not filters.matches(core.metadata):
                continue
            live.append(now.model_copy(update={"score": chunk.score}))
        return live

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
        config = fusion_config(self.settings)
        # Chunk-level fusion orders a product's chunks; a chunk both found collects both.
        fused = fuse_chunks(dense, sparse, config)
        chunks: dict[str, ScoredChunk] = {}
        for chunk in (*dense, *sparse):
            # Dense chunks carry the full metadata (the core one its record): keep them.
            chunks.setdefault(chunk.chunk_id, chunk)
        similarity: dict[str, float] = {}
        for chunk in dense:
            similarity[chunk.product_id] = max(similarity.get(chunk.product_id, -1.0), chunk.score)

        # Product-level fusion: each retriever scores products by their best chunk.
        product_score = fuse_products(dense, sparse, config)
        ranked = list(product_score)[:k]

        by_product: dict[str, list[ScoredChunk]] = {pid: [] for pid in ranked}
        for chunk_id, chunk in chunks.items():
            if chunk.product_id in by_product:
                by_product[chunk.product_id].append(
                    chunk.model_copy(update={"score": fused[chunk_id]})
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
                    score=product_score[pid],
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

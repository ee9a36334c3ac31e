"""Chroma (embedded or server) behind one small class. Vectors always come from us."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from catalog.chroma import open_client
from catalog.chunk_rows import StoredChunk, scored_chunk, stored_chunk, stored_metadata
from catalog.digests import DigestTable
from catalog.errors import StoreError
from catalog.generation import Generation, bump_generation, read_generation
from catalog.meta import StoreMeta
from catalog.models import Chunk, ChunkKind, Filters, ScoredChunk
from catalog.where import filters_to_where

# Chroma limits one request's size; page big reads and writes.
_PAGE = 1000
# An ids-only read carries no payload: big pages (each page by offset rescans up to it).
_ID_PAGE = 200_000


class ProductStore:
    """The product chunks of one collection, in an embedded or a server Chroma."""

    def __init__(self, client: Any, collection_name: str) -> None:
        self._client = client
        self.collection_name = collection_name
        self._collection = client.get_or_create_collection(
            name=collection_name,
            embedding_function=None,  # never Chroma's default: it downloads a model
            metadata={"hnsw:space": "cosine"},
        )
        # Records every process must agree on (profile, generation, jobs, lock).
        self.meta = StoreMeta(client, collection_name)
        # What ingestion skips unchanged products by (catalog.digests).
        self.digests = DigestTable(client, collection_name)

    @classmethod
    def open(cls, *, chroma_url: str, data_dir: Any, collection: str) -> ProductStore:
        """Embedded ``PersistentClient`` under ``data_dir`` unless ``chroma_url`` is set."""
        client = open_client(chroma_url, data_dir)
        try:
            return cls(client, collection)
        except Exception as exc:
            where = chroma_url or "embedded store"
            raise StoreError(f"cannot open Chroma ({where}): {exc}") from exc

    # -- health -----------------------------------------------------------------------------
    def heartbeat(self) -> None:
        try:
            self._client.heartbeat()
            self._collection.count()
        except Exception as exc:
            raise StoreError(f"Chroma is not answering: {exc}") from exc

    def count(self) -> int:
        return int(self._guard(self._collection.count))

    # -- writes -----------------------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Write chunks in one call: Chroma applies one call as a unit."""
        if not chunks:
            return
        self._guard(
            self._collection.upsert,
            ids=[chunk.chunk_id for chunk in chunks],
            documents=[chunk.text for chunk in chunks],
            embeddings=[list(vector) for vector in vectors],
            metadatas=[stored_metadata(chunk) for chunk in chunks],
        )

    def update_metadata(self, chunks: Sequence[Chunk]) -> None:
        """Change metadata in place, keeping the stored vectors (no embedding computed)."""
        for start in range(0, len(chunks), _PAGE):
            page = chunks[start : start + _PAGE]
            self._guard(
                self._collection.update,
                ids=[chunk.chunk_id for chunk in page],
                metadatas=[stored_metadata(chunk) for chunk in page],
            )

    def delete(self, chunk_ids: Sequence[str]) -> None:
        for start in range(0, len(chunk_ids), _PAGE):
            self._guard(self._collection.delete, ids=list(chunk_ids[start : start + _PAGE]))

    # -- generation -------------------------------------------------------------------------
    def generation(self) -> Generation:
        """The store's current generation (``initial`` before the first recorded ingest)."""
        return read_generation(self.meta)

    def bump_generation(self, *, text_changed: bool, changed: Sequence[str]) -> Generation:
        """Record that an ingest finished changing the store (see catalog.generation)."""
        return bump_generation(self.meta, text_changed=text_changed, changed=changed)

    # -- reads ------------------------------------------------------------------------------
    def chunk_ids(self) -> set[str]:
        """Every chunk id in the collection, read without documents or metadata."""
        found: set[str] = set()
        offset = 0
        while True:
            page = self._guard(self._collection.get, include=[], limit=_ID_PAGE, offset=offset)
            found.update(page["ids"])
            if len(page["ids"]) < _ID_PAGE:
                return found
            offset += _ID_PAGE

    def stored_chunks(self, chunk_ids: Sequence[str] | None = None) -> dict[str, StoredChunk]:
        """Id, product, source and hashes of the given chunks (default: every chunk): what the
        ingestion diff compares. Ids not in the store are left out."""
        if chunk_ids is None:
            pages: Iterator[tuple[list[str], list[str], list[Any]]] = self._pages(
                include=["metadatas"]
            )
        else:
            pages = self._pages_of(list(chunk_ids), include=["metadatas"])
        found: dict[str, StoredChunk] = {}
        for ids, _, metadatas in pages:
            for chunk_id, meta in zip(ids, metadatas, strict=True):
                found[chunk_id] = stored_chunk(chunk_id, meta)
        return found

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, list[float]]:
        """Stored vectors by chunk id: ingestion rewrites a product's unchanged chunks with them
        (so one upsert covers the whole product) without computing an embedding."""
        found: dict[str, list[float]] = {}
        for start in range(0, len(chunk_ids), _PAGE):
            page = self._guard(
                self._collection.get,
                ids=list(chunk_ids[start : start + _PAGE]),
                include=["embeddings"],
            )
            embeddings = page.get("embeddings")
            if embeddings is None:
                continue
            for chunk_id, vector in zip(page["ids"], embeddings, strict=True):
                found[chunk_id] = [float(value) for value in vector]
        return found

    def iter_chunks(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(id, text, metadata) of every chunk, for the keyword index."""
        for ids, documents, metadatas in self._pages(include=["documents", "metadatas"]):
            yield from zip(ids, documents, metadatas, strict=True)

    def query(
        self, vector: Sequence[float], k: int, filters: Filters | None = None
    ) -> list[ScoredChunk]:
        """Nearest chunks by cosine similarity (score = 1 - distance), filters pushed down."""
        result = self._guard(
            self._collection.query,
            query_embeddings=[list(vector)],
            n_results=k,
            where=filters_to_where(filters),
            include=["documents", "metadatas", "distances"],
        )
        return [
            scored_chunk(chunk_id, text, meta, 1.0 - float(distance))
            for chunk_id, text, meta, distance in zip(
                result["ids"][0],
                result["documents"][0],
                result["metadatas"][0],
                result["distances"][0],
                strict=True,
            )
        ]

    def nearest_ids(
        self, vector: Sequence[float], n: int, *, within: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest chunks (among the ids ``within``
        when given), nothing else fetched: a few milliseconds where a query with a metadata
        ``where`` costs hundreds at 40k chunks."""
        result = self._guard(
            self._collection.query,
            query_embeddings=[list(vector)],
            n_results=n,
            include=["distances"],
            **({"ids": list(within)} if within is not None else {}),
        )
        return [
            (chunk_id, 1.0 - float(distance))
            for chunk_id, distance in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    def similarities(
        self, vector: Sequence[float], chunk_ids: Sequence[str]
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of these chunks, best first, from their stored
        vectors: for a few hundred ids this beats a query restricted to them (Chroma's
        filtered search costs ~20 ms for 10-100 allowed ids, a read of their vectors ~1-4)."""
        page = self._guard(self._collection.get, ids=list(chunk_ids), include=["embeddings"])
        vectors = page.get("embeddings")
        if vectors is None or not len(page["ids"]):
            return []
        matrix = np.asarray(vectors, dtype=np.float32)
        query = np.asarray(vector, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1) * max(float(np.linalg.norm(query)), 1e-12)
        scores = matrix @ query / np.maximum(norms, 1e-12)
        order = np.argsort(-scores, kind="stable")
        return [(page["ids"][i], float(scores[i])) for i in order]

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[ScoredChunk]:
        """The chunks of these ids that the store holds (missing ids are left out)."""
        return [
            scored_chunk(chunk_id, text, meta)
            for ids, documents, metadatas in self._pages_of(
                list(dict.fromkeys(chunk_ids)), include=["documents", "metadatas"]
            )
            for chunk_id, text, meta in zip(ids, documents, metadatas, strict=True)
        ]

    def product_chunks(self, product_id: str) -> list[ScoredChunk]:
        result = self._guard(
            self._collection.get,
            where={"product_id": {"$eq": product_id}},
            include=["documents", "metadatas"],
        )
        # The where clause makes each row's product_id this one.
        return [
            scored_chunk(chunk_id, text, meta)
            for chunk_id, text, meta in zip(
                result["ids"], result["documents"], result["metadatas"], strict=True
            )
        ]

    def get_product(self, product_id: str) -> dict[str, Any] | None:
        """The full product record kept on its core chunk, or None."""
        result = self._guard(
            self._collection.get,
            where={"$and": [{"product_id": {"$eq": product_id}}, {"kind": {"$eq": "core"}}]},
            include=["metadatas"],
        )
        if not result["ids"]:
            return None
        record = result["metadatas"][0].get("record")
        return json.loads(record) if isinstance(record, str) else None

    def core_metadatas(self) -> list[dict[str, Any]]:
        """Metadata of every product's core chunk (facets, stats, the constraint vocabulary)."""
        metas: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self._guard(
                self._collection.get,
                where={"kind": {"$eq": ChunkKind.CORE.value}},
                include=["metadatas"],
                limit=_PAGE,
                offset=offset,
            )
            metas.extend(dict(meta) for meta in page["metadatas"])
            if len(page["ids"]) < _PAGE:
                return metas
            offset += _PAGE

    # -- internals --------------------------------------------------------------------------
    def _pages_of(
        self, chunk_ids: list[str], include: list[str]
    ) -> Iterator[tuple[list[str], list[str], list[Any]]]:
        for start in range(0, len(chunk_ids), _PAGE):
            page = self._guard(
                self._collection.get, ids=chunk_ids[start : start + _PAGE], include=include
            )
            ids = page["ids"]
            documents = page.get("documents") or [""] * len(ids)
            yield ids, documents, page.get("metadatas") or [{}] * len(ids)

    def _pages(self, include: list[str]) -> Iterator[tuple[list[str], list[str], list[Any]]]:
        offset = 0
        while True:
            page = self._guard(self._collection.get, include=include, limit=_PAGE, offset=offset)
            ids = page["ids"]
            documents = page.get("documents") or [""] * len(ids)
            yield ids, documents, page.get("metadatas") or [{}] * len(ids)
            if len(ids) < _PAGE:
                return
            offset += _PAGE

    @staticmethod
    def _guard(call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except StoreError:
            raise
        except Exception as exc:  # connection refused, server gone, ...
            raise StoreError(f"Chroma operation failed: {exc}") from exc

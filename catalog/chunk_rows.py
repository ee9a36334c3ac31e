"""A chunk's row in Chroma (written metadata, chunks read back), apart from ProductStore's calls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from catalog.models import Chunk, ScoredChunk


@dataclass(frozen=True)
class StoredChunk:
    """What the ingestion diff needs to know of a chunk already in the store."""

    chunk_id: str
    product_id: str
    source: str
    content_hash: str
    meta_hash: str


def stored_metadata(chunk: Chunk) -> dict[str, Any]:
    meta: dict[str, Any] = dict(chunk.metadata)
    meta.update(
        product_id=chunk.product_id,
        kind=chunk.kind.value,
        content_hash=chunk.content_hash,
        meta_hash=chunk.meta_hash,
    )
    return meta


def stored_chunk(chunk_id: str, meta: Mapping[str, Any]) -> StoredChunk:
    return StoredChunk(
        chunk_id=chunk_id,
        product_id=str(meta.get("product_id", "")),
        source=str(meta.get("source", "")),
        content_hash=str(meta.get("content_hash", "")),
        meta_hash=str(meta.get("meta_hash", "")),
    )


def scored_chunk(
    chunk_id: str, text: str | None, meta: Mapping[str, Any], score: float = 0.0
) -> ScoredChunk:
    """A chunk as read: its product from its metadata, a missing document as empty text."""
    return ScoredChunk(
        chunk_id=chunk_id,
        product_id=str(meta.get("product_id", "")),
        text=text or "",
        metadata=dict(meta),
        score=score,
    )

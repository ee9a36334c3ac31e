"""What one ingest run found and what each changed product needs (the diff's results)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from catalog.chunk_rows import StoredChunk
from catalog.models import Chunk
from ingestion.loaders import LoadError

Status = Literal["added", "updated", "metadata_only", "unchanged"]


@dataclass
class IngestSummary:
    """Product counts of one ingest run, and every problem met with its file and line."""

    added: int = 0
    updated: int = 0
    metadata_only: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    chunks_embedded: int = 0
    errors: list[LoadError] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "metadata_only": self.metadata_only,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "failed": self.failed,
            "chunks_embedded": self.chunks_embedded,
            "errors": [error.to_dict() for error in self.errors],
        }


@dataclass
class ProductPlan:
    """What one product needs: which chunks to embed, rewrite, update in place or delete."""

    product_id: str
    status: Status
    embed: list[Chunk] = field(default_factory=list)  # new or changed text
    keep_vector: list[Chunk] = field(default_factory=list)  # same text, new metadata (updated)
    metadata: list[Chunk] = field(default_factory=list)  # same text, new metadata (meta-only)
    stale: list[str] = field(default_factory=list)  # stored chunk ids the product no longer has

    @property
    def size(self) -> int:
        return len(self.embed) + len(self.keep_vector) + len(self.metadata) + len(self.stale)


def plan_product(chunks: list[Chunk], stored: dict[str, StoredChunk]) -> ProductPlan:
    """Diff one product's new chunks against its stored chunks (by id)."""
    product_id = chunks[0].product_id
    if not stored:
        return ProductPlan(product_id, "added", embed=list(chunks))
    embed, same_text = [], []
    for chunk in chunks:
        old = stored.get(chunk.chunk_id)
        if old is None or old.content_hash != chunk.content_hash:
            embed.append(chunk)
        elif old.meta_hash != chunk.meta_hash:
            same_text.append(chunk)
    new_ids = {chunk.chunk_id for chunk in chunks}
    stale = sorted(chunk_id for chunk_id in stored if chunk_id not in new_ids)
    if embed or stale:
        return ProductPlan(product_id, "updated", embed=embed, keep_vector=same_text, stale=stale)
    if same_text:
        return ProductPlan(product_id, "metadata_only", metadata=same_text)
    return ProductPlan(product_id, "unchanged")

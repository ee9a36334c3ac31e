"""Writing a run's plans to the store: metadata-only changes in large calls, then changed
texts embedded in small slices and written in groups of whole products (one store call each,
so a killed ingest leaves every product either as it was or as it should be)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from catalog.embeddings import LocalEmbeddings
from catalog.models import Chunk
from catalog.store import ProductStore
from ingestion.plans import IngestSummary, ProductPlan

# Chunks per store write (whole products, one call each): a killed ingest loses little.
WRITE_GROUP_CHUNKS = 256
# Chunks embedded before their groups are written, in model batches (embedding.batch_size):
# 32 x 64 = 2048 by default. They are encoded in slices of ``embed_slice`` texts per call.
EMBED_BATCHES_PER_CALL = 32
DEFAULT_EMBED_SLICE = 64
# Chunks per metadata-only update call (no vectors travel: large calls are cheap).
METADATA_GROUP_CHUNKS = 1000

# progress(stage, done, total); stages: "loading" (files), "diffing" (changed products),
# "writing" (chunks), "publishing" (the new generation).
ProgressCallback = Callable[[str, int, int], None]


class LeaseLike(Protocol):
    def check(self) -> None:
        """Raise when the ingest lock was lost (another run may be writing)."""


def write_plans(
    plans: list[ProductPlan],
    store: ProductStore,
    embeddings: LocalEmbeddings,
    summary: IngestSummary,
    report: ProgressCallback,
    *,
    lock: LeaseLike | None,
    embed_slice: int,
) -> None:
    rewrites = [plan for plan in plans if plan.status in ("added", "updated")]
    in_place = [plan for plan in plans if plan.status == "metadata_only"]
    total = sum(plan.size for plan in rewrites) + sum(plan.size for plan in in_place)
    done = 0
    if total:
        report("writing", 0, total)
    # Metadata-only changes first, in large calls: a price feed is done in a few round trips.
    for group in groups(in_place, METADATA_GROUP_CHUNKS, size=lambda plan: plan.size):
        check_lease(lock)
        store.update_metadata([chunk for plan in group for chunk in plan.metadata])
        done += sum(plan.size for plan in group)
        report("writing", done, total)
    embed_batch = max(WRITE_GROUP_CHUNKS, embeddings.batch_size * EMBED_BATCHES_PER_CALL)
    for batch in groups(rewrites, embed_batch, size=lambda plan: plan.size):
        kept_ids = [chunk.chunk_id for plan in batch for chunk in plan.keep_vector]
        kept = store.vectors(kept_ids) if kept_ids else {}
        to_embed = [
            chunk
            for plan in batch
            for chunk in (*plan.embed, *plan.keep_vector)
            if chunk.chunk_id not in kept  # a vector missing from the store is computed again
        ]
        vectors = _embed(embeddings, to_embed, embed_slice)
        summary.chunks_embedded += len(to_embed)
        vectors.update(kept)
        for group in groups(batch, WRITE_GROUP_CHUNKS, size=lambda plan: plan.size):
            check_lease(lock)
            chunks = [chunk for plan in group for chunk in (*plan.embed, *plan.keep_vector)]
            store.upsert(chunks, [vectors[chunk.chunk_id] for chunk in chunks])
            stale = [chunk_id for plan in group for chunk_id in plan.stale]
            if stale:
                store.delete(stale)
            done += sum(plan.size for plan in group)
            report("writing", done, total)


def _embed(
    embeddings: LocalEmbeddings, chunks: list[Chunk], slice_size: int
) -> dict[str, list[float]]:
    """Vectors by chunk id, encoded in small calls (the model lock is free between two, so a
    shopper's query waits for one slice at most), longest texts together to keep padding low."""
    ordered = sorted(chunks, key=lambda chunk: -len(chunk.text))
    vectors: dict[str, list[float]] = {}
    for start in range(0, len(ordered), slice_size):
        part = ordered[start : start + slice_size]
        encoded = embeddings.embed_documents([chunk.text for chunk in part])
        vectors.update(zip((chunk.chunk_id for chunk in part), encoded, strict=True))
    return vectors


def check_lease(lock: LeaseLike | None) -> None:
    if lock is not None:
        lock.check()


def groups(items: list[Any], limit: int, *, size: Callable[[Any], int]) -> Iterator[list[Any]]:
    """Consecutive items in groups of about ``limit`` units; an item is never split."""
    group: list[Any] = []
    units = 0
    for item in items:
        group.append(item)
        units += size(item)
        if units >= limit:
            yield group
            group, units = [], 0
    if group:
        yield group

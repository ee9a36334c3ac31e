"""Idempotent, product-keyed ingestion: load files, diff against the store, write what changed.

A product whose digest (``ingestion/stored.py``) matches the stored one is unchanged and is
not even chunked; so an unchanged re-ingest costs loading the files and two small store reads.
Every other product is chunked and each chunk compared with the stored one by content hash
and metadata hash:

- nothing changed: skipped, no embedding computed;
- only metadata changed (price, stock, rating...): updated in place in large calls, no
  embedding computed, and the keyword index is left alone;
- text changed: the changed chunks are embedded; the product's other chunks are rewritten
  with their stored vectors in the same call, and its stale chunks are deleted.

Embedding runs over batches spanning many products, encoded in small slices so that shoppers'
queries never wait long for the model. Writes go in groups of whole products, one store call
per group, so a killed ingest leaves every product either as it was or as it should be;
running it again finishes the job (chunk ids are stable: nothing is duplicated). The store's
generation is bumped after the last write: readers refresh then. Known limit: a product that
loses chunks has them deleted right after its group's upsert; a kill between the two leaves
those stale chunks until the next run removes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from aisle.settings import CatalogSettings
from catalog.digests import ProductDigest
from catalog.embedding_record import check_embedding_record, record_embedding
from catalog.embeddings import LocalEmbeddings
from catalog.models import Chunk
from catalog.store import ProductStore, StoredChunk
from ingestion.chunking import chunk_product
from ingestion.gather import (
    attach_documents_to_stored_products,
    keep_sources,
    load_products,
)
from ingestion.loaders import (
    FieldMapping,
    LoadedProduct,
    LoadError,
    discover,
)
from ingestion.profiling import update_profile
from ingestion.stored import (
    StoredCatalog,
    StoredProduct,
    forget_run,
    new_digest,
    product_digest,
    record_run,
    run_fingerprint,
    unchanged_run,
)

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


class LeaseLike(Protocol):
    def check(self) -> None:
        """Raise when the ingest lock was lost (another run may be writing)."""


def ingest_files(
    paths: list[Path],
    *,
    store: ProductStore,
    embeddings: LocalEmbeddings,
    delete_missing: bool = True,
    changed_only: bool = False,
    mapping: FieldMapping | None = None,
    progress: ProgressCallback | None = None,
    lock: LeaseLike | None = None,
    embed_slice: int = DEFAULT_EMBED_SLICE,
    keyword_dir: Path | None = None,
    catalog: CatalogSettings | None = None,
) -> IngestSummary:
    """Load ``paths`` (files or folders) into ``store``; only what changed is touched.

    Products that a fully read source file held before but no longer holds are deleted unless
    ``delete_missing`` is False or ``changed_only`` says the files hold only changed products.
    When anything changed, the store's generation is bumped last: readers switch then. ``lock``
    (the caller's ingest lock) is checked before every write. ``keyword_dir`` is accepted for
    callers written before issue 13 and ignored: every process builds its keyword index.
    ``catalog`` (settings) overrides the currency and locale the catalog profile learns.
    """
    check_embedding_record(store, embeddings)  # never mix vectors of two backends
    report = progress or _no_progress
    summary = IngestSummary()
    files, problems = discover(paths)
    summary.errors.extend(problems)
    deletes = delete_missing and not changed_only
    fingerprint = run_fingerprint(files, mapping, deletes)
    if not problems and (same := unchanged_run(store, fingerprint)) is not None:
        summary.unchanged = same  # the very files the last run read, and nothing wrote since
        return summary
    stored = StoredCatalog(store)
    products, complete_sources = load_products(
        files, mapping, summary.errors, report, stored.row_keys()
    )
    attach_documents_to_stored_products(products, stored, store)
    if changed_only:
        keep_sources(products, stored)
    digests = {product_id: product_digest(item) for product_id, item in products.items()}
    to_diff = [pid for pid in products if stored.digest(pid) != digests[pid]]
    summary.unchanged = len(products) - len(to_diff)
    report("diffing", 0, len(to_diff))
    stored_chunks = stored.chunks_of(to_diff)
    plans: list[ProductPlan] = []
    new_digests: dict[str, ProductDigest | None] = {}
    for product_id in to_diff:
        chunks = chunk_product(products[product_id])
        plan = plan_product(chunks, stored_chunks.get(product_id, {}))
        setattr(summary, plan.status, getattr(summary, plan.status) + 1)
        new_digests[product_id] = new_digest(
            products[product_id], digests[product_id], (chunk.chunk_id for chunk in chunks)
        )
        if plan.status != "unchanged":
            plans.append(plan)
    report("diffing", len(to_diff), len(to_diff))
    doomed: list[StoredProduct] = []
    if deletes:
        doomed = _missing_products(stored, products, complete_sources)

    # A digest leaves before its product's chunks change and comes back after: a killed run
    # never leaves a digest that does not describe the stored chunks.
    touched = [plan.product_id for plan in plans] + [product.product_id for product in doomed]
    if touched or new_digests:
        forget_run(store)
    stored.table.remove(pid for pid in touched if stored.digest(pid) is not None)
    if plans:  # before the first vector lands: a killed run still says who wrote them
        record_embedding(store, embeddings)
    _write(plans, store, embeddings, summary, report, lock=lock, embed_slice=embed_slice)
    for group in _groups(doomed, WRITE_GROUP_CHUNKS, size=lambda p: len(p.chunk_ids)):
        _check(lock)
        store.delete([chunk_id for product in group for chunk_id in sorted(product.chunk_ids)])
    summary.deleted = len(doomed)
    new_digests.update({product.product_id: None for product in doomed})
    stored.table.write(new_digests)

    changed = [plan.product_id for plan in plans] + [product.product_id for product in doomed]
    text_changed = bool(doomed) or any(plan.status != "metadata_only" for plan in plans)
    # The profile follows the catalog's texts and schemas: a price or stock feed (metadata
    # only) leaves it as it is, so it costs nothing there.
    profiled = update_profile(
        store, products.values(), changed=text_changed, catalog=catalog, partial=changed_only
    )
    if changed or profiled:
        # Records derived from the new contents (catalog profile, embedding backend) are
        # written before this point, after the chunks; the generation bump comes last.
        _check(lock)
        report("publishing", 0, 1)
        store.bump_generation(text_changed=text_changed, changed=changed)
        report("publishing", 1, 1)
    summary.failed = len(summary.errors)
    if not summary.errors:
        record_run(store, fingerprint, len(products))
    return summary


# -- writing -----------------------------------------------------------------------------------
def _write(
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
    for group in _groups(in_place, METADATA_GROUP_CHUNKS, size=lambda plan: plan.size):
        _check(lock)
        store.update_metadata([chunk for plan in group for chunk in plan.metadata])
        done += sum(plan.size for plan in group)
        report("writing", done, total)
    embed_batch = max(WRITE_GROUP_CHUNKS, embeddings.batch_size * EMBED_BATCHES_PER_CALL)
    for batch in _groups(rewrites, embed_batch, size=lambda plan: plan.size):
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
        for group in _groups(batch, WRITE_GROUP_CHUNKS, size=lambda plan: plan.size):
            _check(lock)
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


def _check(lock: LeaseLike | None) -> None:
    if lock is not None:
        lock.check()


def _missing_products(
    stored: StoredCatalog, products: dict[str, LoadedProduct], complete_sources: set[str]
) -> list[StoredProduct]:
    """Stored products whose source file was read in full but lacks them now."""
    missing = [
        product
        for product_id, product in stored.products.items()
        if product.source in complete_sources and product_id not in products
    ]
    return sorted(missing, key=lambda product: product.product_id)


def _groups(items: list[Any], limit: int, *, size: Callable[[Any], int]) -> Iterator[list[Any]]:
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


def _no_progress(stage: str, done: int, total: int) -> None:
    return None

"""Idempotent, product-keyed ingestion: load files, diff against the store, write what changed.

Per product, each chunk is compared with the stored one by content hash and metadata hash:

- nothing changed: skipped, no embedding computed;
- only metadata changed (price, stock, rating...): updated in place, no embedding computed;
- text changed: the changed chunks are embedded; the product's other chunks are rewritten
  with their stored vectors in the same call, and its stale chunks are deleted.

Embedding runs over large batches spanning many products (one encode call each), so a first
ingest costs about as much as encoding the texts. Writes go in groups of whole products, one
store call per group, so a killed ingest leaves every product either as it was or as it
should be; running it again finishes the job (chunk ids are stable: nothing is duplicated).
Known limit: a product that loses chunks has them deleted right after its group's upsert; a
kill between the two leaves those stale chunks until the next run removes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from catalog.embeddings import LocalEmbeddings
from catalog.keyword import KeywordIndex
from catalog.models import Chunk, Product
from catalog.store import ProductStore, StoredChunk
from ingestion.chunking import chunk_product
from ingestion.loaders import (
    FieldMapping,
    LoadedProduct,
    LoaderError,
    LoadError,
    discover,
    is_document,
    load_path,
)

# Chunks per store write (whole products, one call each): a killed ingest loses little.
WRITE_GROUP_CHUNKS = 256
# Chunks per encode call, in model batches (embedding.batch_size): 32 x 64 = 2048 by default.
EMBED_BATCHES_PER_CALL = 32

# progress(stage, done, total); stages: "loading" (files), "writing" (chunks), "indexing".
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


def ingest_files(
    paths: list[Path],
    *,
    store: ProductStore,
    embeddings: LocalEmbeddings,
    keyword_dir: Path,
    delete_missing: bool = True,
    mapping: FieldMapping | None = None,
    progress: ProgressCallback | None = None,
) -> IngestSummary:
    """Load ``paths`` (files or folders) into ``store``; only what changed is touched.

    Products that a fully read source file held before but no longer holds are deleted unless
    ``delete_missing`` is False. The BM25 index in ``keyword_dir`` is rebuilt from the store.
    """
    report = progress or _no_progress
    summary = IngestSummary()
    files, problems = discover(paths)
    summary.errors.extend(problems)
    products, complete_sources = _load(files, mapping, summary, report)

    stored_by_product: dict[str, dict[str, StoredChunk]] = {}
    for chunk in store.stored_chunks().values():
        stored_by_product.setdefault(chunk.product_id, {})[chunk.chunk_id] = chunk

    _attach_documents_to_stored_products(products, stored_by_product, store)
    plans = [
        plan_product(chunk_product(item), stored_by_product.get(product_id, {}))
        for product_id, item in products.items()
    ]
    for plan in plans:
        setattr(summary, plan.status, getattr(summary, plan.status) + 1)
    doomed = (
        _missing_products(stored_by_product, products, complete_sources) if delete_missing else []
    )
    marker = keyword_dir.with_name(keyword_dir.name + ".stale")
    index_was_stale = marker.exists() or KeywordIndex.saved_generation(keyword_dir) is None
    if doomed or any(plan.status != "unchanged" for plan in plans):
        # Until the index is saved again, a killed run leaves this sign that it is stale.
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    changed = _write(plans, store, embeddings, summary, report)
    for group in _groups(doomed, WRITE_GROUP_CHUNKS, size=len):
        store.delete([chunk_id for chunk_ids in group for chunk_id in chunk_ids])
    summary.deleted = len(doomed)

    if changed or doomed or index_was_stale:
        report("indexing", 0, 1)
        KeywordIndex.build(store.iter_chunks()).save(keyword_dir)
        report("indexing", 1, 1)
    marker.unlink(missing_ok=True)
    summary.failed = len(summary.errors)
    return summary


# -- loading -----------------------------------------------------------------------------------
def _load(
    files: list[Path],
    mapping: FieldMapping | None,
    summary: IngestSummary,
    report: ProgressCallback,
) -> tuple[dict[str, LoadedProduct], set[str]]:
    """Products by id across all files (catalog rows first, then documents), and the sources
    read without any error (the only ones that may delete products)."""
    ordered = sorted(files, key=is_document)
    products: dict[str, LoadedProduct] = {}
    complete: set[str] = set()
    for done, path in enumerate(ordered, start=1):
        try:
            result = load_path(path, mapping)
        except LoaderError as exc:
            summary.errors.append(LoadError(str(path), None, str(exc)))
            report("loading", done, len(ordered))
            continue
        summary.errors.extend(result.errors)
        if result.complete and not result.errors:
            complete.add(result.source)
        for item in result.products:
            product_id = item.product.product_id
            first = products.get(product_id)
            if first is None:
                products[product_id] = item
            elif is_document(path):
                # A document about a product loaded already adds its text to that product.
                first.documents.extend(item.documents)
            else:
                where = first.product.source + (f":{first.line}" if first.line else "")
                summary.errors.append(
                    LoadError(
                        result.source,
                        item.line,
                        f"duplicate product id {product_id!r} (first seen at {where})",
                    )
                )
        report("loading", done, len(ordered))
    return products, complete


def _attach_documents_to_stored_products(
    products: dict[str, LoadedProduct],
    stored_by_product: dict[str, dict[str, StoredChunk]],
    store: ProductStore,
) -> None:
    """A document about a product that an earlier run loaded from a catalog file adds its text
    to that product (rebuilt from its stored record) instead of replacing the product."""
    for product_id, item in products.items():
        source = item.product.source
        core = stored_by_product.get(product_id, {}).get(f"{product_id}::core::0")
        if not is_document(Path(source)) or core is None or core.source == source:
            continue
        if is_document(Path(core.source)):
            continue  # the product itself came from a document: this one replaces it
        record = store.get_product(product_id)
        if record is None:
            continue
        record.pop("in_stock", None)
        try:
            product = Product.model_validate(record)
        except ValueError:
            continue
        products[product_id] = LoadedProduct(product=product, documents=item.documents)


# -- writing -----------------------------------------------------------------------------------
def _write(
    plans: list[ProductPlan],
    store: ProductStore,
    embeddings: LocalEmbeddings,
    summary: IngestSummary,
    report: ProgressCallback,
) -> bool:
    rewrites = [plan for plan in plans if plan.status in ("added", "updated")]
    in_place = [plan for plan in plans if plan.status == "metadata_only"]
    total = sum(plan.size for plan in rewrites) + sum(plan.size for plan in in_place)
    done = 0
    if total:
        report("writing", 0, total)
    # One encode call per embed batch: the model sorts its texts by length, so padding stays
    # as low as for a bare encode of everything. Then the batch is written group by group.
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
        vectors = dict(
            zip(
                (chunk.chunk_id for chunk in to_embed),
                embeddings.embed_documents([chunk.text for chunk in to_embed]),
                strict=True,
            )
        )
        summary.chunks_embedded += len(to_embed)
        vectors.update(kept)
        for group in _groups(batch, WRITE_GROUP_CHUNKS, size=lambda plan: plan.size):
            chunks = [chunk for plan in group for chunk in (*plan.embed, *plan.keep_vector)]
            store.upsert(chunks, [vectors[chunk.chunk_id] for chunk in chunks])
            stale = [chunk_id for plan in group for chunk_id in plan.stale]
            if stale:
                store.delete(stale)
            done += sum(plan.size for plan in group)
            report("writing", done, total)
    for group in _groups(in_place, WRITE_GROUP_CHUNKS, size=lambda plan: plan.size):
        store.update_metadata([chunk for plan in group for chunk in plan.metadata])
        done += sum(plan.size for plan in group)
        report("writing", done, total)
    return bool(rewrites or in_place)


def _missing_products(
    stored_by_product: dict[str, dict[str, StoredChunk]],
    products: dict[str, LoadedProduct],
    complete_sources: set[str],
) -> list[list[str]]:
    """Chunk ids of each stored product whose source file was read in full but lacks it now."""
    doomed = []
    for product_id, chunks in sorted(stored_by_product.items()):
        if product_id in products:
            continue
        core = chunks.get(f"{product_id}::core::0")
        if core is not None and core.source in complete_sources:
            doomed.append(sorted(chunks))
    return doomed


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

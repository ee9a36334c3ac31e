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

from pathlib import Path

from aisle.settings import CatalogSettings
from catalog.digests import ProductDigest
from catalog.embedding_record import check_embedding_record, record_embedding
from catalog.embeddings import LocalEmbeddings
from catalog.store import ProductStore
from ingestion.chunking import chunk_product
from ingestion.gather import (
    attach_documents_to_stored_products,
    keep_sources,
    load_products,
)
from ingestion.loaders import (
    FieldMapping,
    LoadedProduct,
    discover,
)
from ingestion.plans import IngestSummary, ProductPlan, plan_product
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
from ingestion.writing import (
    DEFAULT_EMBED_SLICE,
    EMBED_BATCHES_PER_CALL,
    METADATA_GROUP_CHUNKS,
    WRITE_GROUP_CHUNKS,
    LeaseLike,
    ProgressCallback,
    check_lease,
    groups,
    write_plans,
)

__all__ = [  # the writing constants and the plan types are imported from here too
    "DEFAULT_EMBED_SLICE",
    "EMBED_BATCHES_PER_CALL",
    "METADATA_GROUP_CHUNKS",
    "WRITE_GROUP_CHUNKS",
    "IngestSummary",
    "LeaseLike",
    "ProductPlan",
    "ProgressCallback",
    "ingest_files",
    "plan_product",
]


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
    write_plans(plans, store, embeddings, summary, report, lock=lock, embed_slice=embed_slice)
    for group in groups(doomed, WRITE_GROUP_CHUNKS, size=lambda p: len(p.chunk_ids)):
        check_lease(lock)
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
        check_lease(lock)
        report("publishing", 0, 1)
        store.bump_generation(text_changed=text_changed, changed=changed)
        report("publishing", 1, 1)
    summary.failed = len(summary.errors)
    if not summary.errors:
        record_run(store, fingerprint, len(products))
    return summary


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


def _no_progress(stage: str, done: int, total: int) -> None:
    return None

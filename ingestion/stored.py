"""What the store holds, read cheaply: product digests plus an ids-only scan; and whether a
run reads exactly what the previous one read (then it has nothing to do).

A product whose digest equals the one of its new version is unchanged and is never chunked.
The digests are checked against the chunk ids the store really has: a product with chunks the
digests do not account for (a killed run, an older store, another writer) is read chunk by
chunk and diffed the slow way, so a wrong digest can cost time but never skip a change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from catalog.chunk_rows import StoredChunk
from catalog.digests import ProductDigest, chunk_product_id, digest_of
from catalog.store import ProductStore
from ingestion import chunking
from ingestion.loaders import LoadedProduct


@dataclass
class StoredProduct:
    product_id: str
    source: str  # the core chunk's source ("" when the core chunk is missing)
    chunk_ids: set[str] = field(default_factory=set)
    digest: str | None = None  # None: not known to describe the stored chunks
    row: str = ""  # key of the row it was read from (see ingestion/loaders/reader.py)


class StoredCatalog:
    """The stored products of one collection, and their chunk hashes on demand."""

    def __init__(self, store: ProductStore) -> None:
        self._store = store
        self.table = store.digests
        self.products: dict[str, StoredProduct] = {}
        self._chunks: dict[str, StoredChunk] = {}  # read already (untrusted products)
        self._read()

    def _read(self) -> None:
        digests = self.table.load()
        ids = self._store.chunk_ids()
        covered: set[str] = set()
        for product_id, digest in digests.items():
            chunk_ids = set(digest.chunk_ids)
            if chunk_ids <= ids:
                self.products[product_id] = StoredProduct(
                    product_id, digest.source, chunk_ids, digest.digest, digest.row
                )
                covered |= chunk_ids
        uncovered = sorted(ids - covered)
        self._chunks = self._store.stored_chunks(uncovered) if uncovered else {}
        for chunk in self._chunks.values():
            product_id = chunk.product_id or chunk_product_id(chunk.chunk_id)
            product = self.products.get(product_id)
            if product is None:
                product = self.products[product_id] = StoredProduct(product_id, "")
            product.digest = None  # it has chunks its digest does not list
            product.chunk_ids.add(chunk.chunk_id)
            if chunk.chunk_id == f"{product_id}::core::0":
                product.source = chunk.source

    def row_keys(self) -> set[str]:
        """Keys of the rows the trusted products were read from."""
        return {p.row for p in self.products.values() if p.row and p.digest is not None}

    def digest(self, product_id: str) -> str | None:
        product = self.products.get(product_id)
        return None if product is None else product.digest

    def chunks_of(self, product_ids: Iterable[str]) -> dict[str, dict[str, StoredChunk]]:
        """Stored chunk hashes of these products, by product then chunk id (one batched read)."""
        wanted = [
            chunk_id
            for product_id in product_ids
            if (product := self.products.get(product_id)) is not None
            for chunk_id in product.chunk_ids
        ]
        missing = [chunk_id for chunk_id in wanted if chunk_id not in self._chunks]
        if missing:
            self._chunks.update(self._store.stored_chunks(missing))
        found: dict[str, dict[str, StoredChunk]] = {}
        for chunk_id in wanted:
            chunk = self._chunks.get(chunk_id)
            if chunk is not None:
                found.setdefault(chunk_product_id(chunk_id), {})[chunk_id] = chunk
        return found


def product_digest(item: LoadedProduct) -> str:
    """Everything the product's chunks are made from, and the code that makes them. A product
    read from a catalog row is described by the row's key (which stands for the product it
    gives), so an unchanged row is never built into a product."""
    documents = "\x1e".join(f"{doc.source}\x1f{doc.text}" for doc in item.documents)
    made_of = f"row:{item.row_key}" if item.row_key else item.product.model_dump_json()
    return digest_of(
        _chunker_fingerprint(), made_of, documents, "\x1f".join(sorted(item.text_exclude))
    )


def new_digest(item: LoadedProduct, digest: str, chunk_ids: Iterable[str]) -> ProductDigest:
    return ProductDigest(
        digest=digest, source=item.source, chunk_ids=tuple(chunk_ids), row=item.row_key or ""
    )


@lru_cache(maxsize=1)
def _chunker_fingerprint() -> str:
    # A change to the chunking code changes every digest: products are re-chunked once.
    return hashlib.sha256(Path(chunking.__file__).read_bytes()).hexdigest()[:16]


# -- whole runs ---------------------------------------------------------------------------------
SOURCES_KEY = "sources"


def run_fingerprint(files: list[Path], mapping: object, deletes: bool) -> dict[str, Any]:
    """What a run reads: each file's content hash, the mapping and the chunking code."""
    mapping_text = mapping.model_dump_json() if hasattr(mapping, "model_dump_json") else ""
    return {
        "files": {str(path): _file_hash(path) for path in files},
        "mapping": digest_of(mapping_text),
        "chunker": _chunker_fingerprint(),
        "deletes": deletes,
    }


def unchanged_run(store: ProductStore, fingerprint: dict[str, Any]) -> int | None:
    """The product count of the previous run when it read exactly these inputs and nothing
    has written to the store since; None when the run must diff."""
    record = store.meta.get(SOURCES_KEY)
    if not record or record.get("files") != fingerprint["files"]:
        return None
    if (record.get("mapping"), record.get("chunker")) != (
        fingerprint["mapping"],
        fingerprint["chunker"],
    ):
        return None
    if fingerprint["deletes"] and not record.get("deletes"):
        return None  # this run may delete what the previous one kept
    if record.get("generation") != store.generation().id or record.get("count") != store.count():
        return None
    products = record.get("products")
    return products if isinstance(products, int) else None


def forget_run(store: ProductStore) -> None:
    """Before the first write: a run killed after it must not look like a finished one."""
    store.meta.delete(SOURCES_KEY)


def record_run(store: ProductStore, fingerprint: dict[str, Any], products: int) -> None:
    store.meta.put(
        SOURCES_KEY,
        {
            **fingerprint,
            "products": products,
            "generation": store.generation().id,
            "count": store.count(),
        },
    )


def _file_hash(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            hasher.update(block)
    return hasher.hexdigest()[:32]

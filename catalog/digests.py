"""Per-product digests kept in the store: how an unchanged product is skipped unchunked.

A product's digest covers everything its chunks are made from (the normalised product, its
documents, the chunking code). Ingestion writes it after the product's chunks are written and
removes it before they are rewritten or deleted, so a digest in the store always describes the
chunks the store holds; a product without one (a killed run, an older store) is diffed chunk
by chunk and gets its digest then.

Digests live in a side collection ``<collection>.digests`` of the same Chroma, one record per
product with the digest in its metadata (no document: nothing to index), so a price feed
rewrites only the records of the products it changed, and reading all of them is a few pages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from catalog.errors import StoreError

DIGESTS_SUFFIX = ".digests"
_PAGE = 5000


@dataclass(frozen=True)
class ProductDigest:
    digest: str
    source: str  # the core chunk's source file
    chunk_ids: tuple[str, ...]


def chunk_product_id(chunk_id: str) -> str:
    """``{product_id}::{kind}::{n}`` -> product id (ids may themselves hold ``::``)."""
    return chunk_id.rsplit("::", 2)[0]


def digest_of(*parts: str) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode("utf-8"))
        hasher.update(b"\x00")
    return hasher.hexdigest()[:24]


class DigestTable:
    """Read all digests of a collection; set or remove some (one call per page)."""

    def __init__(self, client: Any, collection: str) -> None:
        self.collection_name = collection + DIGESTS_SUFFIX
        try:
            self._collection = client.get_or_create_collection(
                name=self.collection_name, embedding_function=None
            )
        except Exception as exc:
            raise StoreError(f"cannot open {self.collection_name}: {exc}") from exc

    def load(self) -> dict[str, ProductDigest]:
        found: dict[str, ProductDigest] = {}
        offset = 0
        while True:
            page = self._call(
                self._collection.get, include=["metadatas"], limit=_PAGE, offset=offset
            )
            for product_id, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
                digest = _decode(product_id, meta or {})
                if digest is not None:
                    found[product_id] = digest
            if len(page["ids"]) < _PAGE:
                return found
            offset += _PAGE

    def remove(self, product_ids: Iterable[str]) -> None:
        ids = sorted(set(product_ids))
        for start in range(0, len(ids), _PAGE):
            self._call(self._collection.delete, ids=ids[start : start + _PAGE])

    def write(self, changes: Mapping[str, ProductDigest | None]) -> None:
        """Set (or, for None, remove) the digests of these products."""
        self.remove(pid for pid, digest in changes.items() if digest is None)
        rows = sorted((pid, digest) for pid, digest in changes.items() if digest is not None)
        for start in range(0, len(rows), _PAGE):
            page = rows[start : start + _PAGE]
            self._call(
                self._collection.upsert,
                ids=[pid for pid, _ in page],
                metadatas=[_encode(pid, digest) for pid, digest in page],
                embeddings=[[_spread(pid)] for pid, _ in page],
            )

    def drop(self) -> None:
        self._call(self._collection._client.delete_collection, self.collection_name)

    @staticmethod
    def _call(call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except Exception as exc:  # connection refused, server gone, ...
            raise StoreError(f"product digests operation failed: {exc}") from exc


def _encode(product_id: str, digest: ProductDigest) -> dict[str, str]:
    prefix = product_id + "::"
    suffixes = [chunk_id.removeprefix(prefix) for chunk_id in digest.chunk_ids]
    return {"digest": digest.digest, "source": digest.source, "chunks": "\n".join(suffixes)}


def _decode(product_id: str, meta: dict[str, Any]) -> ProductDigest | None:
    digest, chunks = meta.get("digest"), meta.get("chunks")
    if not isinstance(digest, str) or not isinstance(chunks, str):
        return None
    prefix = product_id + "::"
    return ProductDigest(
        digest=digest,
        source=str(meta.get("source", "")),
        chunk_ids=tuple(prefix + suffix for suffix in chunks.split("\n") if suffix),
    )


def _spread(product_id: str) -> float:
    # A one-dimensional vector per record (Chroma wants one); distinct values keep its index
    # from piling thousands of identical points together.
    return int.from_bytes(hashlib.blake2b(product_id.encode(), digest_size=4).digest()) / 2**32

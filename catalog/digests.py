"""Per-product digests kept in the store: how an unchanged product is skipped unchunked.

A product's digest covers everything its chunks are made from (the normalised product, its
documents, the chunking code). Ingestion writes it after the product's chunks are written and
removes it before they are rewritten or deleted, so a digest in the store always describes the
chunks the store holds; a product without one (a killed run, an older store) is diffed chunk
by chunk and gets its digest then.

Digests live in a side collection ``<collection>.digests-v2`` of the same Chroma, one record per
product, so a price feed rewrites only the records of the products it changed. A record packs
its fields into its document: Chroma returns 30,000 documents in a quarter of the time it
takes for as many metadata dicts, and every ingest reads them all. A record in the older
metadata form (``<collection>.digests``) is not read: each product is diffed once, and the
old collection is dropped by that ingest.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from catalog.errors import StoreError

DIGESTS_SUFFIX = ".digests-v2"
# Earlier forms (digest in the metadata): dropped by the first ingest that writes digests.
_LEGACY_SUFFIXES = (".digests",)
_PAGE = 5000  # records per write call (under Chroma's batch limit)
# Reads page by offset, and every page costs a scan up to its offset: few, big pages.
_READ_PAGE = 50_000


@dataclass(frozen=True)
class ProductDigest:
    digest: str
    source: str  # the core chunk's source file
    chunk_ids: tuple[str, ...]
    row: str = ""  # key of the catalog row the product was read from ("" when none)


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
        self._client = client
        self._legacy = [collection + suffix for suffix in _LEGACY_SUFFIXES]
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
                self._collection.get, include=["documents"], limit=_READ_PAGE, offset=offset
            )
            for product_id, packed in zip(page["ids"], page["documents"] or [], strict=False):
                digest = _decode(product_id, packed or "")
                if digest is not None:
                    found[product_id] = digest
            if len(page["ids"]) < _READ_PAGE:
                return found
            offset += _READ_PAGE

    def remove(self, product_ids: Iterable[str]) -> None:
        ids = sorted(set(product_ids))
        for start in range(0, len(ids), _PAGE):
            self._call(self._collection.delete, ids=ids[start : start + _PAGE])

    def write(self, changes: Mapping[str, ProductDigest | None]) -> None:
        """Set (or, for None, remove) the digests of these products."""
        self._drop_legacy()
        self.remove(pid for pid, digest in changes.items() if digest is None)
        rows = sorted((pid, digest) for pid, digest in changes.items() if digest is not None)
        for start in range(0, len(rows), _PAGE):
            page = rows[start : start + _PAGE]
            self._call(
                self._collection.upsert,
                ids=[pid for pid, _ in page],
                documents=[_encode(pid, digest) for pid, digest in page],
                embeddings=[[_spread(pid)] for pid, _ in page],
            )

    def drop(self) -> None:
        self._drop_legacy()
        self._call(self._client.delete_collection, self.collection_name)

    def _drop_legacy(self) -> None:
        while self._legacy:
            with contextlib.suppress(Exception):  # absent (the usual case) or already gone
                self._client.delete_collection(self._legacy[0])
            self._legacy.pop(0)

    @staticmethod
    def _call(call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except Exception as exc:  # connection refused, server gone, ...
            raise StoreError(f"product digests operation failed: {exc}") from exc


_SEP = "\x1f"  # between a record's fields; chunk id suffixes are joined by newlines


def _encode(product_id: str, digest: ProductDigest) -> str:
    prefix = product_id + "::"
    suffixes = "\n".join(chunk_id.removeprefix(prefix) for chunk_id in digest.chunk_ids)
    return _SEP.join(("v2", digest.digest, digest.row, suffixes, digest.source))


def _decode(product_id: str, packed: str) -> ProductDigest | None:
    parts = packed.split(_SEP, 4)
    if len(parts) != 5 or parts[0] != "v2" or not parts[1]:
        return None
    _, digest, row, chunks, source = parts
    prefix = product_id + "::"
    return ProductDigest(
        digest=digest,
        source=source,
        chunk_ids=tuple(prefix + suffix for suffix in chunks.split("\n") if suffix),
        row=row,
    )


def _spread(product_id: str) -> float:
    # A one-dimensional vector per record (Chroma wants one); distinct values keep its index
    # from piling thousands of identical points together.
    return int.from_bytes(hashlib.blake2b(product_id.encode(), digest_size=4).digest()) / 2**32

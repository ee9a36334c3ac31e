"""Which model and backend wrote a collection's vectors, so that queries never mix them.

The record sits in the collection's side records (``store.meta``, key ``embedding``). Int8 and
fp32 vectors count as different backends: their cosine to each other is only 0.98 at worst
over the catalog texts (docs/notes/issue-14.md), so mixing them would shift rankings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from catalog.errors import StoreError

if TYPE_CHECKING:
    from catalog.embeddings import LocalEmbeddings
    from catalog.store import ProductStore

RECORD_KEY = "embedding"
# Collections written before the record existed were all embedded by sentence-transformers.
LEGACY_BACKEND = "torch"


class EmbeddingMismatchError(StoreError):
    """The collection holds vectors from another model or backend than this process uses."""


def embedding_record(embeddings: LocalEmbeddings) -> dict[str, Any]:
    return {
        "model": embeddings.model_name,
        "backend": embeddings.backend,
        "dimension": embeddings.dimension,
    }


def stored_record(store: ProductStore) -> dict[str, Any] | None:
    """The record of a collection that holds vectors (a legacy one counts as torch), or None
    for an empty collection, whose record no longer says anything."""
    if store.count() == 0:
        return None
    found = store.meta.get(RECORD_KEY)
    if found is None:
        return {"model": "all-MiniLM-L6-v2", "backend": LEGACY_BACKEND, "dimension": 384}
    return found


def check_embedding_record(store: ProductStore, embeddings: LocalEmbeddings) -> None:
    """Raise :class:`EmbeddingMismatchError`, telling the operator what to do, when the
    collection's vectors come from another model, backend or dimension than ``embeddings``."""
    stored = stored_record(store)
    if stored is None:
        return
    ours = embedding_record(embeddings)
    differs = [key for key in ("model", "backend", "dimension") if stored.get(key) != ours[key]]
    if not differs:
        return
    theirs = f"{stored.get('model')} / {stored.get('backend')} ({stored.get('dimension')} dims)"
    mine = f"{ours['model']} / {ours['backend']} ({ours['dimension']} dims)"
    raise EmbeddingMismatchError(
        f"collection {store.collection_name!r} holds vectors from {theirs}, but this process "
        f"embeds with {mine}: set AISLE_EMBEDDING__BACKEND={stored.get('backend')} to use it "
        f"as it is, or re-ingest with AISLE_EMBEDDING__BACKEND={ours['backend']} into an empty "
        "collection (a new AISLE_COLLECTION, or after deleting this one)"
    )


def record_embedding(store: ProductStore, embeddings: LocalEmbeddings) -> None:
    """Record that ``embeddings`` wrote this collection's vectors (after checking it may)."""
    store.meta.put(RECORD_KEY, embedding_record(embeddings))

"""What the lifespan builds and the routers use: the catalog side and the chat service.

The store is opened lazily and again after a failure, so the app starts (and /readyz can say
what is wrong) while Chroma is down.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aisle.settings import Settings
from catalog.embeddings import LocalEmbeddings
from catalog.search import HybridSearcher, KeywordIndexHandle
from catalog.store import ProductStore, StoreError
from service.answering.backends.factory import Backends
from service.answering.chat import ChatService
from service.answering.constraints import Vocabulary
from service.answering.retrieval import Retriever
from service.errors import ServiceUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatalogSnapshot:
    """Facts derived from every product's core metadata, cached per keyword-index generation."""

    generation: str
    vocabulary: Vocabulary
    metadatas: list[dict[str, Any]]


class Catalog:
    """The store, hybrid search and retriever of one app, built on first use."""

    def __init__(self, settings: Settings, embeddings: LocalEmbeddings) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self._lock = threading.Lock()
        self._store: ProductStore | None = None
        self._keyword: KeywordIndexHandle | None = None
        self._retriever: Retriever | None = None
        self._snapshot: CatalogSnapshot | None = None

    def store(self) -> ProductStore:
        """The open store; raises ServiceUnavailable (503) naming Chroma when it cannot open."""
        if self._store is not None:
            return self._store
        with self._lock:
            if self._store is None:
                settings = self.settings
                try:
                    store = ProductStore.open(
                        chroma_url=settings.chroma_url,
                        data_dir=settings.data_dir,
                        collection=settings.collection,
                    )
                except StoreError as exc:
                    raise ServiceUnavailable(str(exc), code="store_unavailable") from exc
                keyword = KeywordIndexHandle(settings.keyword_dir, store)
                searcher = HybridSearcher(store, self.embeddings, keyword, settings.retrieval)
                self._keyword = keyword
                self._retriever = Retriever(searcher, self.vocabulary)
                self._store = store
            return self._store

    def retriever(self) -> Retriever:
        self.store()
        assert self._retriever is not None
        return self._retriever

    def snapshot(self) -> CatalogSnapshot:
        store = self.store()
        assert self._keyword is not None
        try:
            generation = self._keyword.get().generation
            current = self._snapshot
            if current is not None and current.generation == generation:
                return current
            metadatas = store.core_metadatas()
        except StoreError as exc:
            raise ServiceUnavailable(str(exc), code="store_unavailable") from exc
        snapshot = CatalogSnapshot(generation, Vocabulary.from_metadatas(metadatas), metadatas)
        self._snapshot = snapshot
        return snapshot

    def vocabulary(self) -> Vocabulary:
        return self.snapshot().vocabulary

    def get_product(self, product_id: str) -> dict[str, Any] | None:
        try:
            return self.store().get_product(product_id)
        except StoreError as exc:
            raise ServiceUnavailable(str(exc), code="store_unavailable") from exc

    def facets(self) -> dict[str, Any]:
        metadatas = self.snapshot().metadatas
        categories = Counter(str(m["category"]) for m in metadatas if m.get("category"))
        brands = Counter(str(m["brand"]) for m in metadatas if m.get("brand"))
        prices = [float(m["price"]) for m in metadatas if isinstance(m.get("price"), int | float)]
        return {
            "categories": [{"name": n, "count": c} for n, c in sorted(categories.items())],
            "brands": [{"name": n, "count": c} for n, c in sorted(brands.items())],
            "price": {"min": min(prices, default=None), "max": max(prices, default=None)},
            "examples": example_questions(metadatas),
        }

    def readiness(self) -> dict[str, int]:
        """Product and chunk counts; raises ServiceUnavailable when the store is not usable."""
        store = self.store()
        try:
            store.heartbeat()
            return {"products": len(self.snapshot().metadatas), "chunks": store.count()}
        except StoreError as exc:
            raise ServiceUnavailable(str(exc), code="store_unavailable") from exc


def example_questions(metadatas: list[dict[str, Any]], limit: int = 6) -> list[str]:
    """A few questions a shopper could ask this catalog (stable: products in id order)."""
    ordered = sorted(metadatas, key=lambda m: str(m.get("product_id", "")))
    questions: list[str] = []
    titled = [m for m in ordered if m.get("title")]
    if titled:
        questions.append(f"How much is the {titled[0]['title']}?")
    if len(titled) > 1:
        questions.append(f"Does the {titled[len(titled) // 2]['title']} have a warranty?")
    if len(titled) > 2:
        questions.append(f"What is the return policy for the {titled[-1]['title']}?")
    priced = [m for m in ordered if m.get("category") and isinstance(m.get("price"), int | float)]
    seen: set[str] = set()
    for meta in priced:
        category = str(meta["category"])
        if category in seen:
            continue
        seen.add(category)
        ceiling = max(10, int(round(float(meta["price"]) * 1.5, -1)))
        questions.append(f"{category} under ${ceiling}")
        if len(seen) == 2:
            break
    if titled:
        questions.append(f"Is the {titled[1 % len(titled)]['title']} in stock?")
    return questions[:limit]


@dataclass
class AppState:
    """Typed app state (``app.state.aisle``)."""

    settings: Settings
    embeddings: LocalEmbeddings
    catalog: Catalog
    backends: Backends
    chat: ChatService

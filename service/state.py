"""What the lifespan builds and the routers use: the catalog side and the chat service.

The store is opened lazily and again after a failure, so the app starts (and /readyz can say
what is wrong) while Chroma is down.

Generations: the keyword index, every product's core metadata and what is derived from them
(the snapshot: vocabulary, facets) follow the store's generation. A process checks it at most
every ``api.catalog_refresh_s`` seconds; when it changed, one thread loads the new generation
and derives the new snapshot while every other request keeps the one it had (single flight),
then one assignment swaps it in.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aisle.settings import Settings
from catalog.embedding_record import EmbeddingMismatchError, check_embedding_record
from catalog.embeddings import LocalEmbeddings
from catalog.evidence.scorer import EvidenceScorer, ScorerError
from catalog.profile import CatalogProfile
from catalog.search import HybridSearcher, KeywordIndexHandle, SearchView
from catalog.store import ProductStore, StoreError
from service.answering.answerer import Answerer
from service.answering.backends.factory import Backends
from service.answering.catalog_view import CatalogView
from service.answering.chat import ChatService
from service.answering.passages import CosineRanker, PassageRanker
from service.answering.wording import example_questions
from service.errors import ServiceUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatalogSnapshot:
    """Facts derived from every product's core metadata, for one store generation.

    Add derived fields here (built in :meth:`CatalogSnapshot.derive`): they are built once per
    generation, off the request path once a first snapshot exists.
    """

    generation: str
    metadatas: list[dict[str, Any]]
    catalog: CatalogView  # the profile and the planner's lookups

    @classmethod
    def derive(cls, view: SearchView, profile: CatalogProfile | None) -> CatalogSnapshot:
        return cls(
            generation=view.generation.id,
            metadatas=view.metadatas,
            catalog=CatalogView.build(profile, view.metadatas, knows=view.index.knows),
        )


class Catalog:
    """The store, hybrid search and retriever of one app, built on first use."""

    def __init__(self, settings: Settings, embeddings: LocalEmbeddings) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self._lock = threading.Lock()
        self._deriving = threading.Lock()
        self._store: ProductStore | None = None
        self._keyword: KeywordIndexHandle | None = None
        self._searcher: HybridSearcher | None = None
        self._answerer: Answerer | None = None
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
                    check_embedding_record(store, self.embeddings)  # issue 14: never mix
                except EmbeddingMismatchError as exc:
                    raise ServiceUnavailable(str(exc), code="embedding_mismatch") from exc
                except StoreError as exc:
                    raise ServiceUnavailable(str(exc), code="store_unavailable") from exc
                keyword = KeywordIndexHandle(
                    settings.keyword_dir,
                    store,
                    check_every_s=settings.api.catalog_refresh_s,
                    background=True,
                )
                searcher = HybridSearcher(store, self.embeddings, keyword, settings.retrieval)
                self._searcher = searcher
                self._keyword = keyword
                self._answerer = Answerer(self.embeddings, searcher, store, self._ranker())
                self._store = store
                # Load the keyword index and snapshot now, not on the first shopper's request.
                threading.Thread(target=self._warm_up, name="catalog-warm-up", daemon=True).start()
            return self._store

    def _warm_up(self) -> None:
        try:
            self.snapshot()
        except Exception as exc:  # the first request tries again and reports it
            log.warning("cannot load the catalog yet: %s", exc)

    def _ranker(self) -> PassageRanker:
        """The learned evidence scorer; cosine similarity if its artefact cannot be read."""
        try:
            return EvidenceScorer.load(embeddings=self.embeddings)
        except ScorerError as exc:
            log.warning("evidence scorer unavailable, ranking passages by cosine: %s", exc)
            return CosineRanker(self.embeddings)

    def answering(self) -> tuple[Answerer, CatalogView]:
        """The answering core and the catalog view of the newest loaded generation."""
        view = self.view()
        assert self._answerer is not None
        return self._answerer, view

    def searcher(self) -> HybridSearcher:
        """Hybrid search itself (POST /v1/search with one retriever, for evaluation)."""
        self.store()
        assert self._searcher is not None
        return self._searcher

    def keyword(self) -> KeywordIndexHandle:
        self.store()
        assert self._keyword is not None
        return self._keyword

    def snapshot(self) -> CatalogSnapshot:
        """The snapshot of the newest generation this process has loaded."""
        try:
            view = self.keyword().view()
        except StoreError as exc:
            raise ServiceUnavailable(str(exc), code="store_unavailable") from exc
        current = self._snapshot
        if current is not None and current.generation == view.generation.id:
            return current
        if current is not None and not self._deriving.acquire(blocking=False):
            return current  # another request is deriving the new one: keep serving this one
        if current is None:
            self._deriving.acquire()
        try:
            latest = self._snapshot
            if latest is None or latest.generation != view.generation.id:
                latest = CatalogSnapshot.derive(view, self._profile())
                self._snapshot = latest
            return latest
        finally:
            self._deriving.release()

    def refresh(self) -> None:
        """Load the store's generation now (after an ingest this process ran)."""
        try:
            self.keyword().refresh()
        except StoreError as exc:
            log.warning("cannot refresh the catalog: %s", exc)

    def view(self) -> CatalogView:
        return self.snapshot().catalog

    def _profile(self) -> CatalogProfile | None:
        try:
            return CatalogProfile.load(self.store().meta)
        except StoreError as exc:
            log.warning("the catalog profile cannot be read: %s", exc)
            return None

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
            "examples": example_questions(self.view()),
            "currency": self.view().profile.currency,  # prices are printed in these
            "locale": self.view().profile.locale,
        }

    def readiness(self) -> dict[str, Any]:
        """Product and chunk counts and the generation served; raises ServiceUnavailable when
        the store is not usable."""
        store = self.store()
        try:
            store.heartbeat()
            snapshot = self.snapshot()
            return {
                "products": len(snapshot.metadatas),
                "chunks": store.count(),
                "generation": snapshot.generation,
            }
        except StoreError as exc:
            raise ServiceUnavailable(str(exc), code="store_unavailable") from exc


@dataclass
class AppState:
    """Typed app state (``app.state.aisle``)."""

    settings: Settings
    embeddings: LocalEmbeddings
    catalog: Catalog
    backends: Backends
    chat: ChatService

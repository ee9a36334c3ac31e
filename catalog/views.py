"""The catalog as one process serves it: one store generation's keyword index, products'
core metadata and filter columns, refreshed when the store's generation changes.

Readers keep the view they have while one thread loads the next (single flight); the new view
replaces the old one in one assignment. See :class:`KeywordIndexHandle`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from catalog.errors import StoreError
from catalog.facts import ProductFacts, chunk_mask
from catalog.generation import Generation
from catalog.keyword import KeywordIndex, saved_name
from catalog.models import ChunkKind, Filters

if TYPE_CHECKING:
    from catalog.store import ProductStore

log = logging.getLogger(__name__)


def core_chunk_id(product_id: str) -> str:
    return f"{product_id}::{ChunkKind.CORE.value}::0"


@dataclass(frozen=True)
class SearchView:
    """One generation of the catalog as this process sees it: the keyword index, every
    product's core metadata (record included) and their filter columns."""

    generation: Generation
    index: KeywordIndex
    metadatas: list[dict[str, Any]]
    facts: ProductFacts
    rows: np.ndarray = field(repr=False)  # each index chunk's row in ``facts``

    @classmethod
    def make(
        cls, generation: Generation, index: KeywordIndex, metadatas: list[dict[str, Any]]
    ) -> SearchView:
        facts = ProductFacts(metadatas)
        products = [str(meta.get("product_id", "")) for meta in index.metadatas]
        return cls(generation, index, metadatas, facts, facts.rows_of(products))

    def keyword_mask(
        self, filters: Filters | None, among: Collection[str] | None = None
    ) -> np.ndarray | None:
        if (filters is None or filters.is_empty()) and among is None:
            return None
        return chunk_mask(self.facts, self.rows, filters, among)


class KeywordIndexHandle:
    """The current :class:`SearchView`, refreshed when the store's generation changes.

    The store's generation is read at most every ``check_every_s`` seconds. A new generation
    is loaded by one thread at a time (single flight); with ``background`` the other requests
    keep the view they have meanwhile, and the new one replaces it in one assignment. The
    keyword index is rebuilt only when the text generation changed; a metadata-only change
    re-reads just the products it lists. ``cache_dir`` (this process's own disk) keeps a copy
    of the index per text generation, so a restart need not rebuild it.
    """

    def __init__(
        self,
        cache_dir: Path | None,
        store: ProductStore,
        *,
        check_every_s: float = 0.0,
        background: bool = False,
    ) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._store = store
        self.check_every_s = check_every_s
        self.background = background
        self._view: SearchView | None = None
        self._checked_at = 0.0
        self._refreshing = threading.Lock()  # held by the one thread loading a generation
        self._checking = threading.Lock()
        self.rebuilds = 0  # keyword indexes built (not loaded): what a price feed must not do
        self.refreshes = 0

    def get(self) -> KeywordIndex:
        return self.view().index

    def view(self) -> SearchView:
        view = self._view
        if view is None:
            with self._refreshing:
                if self._view is None:
                    self._view = self._load(self._store.generation(), None)
                    self._checked_at = time.monotonic()
                return self._view
        if time.monotonic() - self._checked_at >= self.check_every_s:
            self._check(view)
        return self._view or view

    def refresh(self) -> SearchView:
        """Check the store now and load its generation if it is new (waits for it)."""
        self._checked_at = 0.0
        view = self._view
        if view is None:
            return self.view()
        generation = self._store.generation()
        if generation.id != view.generation.id:
            self._refresh(generation)
        return self._view or view

    # -- internals --------------------------------------------------------------------------
    def _check(self, view: SearchView) -> None:
        if not self._checking.acquire(blocking=False):
            return  # another request is asking the store right now
        try:
            if time.monotonic() - self._checked_at < self.check_every_s:
                return
            generation = self._store.generation()
            self._checked_at = time.monotonic()
        finally:
            self._checking.release()
        if generation.id == view.generation.id:
            return
        if self.background:
            if not self._refreshing.locked():
                threading.Thread(
                    target=self._refresh_quietly, args=(generation,), daemon=True
                ).start()
        else:
            self._refresh(generation)

    def _refresh_quietly(self, generation: Generation) -> None:
        try:
            self._refresh(generation)
        except StoreError as exc:  # keep serving the view we have; retried on the next check
            log.warning("cannot load catalog generation %s: %s", generation.id, exc)
            self._checked_at = 0.0

    def _refresh(self, generation: Generation) -> None:
        with self._refreshing:
            current = self._view
            if current is not None and current.generation.id == generation.id:
                return
            self._view = self._load(generation, current)

    def _load(self, generation: Generation, current: SearchView | None) -> SearchView:
        self.refreshes += 1
        if current is not None and current.generation.text == generation.text:
            metadatas = self._metadatas(generation, current)
            return SearchView.make(generation, current.index, metadatas)
        index = self._cached(generation)
        if index is not None:
            return SearchView.make(generation, index, self._metadatas(generation, None))
        records = list(self._store.iter_chunks())
        index = KeywordIndex.build(records)
        self.rebuilds += 1
        metadatas = [
            _core_facts(meta)
            for chunk_id, _, meta in records
            if chunk_id == core_chunk_id(str(meta.get("product_id", "")))
        ]
        self._save(index, generation)
        return SearchView.make(generation, index, metadatas)

    def _metadatas(
        self, generation: Generation, current: SearchView | None
    ) -> list[dict[str, Any]]:
        """Core metadata of the new generation: only the listed products re-read when the
        generation follows the one held, else all of them."""
        if (
            current is None
            or generation.previous != current.generation.id
            or not (generation.changed is not None)
        ):
            return [_core_facts(meta) for meta in self._store.core_metadatas()]
        changed = set(generation.changed)
        fresh = {
            chunk.product_id: _core_facts(chunk.metadata)
            for chunk in self._store.get_chunks([core_chunk_id(pid) for pid in sorted(changed)])
        }
        kept = [meta for meta in current.metadatas if meta.get("product_id") not in changed]
        return kept + list(fresh.values())

    def _cached(self, generation: Generation) -> KeywordIndex | None:
        if self.cache_dir is None or generation.id == "initial":
            return None
        if saved_name(self.cache_dir) != generation.text:
            return None
        return KeywordIndex.load(self.cache_dir)

    def _save(self, index: KeywordIndex, generation: Generation) -> None:
        if self.cache_dir is None or generation.id == "initial":
            return
        try:
            index.save(self.cache_dir, generation.text)
        except OSError as exc:  # a cache only: serving goes on without it
            log.warning("cannot cache the keyword index in %s: %s", self.cache_dir, exc)


def _core_facts(meta: dict[str, Any]) -> dict[str, Any]:
    # Kept whole, the record included: the planner answers from it without a round trip.
    return dict(meta)

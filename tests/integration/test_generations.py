"""Generations on a real embedded Chroma: the keyword index copy on disk is swapped atomically,
a new generation is loaded by one thread while the others keep serving the old one, and an
ingest encodes in slices so a query never waits behind a big batch."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from catalog.generation import bump_generation
from catalog.keyword import KeywordIndex
from catalog.models import Chunk, Product
from catalog.search import KeywordIndexHandle
from catalog.store import ProductStore
from ingestion.chunking import chunk_product
from ingestion.loaders import LoadedProduct

pytestmark = pytest.mark.integration


def _records(n: int, word: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (f"{word}{i}::core::0", f"{word} number {i}", {"product_id": f"{word}{i}"})
        for i in range(n)
    ]


def test_a_saved_index_is_swapped_atomically_under_readers(tmp_path: Path) -> None:
    small, large = KeywordIndex.build(_records(3, "alpha")), KeywordIndex.build(_records(5, "beta"))
    small.save(tmp_path, "gen-small")
    seen: list[int | None] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            index = KeywordIndex.load(tmp_path)
            if index is None:
                seen.append(None)
                continue
            hits = index.search("alpha beta number", 10)
            # One generation's files only: its ids and its model agree.
            assert {hit.chunk_id for hit in hits} <= set(index.ids)
            seen.append(len(index))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    for round_ in range(40):
        (large if round_ % 2 else small).save(tmp_path, f"gen-{round_}")
    done.set()
    for thread in readers:
        thread.join(30)
    assert seen and None not in seen, "a reader found no index while it was being replaced"
    assert set(seen) <= {3, 5}


class CountingStore(ProductStore):
    """A real store that counts the full reads a refresh makes, each slowed a little."""

    full_reads = 0

    def iter_chunks(self) -> Any:
        type(self).full_reads += 1
        time.sleep(0.5)  # a big catalog: the refresh takes a while
        yield from super().iter_chunks()


def _vector(seed: int) -> list[float]:
    vector = np.random.default_rng(seed).normal(size=384)
    return list(vector / np.linalg.norm(vector))


def _chunks(n: int, word: str) -> list[Chunk]:
    chunks: list[Chunk] = []
    for i in range(n):
        product = Product(product_id=f"{word}{i}", title=f"{word} kettle {i}", price=10.0 + i)
        chunks += chunk_product(LoadedProduct(product=product))
    return chunks


def test_a_new_generation_is_loaded_once_while_requests_keep_the_old_view(
    tmp_path: Path,
) -> None:
    from chromadb import PersistentClient
    from chromadb.config import Settings as ChromaSettings

    client = PersistentClient(
        path=str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    store = CountingStore(client, "single-flight")
    first = _chunks(4, "copper")
    store.upsert(first, [_vector(n) for n in range(len(first))])
    bump_generation(store.meta, text_changed=True, changed=[])
    handle = KeywordIndexHandle(None, store, check_every_s=0.0, background=True)
    old = handle.view()
    assert CountingStore.full_reads == 1

    more = _chunks(6, "brass")
    store.upsert(more, [_vector(100 + n) for n in range(len(more))])
    new_generation = bump_generation(store.meta, text_changed=True, changed=[])
    waits: list[float] = []
    views: list[Any] = []

    def request() -> None:
        started = time.perf_counter()
        views.append(handle.view())
        waits.append(time.perf_counter() - started)

    threads = [threading.Thread(target=request) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert all(view is old for view in views)  # nobody waited for the new generation
    assert max(waits) < 0.4
    deadline = time.monotonic() + 30
    while handle.view().generation.id != new_generation.id and time.monotonic() < deadline:
        time.sleep(0.05)
    assert handle.view().generation.id == new_generation.id
    assert len(handle.get()) == 10
    assert CountingStore.full_reads == 2  # one refresh for sixteen requests


class SliceRecorder:
    """The real model, recording how many texts each encode call carried."""

    def __init__(self, embeddings: Any) -> None:
        self._embeddings = embeddings
        self.batch_size = embeddings.batch_size
        self.calls: list[int] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        return self._embeddings.embed_documents(texts)

    def __getattr__(self, name: str) -> Any:  # model name, backend, dimension...
        return getattr(self._embeddings, name)


def test_ingest_encodes_in_slices(tmp_path: Path, embeddings: Any) -> None:
    import json

    from ingestion.pipeline import ingest_files

    rows = [{"id": f"s{i}", "title": f"Slice mug {i}", "price": 3.0} for i in range(150)]
    catalog = tmp_path / "mugs.json"
    catalog.write_text(json.dumps(rows), encoding="utf-8")
    store = ProductStore.open(chroma_url="", data_dir=tmp_path, collection="slices")
    recorder = SliceRecorder(embeddings)
    summary = ingest_files([catalog], store=store, embeddings=recorder, embed_slice=32)  # type: ignore[arg-type]
    assert summary.added == 150 and sum(recorder.calls) == 150
    assert max(recorder.calls) <= 32  # a query waits for one slice at most

"""Hybrid search over the real demo store (real Chroma, BM25 and embedding model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aisle.settings import load_settings
from catalog.keyword import KeywordIndex
from catalog.models import Filters
from catalog.search import HybridSearcher, KeywordIndexHandle, Retriever
from catalog.store import ProductStore

pytestmark = pytest.mark.integration

DEMO = json.loads((Path(__file__).resolve().parents[2] / "data/catalog/products.json").read_text())


def _filters(**values: object) -> Filters:
    return Filters.model_validate(values)


@pytest.fixture(scope="module")
def searcher(demo_data_dir: Path, embeddings) -> HybridSearcher:
    settings = load_settings(_env_file=None, data_dir=demo_data_dir)
    store = ProductStore.open(chroma_url="", data_dir=demo_data_dir, collection=settings.collection)
    keyword = KeywordIndexHandle(settings.keyword_dir, store)
    return HybridSearcher(store, embeddings, keyword, settings.retrieval)


def test_filters_are_applied_to_every_result(searcher: HybridSearcher) -> None:
    laptops = {str(p["id"]) for p in DEMO if p["category"] == "laptops" and p["price"] <= 1200}
    hits = searcher.search("laptop", 10, _filters(category="laptops", max_price=1200))
    assert {hit.product_id for hit in hits} == laptops
    for hit in searcher.search("gift", 20, _filters(min_price=20, max_price=60, in_stock=True)):
        assert 20 <= hit.metadata["price"] <= 60 and hit.metadata["in_stock"] is True


def test_one_hit_per_product_with_record_and_best_chunks_first(searcher: HybridSearcher) -> None:
    hits = searcher.search("apple airpods wireless earphones", 8)
    ids = [hit.product_id for hit in hits]
    assert len(ids) == len(set(ids)) == 8
    for hit in hits:
        assert json.loads(hit.metadata["record"])["product_id"] == hit.product_id
        assert all(chunk.product_id == hit.product_id for chunk in hit.chunks)
        scores = [chunk.score for chunk in hit.chunks]
        assert scores == sorted(scores, reverse=True)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


@pytest.mark.parametrize(
    "title",
    [
        "Apple MacBook Pro 14 Inch Space Grey",
        "Rolex Cellini Date Black Dial",
        "Kawasaki Z800",
        "Knoll Saarinen Executive Conference Chair",
        "Oppo F19 Pro Plus",
        "Nescafe Coffee",
    ],
)
def test_exact_titles_come_first(searcher: HybridSearcher, title: str) -> None:
    assert searcher.search(title, 5)[0].title == title


def test_keyword_side_finds_rare_exact_terms(searcher: HybridSearcher) -> None:
    # "Z800" means little to the embedding model; BM25 matches it exactly.
    index = searcher.keyword.get()
    assert any(hit.product_id == "114" for hit in index.search("z800", 5))
    assert searcher.search("z800", 3)[0].product_id == "114"


def test_products_by_id_and_empty_filter_result(searcher: HybridSearcher) -> None:
    assert [hit.product_id for hit in searcher.products(["78", "missing", "1"])] == ["78", "1"]
    assert searcher.search("laptop", 5, _filters(category="laptops", max_price=5)) == []


def test_keyword_handle_follows_the_store_generation(
    searcher: HybridSearcher, tmp_path: Path
) -> None:
    from catalog.generation import bump_generation

    store = ProductStore.open(chroma_url="", data_dir=tmp_path, collection="handle-test")
    chunks = list(searcher.store.iter_chunks())[:12]
    vectors = searcher.store.vectors([chunk_id for chunk_id, _, _ in chunks])
    store._collection.upsert(  # a copy of a few demo chunks, vectors included
        ids=[c for c, _, _ in chunks],
        documents=[t for _, t, _ in chunks],
        metadatas=[m for _, _, m in chunks],
        embeddings=[vectors[c] for c, _, _ in chunks],
    )
    handle = KeywordIndexHandle(tmp_path / "bm25", store)
    first = handle.view()
    assert len(first.index) == 12 and handle.rebuilds == 1
    assert handle.view() is first  # same generation: nothing reloaded

    bump_generation(store.meta, text_changed=False, changed=[])  # metadata only
    second = handle.view()
    assert second.index is first.index and handle.rebuilds == 1
    store.delete([chunks[0][0]])
    bump_generation(store.meta, text_changed=True, changed=[])
    third = handle.view()
    assert len(third.index) == 11 and handle.rebuilds == 2
    assert KeywordIndex.load(tmp_path / "bm25") is not None  # cached for a restart

    restarted = KeywordIndexHandle(tmp_path / "bm25", store)
    assert len(restarted.get()) == 11 and restarted.rebuilds == 0  # loaded, not rebuilt


@pytest.mark.parametrize("exact_ids", [200, 0])  # scored from stored vectors; searched by id
def test_a_filter_too_selective_for_the_pool_searches_the_chunks_it_allows(
    searcher: HybridSearcher, monkeypatch: pytest.MonkeyPatch, exact_ids: int
) -> None:
    import catalog.search

    # A pool of the 40 nearest chunks holds no vehicle for a query about lipstick: the dense
    # side must rank the chunks the filter allows, and find what Chroma's own filtered query
    # finds, whether it scores them from their vectors or searches them by id.
    monkeypatch.setattr(catalog.search, "FILTER_POOL", 1)
    monkeypatch.setattr(catalog.search, "_EXACT_IDS", exact_ids)
    filters = _filters(category="vehicle")
    vector = searcher.embeddings.embed_query("red lipstick")
    pool = searcher.store.nearest_ids(vector, 40)
    assert not any(chunk_id.split("::")[0] in _ids_of("vehicle") for chunk_id, _ in pool)
    view = searcher.keyword.view()
    dense = searcher._dense(vector, 40, filters, view)
    expected = searcher.store.query(vector, 40, filters)
    assert [c.chunk_id for c in dense] == [c.chunk_id for c in expected]
    assert [round(c.score, 4) for c in dense] == [round(c.score, 4) for c in expected]
    hits = searcher.search("red lipstick", 5, filters, retriever="dense")
    assert hits and {hit.product_id for hit in hits} <= _ids_of("vehicle")


@pytest.mark.parametrize("retriever", ["hybrid", "dense", "keyword"])
def test_a_search_among_products_ranks_only_those(
    searcher: HybridSearcher, retriever: Retriever
) -> None:
    # "stylish lipstick" among the vehicles (lipsticks are nearer; two vehicles are called
    # stylish): only vehicles, by every retriever; with a price ceiling too, only those under it.
    vehicles = _ids_of("vehicle")
    hits = searcher.search("stylish lipstick", 5, retriever=retriever, among=vehicles)
    assert hits and {hit.product_id for hit in hits} <= vehicles
    ceiling = sorted(p["price"] for p in DEMO if str(p["id"]) in vehicles)[1]
    cheap = searcher.search("car", 5, _filters(max_price=ceiling), among=vehicles)
    assert len(cheap) == 2
    assert {hit.product_id for hit in cheap} == {
        str(p["id"]) for p in DEMO if str(p["id"]) in vehicles and p["price"] <= ceiling
    }
    assert searcher.search("red lipstick", 5, among=set()) == []


def _ids_of(category: str) -> set[str]:
    return {str(p["id"]) for p in DEMO if p["category"] == category}

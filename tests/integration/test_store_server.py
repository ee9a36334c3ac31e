"""One store contract, run against the embedded Chroma and a real ``chroma run`` server."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from catalog.digests import ProductDigest
from catalog.lease import IngestLock, LockHeld
from catalog.models import Chunk, ChunkKind, Filters, Product
from catalog.store import ProductStore, StoreError
from ingestion.chunking import chunk_product
from ingestion.loaders import LoadedProduct
from ingestion.pipeline import ingest_files
from tests.conftest import DEMO_CATALOG, free_port

pytestmark = pytest.mark.integration


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ProductStore:
    collection = f"contract-{uuid.uuid4().hex[:12]}"
    if request.param == "server":
        url = request.getfixturevalue("chroma_server")
        return ProductStore.open(chroma_url=url, data_dir=tmp_path, collection=collection)
    return ProductStore.open(chroma_url="", data_dir=tmp_path, collection=collection)


def _chunks(**changes: Any) -> list[Chunk]:
    chunks = []
    for n, (brand, price, stock) in enumerate([("Acme", 10.0, 3), ("Bolt", 25.0, 0)]):
        fields: dict[str, Any] = {
            "product_id": f"p{n}",
            "title": f"Widget {n}",
            "price": price,
            "brand": brand,
            "stock": stock,
            "rating": 4.0 + n / 2,
            "attributes": {"reviews": [{"comment": "Fine", "reviewerName": "Al"}]},
            "source": "/catalog.json",
        }
        fields.update(changes.get(f"p{n}", {}))
        chunks += chunk_product(LoadedProduct(product=Product(**fields)))
    return chunks


def _vector(seed: int) -> list[float]:
    vector = np.random.default_rng(seed).normal(size=384)
    return list(vector / np.linalg.norm(vector))


def test_write_read_filter_update_delete(store: ProductStore) -> None:
    chunks = _chunks()
    vectors = [_vector(n) for n in range(len(chunks))]
    store.upsert(chunks, vectors)
    assert store.count() == 4

    stored = store.stored_chunks()
    assert set(stored) == {"p0::core::0", "p0::reviews::0", "p1::core::0", "p1::reviews::0"}
    assert stored["p0::core::0"].content_hash == chunks[0].content_hash
    assert stored["p0::core::0"].source == "/catalog.json"

    record = store.get_product("p1")
    assert record is not None and record["brand"] == "Bolt" and record["in_stock"] is False
    assert store.get_product("nope") is None
    assert sorted(meta["product_id"] for meta in store.core_metadatas()) == ["p0", "p1"]

    hits = store.query(vectors[2], k=1)
    assert hits[0].chunk_id == "p1::core::0" and hits[0].score == pytest.approx(1.0, abs=1e-4)
    in_stock = store.query(vectors[2], k=4, filters=Filters.model_validate({"in_stock": True}))
    assert {hit.product_id for hit in in_stock} == {"p0"}
    cheap_acme = store.query(
        vectors[0], k=4, filters=Filters.model_validate({"max_price": 20, "brand": "ACME "})
    )
    assert {hit.product_id for hit in cheap_acme} == {"p0"}
    assert (
        store.query(vectors[0], k=4, filters=Filters.model_validate({"min_rating": 4.4}))[
            0
        ].product_id
        == "p1"
    )

    updated = _chunks(p0={"price": 7.5, "stock": 0})
    store.update_metadata(updated[:2])
    after = {hit.chunk_id: hit for hit in store.product_chunks("p0")}
    assert {hit.metadata["price"] for hit in after.values()} == {7.5}
    assert after["p0::core::0"].metadata["meta_hash"] == updated[0].meta_hash
    kept = store.vectors(["p0::core::0"])["p0::core::0"]
    assert np.allclose(kept, vectors[0], atol=1e-6)  # metadata update keeps the vector

    store.delete(["p1::core::0", "p1::reviews::0"])
    assert store.count() == 2 and store.product_chunks("p1") == []
    remaining = sorted(chunk_id for chunk_id, _, _ in store.iter_chunks())
    assert remaining == ["p0::core::0", "p0::reviews::0"]
    kinds = {chunk.metadata["kind"] for chunk in store.get_chunks(["p0::reviews::0"])}
    assert kinds == {ChunkKind.REVIEWS.value}


def test_ingest_diff_works_in_both_modes(
    store: ProductStore, embeddings: Any, tmp_path: Path
) -> None:
    rows = json.loads(DEMO_CATALOG.read_text())[:4]
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(rows))

    def ingest() -> Any:
        return ingest_files([catalog], store=store, embeddings=embeddings)

    assert ingest().added == 4
    assert ingest().chunks_embedded == 0
    rows[0]["price"] = 1.0
    catalog.write_text(json.dumps(rows))
    summary = ingest()
    assert (summary.metadata_only, summary.chunks_embedded) == (1, 0)
    record = store.get_product("1")
    assert record is not None and record["price"] == 1.0
    catalog.write_text(json.dumps(rows[1:]))
    assert ingest().deleted == 1 and store.get_product("1") is None


def test_add_of_an_existing_record_is_ignored_so_one_lock_wins(store: ProductStore) -> None:
    """What the ingest lock rests on, in both modes: ``add`` never overwrites."""
    live = time.time() + 60
    first = store.meta.add_if_absent("lock", {"owner": "a", "expires": live})
    second = store.meta.add_if_absent("lock", {"owner": "b", "expires": live})
    assert first == second == {"owner": "a", "expires": live}
    lock = IngestLock(store.meta, ttl_s=30)
    with pytest.raises(LockHeld):
        lock.acquire()
    store.meta.delete("lock")
    lock.acquire(job_id="f" * 32)
    try:
        assert store.meta.get("lock")["job_id"] == "f" * 32  # type: ignore[index]
        with pytest.raises(LockHeld, match="f" * 32):
            IngestLock(store.meta, ttl_s=30).acquire()
    finally:
        lock.release()
    assert store.meta.get("lock") is None


def test_generation_digests_and_ids_scan(store: ProductStore) -> None:
    assert store.generation().id == "initial"
    chunks = _chunks()
    store.upsert(chunks, [_vector(n) for n in range(len(chunks))])
    assert store.chunk_ids() == {chunk.chunk_id for chunk in chunks}
    first = store.bump_generation(text_changed=True, changed=["p0", "p1"])
    assert first.text == first.id and first.changed == ("p0", "p1")
    second = store.bump_generation(text_changed=False, changed=["p1"])
    assert second.previous == first.id and second.text == first.text
    assert store.stored_chunks(["p1::core::0", "nope"]).keys() == {"p1::core::0"}

    digest = ProductDigest("d0", "/catalog.json", ("p0::core::0", "p0::reviews::0"))
    store.digests.write({"p0": digest, "p1": digest})
    assert store.digests.load()["p0"] == digest
    store.digests.write({"p1": None})
    assert set(store.digests.load()) == {"p0"}


def test_unreachable_server_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open Chroma"):
        ProductStore.open(
            chroma_url=f"http://127.0.0.1:{free_port()}", data_dir=tmp_path, collection="products"
        )

"""The ingestion diff: what is skipped, updated in place, re-embedded or deleted."""

from __future__ import annotations

from catalog.chunk_rows import StoredChunk
from catalog.models import Product
from ingestion.chunking import chunk_product
from ingestion.loaders import LoadedProduct, LoadError
from ingestion.pipeline import IngestSummary, ProductPlan, plan_product
from ingestion.writing import groups as _groups


def _product(**changes: object) -> list:
    fields: dict = {
        "product_id": "p1",
        "title": "Trail shoe",
        "description": "A light shoe for running on trails.",
        "price": 80.0,
        "brand": "Peak",
        "stock": 5,
        "attributes": {"reviews": [{"comment": "Great grip", "reviewerName": "Ann"}]},
        "source": "/data/cat.json",
    }
    fields.update(changes)
    return chunk_product(LoadedProduct(product=Product(**fields)))


def _stored(chunks: list) -> dict[str, StoredChunk]:
    return {
        chunk.chunk_id: StoredChunk(
            chunk.chunk_id, chunk.product_id, "/data/cat.json", chunk.content_hash, chunk.meta_hash
        )
        for chunk in chunks
    }


def test_new_product_is_added_with_every_chunk_embedded() -> None:
    chunks = _product()
    plan = plan_product(chunks, {})
    assert plan.status == "added" and plan.embed == chunks


def test_same_product_is_unchanged() -> None:
    plan = plan_product(_product(), _stored(_product()))
    assert plan.status == "unchanged" and plan.size == 0


def test_price_and_stock_change_is_metadata_only() -> None:
    plan = plan_product(_product(price=70.0, stock=0), _stored(_product()))
    assert plan.status == "metadata_only"
    assert plan.embed == [] and plan.keep_vector == []
    assert [chunk.chunk_id for chunk in plan.metadata] == ["p1::core::0", "p1::reviews::0"]


def test_text_change_embeds_only_changed_chunks() -> None:
    plan = plan_product(_product(description="Now waterproof."), _stored(_product()))
    assert plan.status == "updated"
    assert [chunk.chunk_id for chunk in plan.embed] == ["p1::core::0"]
    assert plan.keep_vector == [] and plan.stale == []


def test_text_and_price_change_rewrites_unchanged_text_with_stored_vectors() -> None:
    plan = plan_product(_product(description="Now waterproof.", price=90.0), _stored(_product()))
    assert plan.status == "updated"
    assert [chunk.chunk_id for chunk in plan.embed] == ["p1::core::0"]
    assert [chunk.chunk_id for chunk in plan.keep_vector] == ["p1::reviews::0"]


def test_chunks_the_product_no_longer_has_are_stale() -> None:
    plan = plan_product(_product(attributes={}), _stored(_product()))
    assert plan.status == "updated"
    assert plan.embed == [] and plan.stale == ["p1::reviews::0"]


def test_changed_source_is_a_metadata_change() -> None:
    plan = plan_product(_product(source="/data/other.json"), _stored(_product()))
    assert plan.status == "metadata_only"


def test_groups_never_split_a_product() -> None:
    plans = [ProductPlan(f"p{n}", "added") for n in range(5)]
    sizes = {"p0": 3, "p1": 3, "p2": 1, "p3": 5, "p4": 1}
    groups = list(_groups(plans, 4, size=lambda plan: sizes[plan.product_id]))
    assert [[plan.product_id for plan in group] for group in groups] == [
        ["p0", "p1"],
        ["p2", "p3"],
        ["p4"],
    ]


def test_summary_serialises_errors_with_file_and_line() -> None:
    summary = IngestSummary(added=1, failed=1, errors=[LoadError("a.jsonl", 3, "bad")])
    assert summary.to_dict() == {
        "added": 1,
        "updated": 0,
        "metadata_only": 0,
        "unchanged": 0,
        "deleted": 0,
        "failed": 1,
        "chunks_embedded": 0,
        "errors": [{"file": "a.jsonl", "line": 3, "reason": "bad"}],
    }

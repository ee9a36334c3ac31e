"""Ingestion end to end with the real model and a real embedded Chroma."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aisle.settings import Settings
from catalog.keyword import KeywordIndex
from catalog.models import Filters
from catalog.search import KeywordIndexHandle
from catalog.store import ProductStore
from ingestion.chunking import chunk_product
from ingestion.loaders import load_path
from ingestion.pipeline import IngestSummary, ingest_files
from tests.conftest import DEMO_CATALOG

pytestmark = pytest.mark.integration

AISLE = Path(sys.executable).parent / "aisle"


def _rows(count: int = 12) -> list[dict[str, Any]]:
    return json.loads(DEMO_CATALOG.read_text())[:count]


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(rows, indent=2))
    return path


def _assert_same_vectors(after: dict[str, list[float]], before: dict[str, list[float]]) -> None:
    # Chroma stores float32 and may renormalise: equal up to rounding, not bit for bit.
    assert after.keys() == before.keys() and before
    for chunk_id, vector in before.items():
        assert np.allclose(after[chunk_id], vector, atol=1e-6), chunk_id


class Ingester:
    """One temporary store, and a way to ingest into it while counting embeddings."""

    def __init__(self, settings: Settings, embeddings: Any) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.store = ProductStore.open(
            chroma_url="", data_dir=settings.data_dir, collection=settings.collection
        )
        self.last_embedded = 0

    def __call__(self, *paths: Path, **options: Any) -> IngestSummary:
        before = self.embeddings.texts_embedded
        summary = ingest_files(
            list(paths),
            store=self.store,
            embeddings=self.embeddings,
            **options,
        )
        # Counted inside the model wrapper: proves what was really encoded.
        self.last_embedded = self.embeddings.texts_embedded - before
        return summary

    def chunks_of(self, product_id: str) -> dict[str, Any]:
        return {chunk.chunk_id: chunk for chunk in self.store.product_chunks(product_id)}


@pytest.fixture
def ingest(make_settings: Callable[..., Settings], embeddings: Any) -> Ingester:
    return Ingester(make_settings(), embeddings)


def test_first_ingest_then_unchanged_reingest(ingest: Ingester, tmp_path: Path) -> None:
    catalog = _write(tmp_path / "catalog.json", _rows())
    expected = [chunk for item in load_path(catalog).products for chunk in chunk_product(item)]

    first = ingest(catalog)
    assert (first.added, first.failed, first.errors) == (12, 0, [])
    assert first.chunks_embedded == ingest.last_embedded == len(expected)
    assert ingest.store.count() == len(expected)
    record = ingest.store.get_product("1")
    assert record is not None and record["price"] == 9.99 and record["in_stock"] is True
    assert record["attributes"]["returnPolicy"] == "No return policy"
    index = KeywordIndex.build(ingest.store.iter_chunks())
    assert len(index) == len(expected)
    hits = index.search("mascara lash", k=3)
    assert hits and hits[0].product_id == "1"
    vector = ingest.embeddings.embed_query("volumizing mascara for long lashes")
    assert ingest.store.query(vector, k=1)[0].product_id == "1"

    generation = ingest.store.generation()
    assert generation.id != "initial"
    again = ingest(catalog)
    assert (again.unchanged, again.added, again.updated, again.metadata_only) == (12, 0, 0, 0)
    assert again.chunks_embedded == 0 and ingest.last_embedded == 0
    assert ingest.store.count() == len(expected)
    assert ingest.store.generation() == generation  # nothing changed: readers reload nothing


def test_price_only_change_updates_metadata_without_embedding(
    ingest: Ingester, tmp_path: Path
) -> None:
    rows = _rows()
    catalog = _write(tmp_path / "catalog.json", rows)
    ingest(catalog)
    vectors_before = ingest.store.vectors(list(ingest.chunks_of("2")))

    handle = KeywordIndexHandle(None, ingest.store)
    before = handle.view()
    rows[1]["price"] = 5.55
    rows[1]["stock"] = 0
    rows[1]["rating"] = 4.75
    summary = ingest(_write(catalog, rows))
    assert (summary.metadata_only, summary.unchanged, summary.updated) == (1, 11, 0)
    assert summary.chunks_embedded == 0 and ingest.last_embedded == 0
    chunks = ingest.chunks_of("2")
    assert {chunk.metadata["price"] for chunk in chunks.values()} == {5.55}
    assert {chunk.metadata["in_stock"] for chunk in chunks.values()} == {False}
    assert {chunk.metadata["rating"] for chunk in chunks.values()} == {4.75}
    record = ingest.store.get_product("2")
    assert record is not None and record["price"] == 5.55 and record["stock"] == 0
    _assert_same_vectors(ingest.store.vectors(list(chunks)), vectors_before)
    # A metadata-only generation: the keyword index is kept, its filters use the new facts.
    generation = ingest.store.generation()
    assert generation.id != before.generation.id and generation.text == before.generation.text
    assert generation.changed == ("2",)
    after = handle.view()
    assert after.index is before.index and handle.rebuilds == 1
    cheap = after.keyword_mask(Filters(max_price=5.6))
    assert cheap is not None
    title = rows[1]["title"]
    hits = after.index.search(title, 5, Filters(max_price=5.6), mask=cheap)
    assert {hit.product_id for hit in hits} == {"2"}


def test_text_change_reembeds_only_that_products_changed_chunks(
    ingest: Ingester, tmp_path: Path
) -> None:
    rows = _rows()
    catalog = _write(tmp_path / "catalog.json", rows)
    ingest(catalog)
    specs_before = ingest.store.vectors(["3::specs::0", "4::core::0"])

    rows[2]["description"] = "A waterproof powder that survives a swim in the sea."
    rows[2]["price"] = 1.25
    summary = ingest(_write(catalog, rows))
    assert (summary.updated, summary.unchanged) == (1, 11)
    assert summary.chunks_embedded == ingest.last_embedded == 1  # the core chunk only
    chunks = ingest.chunks_of("3")
    assert "survives a swim" in chunks["3::core::0"].text
    assert {chunk.metadata["price"] for chunk in chunks.values()} == {1.25}
    _assert_same_vectors(ingest.store.vectors(["3::specs::0", "4::core::0"]), specs_before)
    vector = ingest.embeddings.embed_query("waterproof powder for swimming in the sea")
    assert ingest.store.query(vector, k=1)[0].product_id == "3"


def test_missing_products_are_deleted_unless_told_not_to(ingest: Ingester, tmp_path: Path) -> None:
    rows = _rows()
    catalog = _write(tmp_path / "catalog.json", rows)
    other = _write(tmp_path / "other.json", [{"id": "x1", "title": "Other file product"}])
    ingest(catalog, other)

    kept = ingest(_write(catalog, rows[:-1]), delete_missing=False)
    assert kept.deleted == 0 and ingest.chunks_of("12")

    summary = ingest(catalog)  # "other.json" is not part of this run: its product stays
    assert summary.deleted == 1 and summary.unchanged == 11
    assert ingest.chunks_of("12") == {}
    assert ingest.chunks_of("x1")
    index = KeywordIndex.build(ingest.store.iter_chunks())
    assert not [m for m in index.metadatas if m["product_id"] == "12"]


def test_bad_rows_are_reported_and_valid_rows_ingested(ingest: Ingester, tmp_path: Path) -> None:
    good = tmp_path / "rows.jsonl"
    good.write_text('{"id": "a", "title": "Apple slicer"}\n{"id": "b", "title": "Bread bin"}\n')
    ingest(good)
    good.write_text(
        '{"id": "a", "title": "Apple slicer"}\n{"id": "b", "title": \n'
        '{"id": "c", "price": 3}\n{"id": "d", "title": "Dish rack", "price": "ten"}\n'
        '{"id": "e", "title": "Egg timer", "price": 4}\n'
    )
    summary = ingest(good)
    assert (summary.added, summary.unchanged, summary.failed, summary.deleted) == (1, 1, 3, 0)
    assert [(error.file, error.line) for error in summary.errors] == [
        (str(good.resolve()), 2),
        (str(good.resolve()), 3),
        (str(good.resolve()), 4),
    ]
    assert ingest.chunks_of("e") and ingest.chunks_of("b")  # b's row broke: it is not deleted


def test_a_digest_that_no_longer_describes_the_store_is_not_trusted(
    ingest: Ingester, tmp_path: Path
) -> None:
    catalog = _write(tmp_path / "catalog.json", _rows(3))
    ingest(catalog)
    # Another writer (or a killed run of an older version) removed a chunk behind our back:
    # the product's digest still matches its file, but the store no longer holds what it lists.
    ingest.store.delete(["2::reviews::0"])
    summary = ingest(catalog)
    assert (summary.updated, summary.unchanged) == (1, 2)
    assert ingest.last_embedded == 1  # the missing chunk only
    assert "2::reviews::0" in ingest.chunks_of("2")
    again = ingest(catalog)
    assert again.unchanged == 3 and ingest.last_embedded == 0


def test_changed_only_feed_touches_only_its_products(ingest: Ingester, tmp_path: Path) -> None:
    rows = _rows(5)
    catalog = _write(tmp_path / "catalog.json", rows)
    ingest(catalog)
    feed = _write(tmp_path / "feed.json", [dict(rows[0], price=1.5)])
    summary = ingest(feed, changed_only=True)
    assert (summary.metadata_only, summary.deleted, summary.unchanged) == (1, 0, 0)
    assert ingest.store.get_product("1")["price"] == 1.5  # type: ignore[index]
    assert len(ingest.store.core_metadatas()) == 5


def _run(args: list[str], data_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AISLE_")}
    env["AISLE_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [str(AISLE), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_cli_ingest_and_stats_json(tmp_path: Path) -> None:
    catalog = _write(tmp_path / "catalog.json", _rows(6))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "z", "title": "Zip bag"}\nnot json\n')
    data_dir = tmp_path / "data"

    first = _run(["ingest", str(catalog), str(bad), "--json"], data_dir, tmp_path)
    assert first.returncode == 2, first.stderr
    summary = json.loads(first.stdout)  # stdout holds the JSON object only
    assert (summary["added"], summary["failed"]) == (7, 1)
    assert summary["errors"] == [
        {"file": str(bad.resolve()), "line": 2, "reason": summary["errors"][0]["reason"]}
    ]
    assert "invalid JSON" in summary["errors"][0]["reason"]
    assert "ingest: writing" in first.stderr  # progress goes to stderr

    table = _run(["ingest", str(catalog), "--no-delete"], data_dir, tmp_path)
    assert table.returncode == 0, table.stderr
    assert re.search(r"unchanged\W+6\b", table.stdout), table.stdout  # the summary table
    assert re.search(r"chunks_embedded\W+0\b", table.stdout), table.stdout

    stats = _run(["stats", "--json"], data_dir, tmp_path)
    assert stats.returncode == 0, stats.stderr
    numbers = json.loads(stats.stdout)
    assert numbers["products"] == 7 and numbers["chunks"] > 7
    assert numbers["categories"] == {"beauty": 5, "fragrances": 1, "(none)": 1}

    missing = _run(["ingest", str(tmp_path / "nope.csv"), "--json"], data_dir, tmp_path)
    assert missing.returncode == 2
    assert json.loads(missing.stdout)["errors"][0]["reason"] == "no such file or folder"

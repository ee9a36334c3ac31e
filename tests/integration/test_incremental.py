"""What a re-ingest where little changed does not do: build products from rows read as
before, or let a feed's few rows rewrite what its source file's schema says."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aisle.settings import Settings
from catalog.profile import CatalogProfile
from ingestion.loaders.reader import RowReader
from tests.integration.test_ingest import Ingester, _rows, _write

pytestmark = pytest.mark.integration


@pytest.fixture
def ingest(make_settings: Callable[..., Settings], embeddings: Any) -> Ingester:
    return Ingester(make_settings(), embeddings)


@pytest.fixture
def drafted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Titles of the rows fully read into product fields (drafts and rebuilds)."""
    titles: list[str] = []
    original = RowReader.draft

    def counting(self: RowReader, row: Any, line: int | None) -> Any:
        titles.append(str(row.get("title")))
        return original(self, row, line)

    monkeypatch.setattr(RowReader, "draft", counting)
    return titles


def _ingested(ingest: Ingester, path: Path, count: int, drafted: list[str]) -> list[Any]:
    """The first ``count`` demo rows ingested from ``path``: every row drafted once."""
    rows = _rows(count)
    ingest(_write(path, rows))
    assert len(drafted) == count
    drafted.clear()
    return rows


def test_only_changed_rows_become_products(
    ingest: Ingester, tmp_path: Path, drafted: list[str]
) -> None:
    catalog = tmp_path / "catalog.json"
    rows = _ingested(ingest, catalog, 12, drafted)

    rows[4]["price"] = 3.21
    summary = ingest(_write(catalog, rows))
    assert (summary.metadata_only, summary.unchanged) == (1, 11)
    assert drafted == [rows[4]["title"]]  # the other eleven rows were never built
    assert ingest.store.get_product("5")["price"] == 3.21  # type: ignore[index]

    # Reordered rows read as before: still nothing to build, nothing to write.
    drafted.clear()
    again = ingest(_write(catalog, list(reversed(rows))))
    assert (again.unchanged, again.metadata_only, again.updated) == (12, 0, 0)
    assert drafted == []


def test_a_different_reading_of_the_same_rows_rebuilds_them(
    ingest: Ingester, tmp_path: Path, drafted: list[str]
) -> None:
    catalog = tmp_path / "catalog.json"
    _ingested(ingest, catalog, 6, drafted)
    # A mapping that keeps only some fields changes every product from the same rows.
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"extra": ["tags"]}))
    from ingestion.loaders import FieldMapping

    summary = ingest(catalog, mapping=FieldMapping.load(mapping))
    assert len(drafted) == 6
    assert summary.unchanged + summary.metadata_only + summary.updated == 6
    record = ingest.store.get_product("1")
    assert record is not None and set(record["attributes"]) == {"tags"}


def test_a_feed_does_not_replace_its_files_schema(ingest: Ingester, tmp_path: Path) -> None:
    rows = _rows(8)
    catalog = _write(tmp_path / "catalog.json", rows)
    ingest(catalog)
    before = CatalogProfile.load(ingest.store.meta)
    assert before is not None
    # A feed row with its fields in another order and most of them missing.
    feed_row = {"price": 2.5, "title": rows[2]["title"], "id": rows[2]["id"], "stock": 1}
    feed = _write(tmp_path / "feed.json", [feed_row])
    summary = ingest(feed, changed_only=True)
    assert summary.metadata_only + summary.updated == 1
    after = CatalogProfile.load(ingest.store.meta)
    assert after is not None
    assert [s.model_dump() for s in after.sources] == [s.model_dump() for s in before.sources]
    assert ingest.store.get_product(str(rows[2]["id"]))["price"] == 2.5  # type: ignore[index]


def test_digests_of_the_older_form_are_dropped_by_the_next_ingest(
    ingest: Ingester, tmp_path: Path
) -> None:
    client = ingest.store._client
    legacy = client.get_or_create_collection(
        name=f"{ingest.settings.collection}.digests", embedding_function=None
    )
    legacy.add(ids=["1"], metadatas=[{"digest": "stale"}], embeddings=[[0.5]])
    catalog = _write(tmp_path / "catalog.json", _rows(3))
    assert ingest(catalog).added == 3
    names = {collection.name for collection in client.list_collections()}
    assert f"{ingest.settings.collection}.digests" not in names
    assert ingest(catalog).unchanged == 3

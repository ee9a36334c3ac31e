"""Catalogs as they come, ingested end to end with the real model into real Chroma: the demo
catalog, Best Buy (no ids, category lists) and the rupee shop (CSV, "₹1,29,999.00" prices,
measures): counts, rejects with file:line, the profile stored beside the collection and read
back by another client, category filters at any level of a path, and overrides."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aisle.settings import CatalogSettings, Settings
from catalog.models import Filters
from catalog.profile import CatalogProfile, FieldRole
from catalog.store import ProductStore
from ingestion.pipeline import ingest_files
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

BESTBUY = ROOT / "data" / "bestbuy" / "products.json"
INR_SHOP = ROOT / "data" / "inr_shop" / "products.csv"


def _open(settings: Settings, chroma_url: str = "") -> ProductStore:
    return ProductStore.open(
        chroma_url=chroma_url, data_dir=settings.data_dir, collection=settings.collection
    )


def _products(store: ProductStore, embeddings: Any, query: str, filters: Filters) -> set[str]:
    hits = store.query(embeddings.embed_query(query), 500, filters)
    return {hit.product_id for hit in hits}


def test_demo_catalog_profile_is_stored(demo_data_dir: Path) -> None:
    store = ProductStore.open(chroma_url="", data_dir=demo_data_dir, collection="products")
    profile = CatalogProfile.load(store.meta)
    assert profile is not None and profile.products == 194
    policies = {a.key: a.label for a in profile.attributes if a.role is FieldRole.POLICY}
    assert policies == {
        "warrantyInformation": "Warranty information",
        "shippingInformation": "Shipping information",
        "returnPolicy": "Return policy",
    }
    assert (profile.currency, profile.locale, profile.rating_scale) == ("USD", "en_US", 5)


def test_rupee_shop_csv_end_to_end(make_settings: Callable[..., Settings], embeddings: Any) -> None:
    settings = make_settings(collection="inr-shop")
    store = _open(settings)
    summary = ingest_files([INR_SHOP], store=store, embeddings=embeddings)
    assert (summary.added, summary.failed) == (80, 3)
    assert [(error.file, error.line) for error in summary.errors] == [
        (str(INR_SHOP), 32),
        (str(INR_SHOP), 52),
        (str(INR_SHOP), 84),
    ]
    # Another client of the same store sees the same profile.
    profile = CatalogProfile.load(_open(settings).meta)
    assert profile is not None and profile.products == 80
    assert (profile.currency, profile.locale) == ("INR", "en_IN")
    fields = {field.name: field for field in profile.fields}
    assert fields["MRP"].role is FieldRole.PRICE
    assert fields["Quantity"].role is FieldRole.QUANTITY
    sofa = next(m for m in store.core_metadatas() if m["title"] == "Annibale Colombo Sofa")
    assert sofa["price"] == 207499.0 and sofa["category_path"] == ["Furniture", "Sofas"]
    assert json.loads(sofa["record"])["attributes"]["Quantity"] == "3 seater"
    # A category filter holds at any level of the path, in Chroma and in Filters.matches.
    groceries = _products(store, embeddings, "fresh food", Filters(category="groceries"))
    fruits = _products(store, embeddings, "fresh food", Filters(category="Fruits"))
    assert len(groceries) == 27 and len(fruits) == 5 and fruits < groceries
    record = store.get_product(next(iter(fruits)))
    assert record is not None and record["category_path"][0] == "Groceries"
    assert Filters(category="Groceries").matches(sofa) is False
    # The API tells its clients (the UI) how to print prices.
    from fastapi.testclient import TestClient

    from service.app import create_app

    with TestClient(create_app(settings)) as client:
        facets = client.get("/v1/facets").json()
    assert (facets["currency"], facets["locale"]) == ("INR", "en_IN")

    # Unchanged re-ingest: nothing embedded, the profile left as it was.
    before = store.meta.get("profile")
    again = ingest_files([INR_SHOP], store=store, embeddings=embeddings)
    assert (again.unchanged, again.chunks_embedded) == (80, 0)
    assert store.meta.get("profile") == before
    # An override applies on the next ingest even though no product changed.
    overridden = CatalogSettings(currency="EUR", locale="de_DE")
    ingest_files([INR_SHOP], store=store, embeddings=embeddings, catalog=overridden)
    profile = CatalogProfile.load(store.meta)
    assert profile is not None
    assert (profile.currency, profile.currency_source, profile.locale) == (
        "EUR",
        "settings",
        "de_DE",
    )


def test_bestbuy_sample_in_a_chroma_server(
    chroma_server: str,
    make_settings: Callable[..., Settings],
    embeddings: Any,
    tmp_path: Path,
) -> None:
    sample = json.loads(BESTBUY.read_text())[::22]  # 150 rows across the categories
    path = tmp_path / "bestbuy-sample.json"
    path.write_text(json.dumps(sample, indent=2))
    settings = make_settings(collection="bestbuy-sample", chroma_url=chroma_server)
    store = _open(settings, chroma_server)
    summary = ingest_files([path], store=store, embeddings=embeddings)
    assert (summary.added, summary.failed) == (150, 0)
    cores = store.core_metadatas()
    assert all(str(meta["product_id"]).startswith("p") for meta in cores)
    # Middle levels of the category lists filter through the server's $contains too.
    accessories = _products(
        store, embeddings, "protect my phone", Filters(category="Cell Phone Accessories")
    )
    cases = _products(
        store, embeddings, "protect my phone", Filters(category="Cell Phone Cases & Clips")
    )
    assert cases and cases < accessories
    leafs = {m["category"] for m in cores if m["product_id"] in accessories}
    assert "Cell Phone Cases & Clips" in leafs
    profile = CatalogProfile.load(_open(settings, chroma_server).meta)
    assert profile is not None and profile.products == 150 and profile.rating_scale is None
    roles = {field.name: field.role for field in profile.fields}
    assert roles["name"] is FieldRole.TITLE and roles["categories"] is FieldRole.CATEGORY
    assert FieldRole.IDENTIFIER not in roles.values()

"""Catalog views of the fixture catalogs, built in-process the way the service builds them:
rows loaded by ingestion's own loader, the profile computed by ingestion's profiler, and the
core metadata each product's core chunk carries (no store, no chunk embeddings: fast)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from ingestion.chunking import base_metadata, product_record
from ingestion.loaders import load_path
from ingestion.profiling import build_profile, source_profile
from service.answering.catalog_view import CatalogView

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = {
    "demo": ROOT / "data" / "catalog" / "products.json",
    "bestbuy": ROOT / "data" / "bestbuy" / "products.json",
    "inr": ROOT / "data" / "inr_shop" / "products.csv",
}


@cache
def catalog_view(name: str) -> CatalogView:
    result = load_path(CATALOGS[name])
    products = [item.product for item in result.products]
    metadatas = []
    records = []
    for product in products:
        meta = dict(base_metadata(product))
        record = product_record(product)
        meta["record"] = record
        metadatas.append(meta)
        records.append(json.loads(record))
    schemas = {item.product.source: item.schema for item in result.products if item.schema}
    sources = [source_profile(source, schema) for source, schema in schemas.items()]
    return CatalogView.build(build_profile(records, sources), metadatas)


def product_id(view: CatalogView, title: str) -> str:
    """The id of the product with exactly this title (derived ids included)."""
    matches = [e.product_id for e in view.products.values() if e.title == title]
    assert len(matches) == 1, (title, matches)
    return matches[0]

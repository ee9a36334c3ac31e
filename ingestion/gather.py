"""Gathering what an ingest run reads: products by id across files, documents attached to the
products they describe, and feeds that change products without becoming their source."""

from __future__ import annotations

from collections.abc import Callable, Set
from pathlib import Path

from catalog.models import Product
from catalog.store import ProductStore
from ingestion.loaders import (
    FieldMapping,
    LoadedProduct,
    LoaderError,
    LoadError,
    is_document,
    load_path,
)
from ingestion.stored import StoredCatalog


def load_products(
    files: list[Path],
    mapping: FieldMapping | None,
    errors: list[LoadError],
    report: Callable[[str, int, int], None],
    known_rows: Set[str] | None = None,
) -> tuple[dict[str, LoadedProduct], set[str]]:
    """Products by id across all files (catalog rows first, then documents), and the sources
    read without any error (the only ones that may delete products). ``known_rows``: the row
    keys the store holds (rows read as before are not built into products)."""
    ordered = sorted(files, key=is_document)
    products: dict[str, LoadedProduct] = {}
    complete: set[str] = set()
    for done, path in enumerate(ordered, start=1):
        try:
            result = load_path(path, mapping, known_rows)
        except LoaderError as exc:
            errors.append(LoadError(str(path), None, str(exc)))
            report("loading", done, len(ordered))
            continue
        errors.extend(result.errors)
        if result.complete and not result.errors:
            complete.add(result.source)
        for item in result.products:
            product_id = item.product_id
            first = products.get(product_id)
            if first is None:
                products[product_id] = item
            elif is_document(path):
                # A document about a product loaded already adds its text to that product.
                first.documents.extend(item.documents)
            else:
                where = first.source + (f":{first.line}" if first.line else "")
                errors.append(
                    LoadError(
                        result.source,
                        item.line,
                        f"duplicate product id {product_id!r} (first seen at {where})",
                    )
                )
        report("loading", done, len(ordered))
    return products, complete


def attach_documents_to_stored_products(
    products: dict[str, LoadedProduct], stored: StoredCatalog, store: ProductStore
) -> None:
    """A document about a product that an earlier run loaded from a catalog file adds its text
    to that product (rebuilt from its stored record) instead of replacing the product."""
    for product_id, item in products.items():
        source = item.source
        known = stored.products.get(product_id)
        if known is None or not known.source or known.source == source:
            continue  # new, or from the same file as before
        if not is_document(Path(source)) or is_document(Path(known.source)):
            continue  # a catalog row, or a product that came from a document: replaced
        record = store.get_product(product_id)
        if record is None:
            continue
        record.pop("in_stock", None)
        try:
            product = Product.model_validate(record)
        except ValueError:
            continue
        products[product_id] = LoadedProduct(product=product, documents=item.documents)


def keep_sources(products: dict[str, LoadedProduct], stored: StoredCatalog) -> None:
    """A feed of changes updates products; it does not become their source file (a full
    re-ingest of that file may still delete them)."""
    for product_id, item in products.items():
        known = stored.products.get(product_id)
        if (
            known is not None
            and known.source
            and known.source != item.source
            and not is_document(Path(item.source))
        ):
            item.product = item.product.model_copy(update={"source": known.source})
            item.row_key = None  # no longer what the row alone says

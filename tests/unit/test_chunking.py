"""Product-aware chunks: stable ids, filterable metadata, and no volatile values in the text."""

from __future__ import annotations

import json
from pathlib import Path

from catalog.models import ChunkKind, Product
from ingestion.chunking import CHUNK_CHARS, chunk_product, readable
from ingestion.loaders import DocumentText, LoadedProduct, load_path
from tests.conftest import DEMO_CATALOG, EPQA_DIR


def _demo(index: int = 0) -> LoadedProduct:
    return load_path(DEMO_CATALOG).products[index]


def _with(item: LoadedProduct, **changes: object) -> LoadedProduct:
    product = item.product.model_copy(update=changes)
    return LoadedProduct(product=product, line=item.line, documents=list(item.documents))


def test_demo_product_gets_core_specs_and_review_chunks() -> None:
    chunks = chunk_product(_demo())
    assert [chunk.chunk_id for chunk in chunks] == ["1::core::0", "1::specs::0", "1::reviews::0"]
    core, specs, reviews = chunks
    assert core.kind is ChunkKind.CORE
    assert core.text.startswith("Essence Mascara Lash Princess\nBrand: Essence\nCategory: beauty")
    assert "Warranty information: 1 week warranty" in core.text
    assert "Dimensions: width 15.14, height 13.08, depth 22.99" in specs.text
    assert '"Would not recommend!" (Eleanor Collins)' in reviews.text
    # every non-core chunk names its product, so it stands on its own
    assert specs.text.startswith("Essence Mascara Lash Princess (specs): ")


def test_text_never_holds_price_stock_or_rating() -> None:
    for item in load_path(DEMO_CATALOG).products[:40]:
        product = item.product
        for chunk in chunk_product(item):
            lowered = chunk.text.lower()
            assert str(product.price) not in chunk.text
            assert "price:" not in lowered and "discount" not in lowered
            assert "in stock" not in lowered and "low stock" not in lowered
            assert f"rating: {product.rating}" not in lowered
            assert "https://" not in chunk.text  # images and thumbnails are not embedded


def test_every_chunk_carries_filterable_metadata() -> None:
    for chunk in chunk_product(_demo()):
        meta = chunk.metadata
        assert meta["product_id"] == "1" and meta["title"] == "Essence Mascara Lash Princess"
        assert meta["source"] == str(DEMO_CATALOG)
        assert meta["price"] == 9.99 and isinstance(meta["price"], float)
        assert (meta["brand"], meta["brand_key"]) == ("Essence", "essence")
        assert (meta["category"], meta["category_key"]) == ("beauty", "beauty")
        assert meta["in_stock"] is True and meta["stock"] == 99 and meta["rating"] == 2.56
        assert all(value is not None for value in meta.values())
    core = chunk_product(_demo())[0]
    record = json.loads(str(core.metadata["record"]))
    assert record["product_id"] == "1" and record["in_stock"] is True
    assert record["attributes"]["warrantyInformation"] == "1 week warranty"
    assert record["attributes"]["availabilityStatus"] == "In Stock"


def test_unknown_values_are_omitted() -> None:
    item = LoadedProduct(
        product=Product.model_validate({"product_id": "p", "title": "Plain thing"})
    )
    (core,) = chunk_product(item)
    assert set(core.metadata) == {"product_id", "source", "title", "record"}
    assert core.text == "Plain thing"


def test_ids_and_hashes_are_stable() -> None:
    first = chunk_product(_demo())
    again = chunk_product(_demo())
    assert [(c.chunk_id, c.content_hash, c.meta_hash) for c in first] == [
        (c.chunk_id, c.content_hash, c.meta_hash) for c in again
    ]


def test_price_change_changes_metadata_hash_only() -> None:
    before = chunk_product(_demo())
    after = chunk_product(_with(_demo(), price=12.49, stock=0, rating=4.9))
    for old, new in zip(before, after, strict=True):
        assert old.content_hash == new.content_hash
        assert old.meta_hash != new.meta_hash
        assert new.metadata["price"] == 12.49 and new.metadata["in_stock"] is False


def test_description_change_changes_only_the_core_text() -> None:
    before = chunk_product(_demo())
    after = chunk_product(_with(_demo(), description="A brand new description."))
    changed = [
        new.chunk_id
        for old, new in zip(before, after, strict=True)
        if old.content_hash != new.content_hash
    ]
    assert changed == ["1::core::0"]


def test_long_descriptions_documents_and_snippets_get_their_own_chunks() -> None:
    long_text = " ".join(f"Sentence number {n} about the product." for n in range(120))
    item = LoadedProduct(
        product=Product.model_validate(
            {"product_id": "L", "title": "Long", "description": long_text}
        ),
        documents=[DocumentText("/docs/L.md", "Manual paragraph. " * 100)],
    )
    chunks = chunk_product(item)
    kinds = [chunk.kind for chunk in chunks]
    assert kinds.count(ChunkKind.DESCRIPTION) >= 3 and kinds.count(ChunkKind.DOCUMENT) >= 2
    assert all(len(chunk.text) <= CHUNK_CHARS + 40 for chunk in chunks)
    numbers = [c.chunk_id for c in chunks if c.kind is ChunkKind.DESCRIPTION]
    assert numbers[:2] == ["L::description::0", "L::description::1"]
    document = next(c for c in chunks if c.kind is ChunkKind.DOCUMENT)
    assert document.metadata["source"] == "/docs/L.md"

    epqa = load_path(EPQA_DIR / "products.jsonl").products[0]
    snippets = [c for c in chunk_product(epqa) if c.kind is ChunkKind.SNIPPET]
    assert snippets and "2 grounded ac receptacles" in snippets[0].text


def test_text_exclude_keeps_fields_out_of_the_text() -> None:
    item = _demo()
    hidden = LoadedProduct(product=item.product, text_exclude=frozenset({"sku", "reviews"}))
    texts = " ".join(chunk.text for chunk in chunk_product(hidden))
    assert "BEA-ESS-ESS-001" not in texts and "Would not recommend" not in texts
    assert "BEA-ESS-ESS-001" in str(chunk_product(hidden)[0].metadata["record"])


def test_nested_values_read_as_text() -> None:
    assert readable({"width": 2.0, "unit": "cm"}) == "width 2, unit cm"
    assert readable([{"size": 1}, {"size": 2}]) == "size 1; size 2"
    assert readable(["a", "b"]) == "a, b"


def test_tags_and_reviews_are_found_by_their_role_not_their_name(tmp_path: Path) -> None:
    rows = [
        {
            "sku": f"K-{n}",
            "name": f"Trail Runner {n}",
            "keywords": ["running", "trail shoes"],
            "customer_reviews": [{"body": "Grips well on wet rock.", "stars": 5}],
            "price": 89.0 + n,
        }
        for n in range(3)
    ]
    path = tmp_path / "shop.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows))
    item = load_path(path).products[0]
    assert item.schema is not None
    roles = {name: field.role.value for name, field in item.schema.fields.items()}
    assert roles["keywords"] == "tags" and roles["customer_reviews"] == "reviews"
    chunks = {chunk.kind: chunk for chunk in chunk_product(item)}
    assert "Tags: running, trail shoes" in chunks[ChunkKind.CORE].text
    assert '"Grips well on wet rock."' in chunks[ChunkKind.REVIEWS].text
    assert ChunkKind.SPECS not in chunks  # neither is dumped as a spec line

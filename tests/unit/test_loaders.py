"""Loaders: the demo catalog and ePQA load as they are; other schemas via a field mapping;
bad rows are reported with file and line while the good rows still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingestion.loaders import FieldMapping, LoaderError, discover, load_path
from tests.conftest import DEMO_CATALOG, EPQA_DIR


def test_demo_catalog_loads_without_configuration() -> None:
    result = load_path(DEMO_CATALOG)
    assert result.errors == [] and result.complete
    assert len(result.products) == 194
    first = result.products[0]
    product = first.product
    assert first.line == 2  # the first object starts on line 2 of the pretty-printed array
    assert (product.product_id, product.title) == ("1", "Essence Mascara Lash Princess")
    assert (product.price, product.brand, product.category) == (9.99, "Essence", "beauty")
    assert (product.stock, product.rating, product.availability) == (99, 2.56, "In Stock")
    assert product.in_stock is True
    for key in ("warrantyInformation", "returnPolicy", "availabilityStatus", "dimensions"):
        assert key in product.attributes
    assert product.attributes["reviews"][0]["comment"] == "Would not recommend!"
    assert product.source == str(DEMO_CATALOG)


def test_epqa_products_load_without_configuration() -> None:
    result = load_path(EPQA_DIR / "products.jsonl")
    assert result.errors == []
    assert len(result.products) == 221
    product = result.products[0].product
    assert product.product_id == "B001RNOHBC"
    assert product.title.startswith("Cobra CPI 480")
    assert product.attributes["snippets"][0]["text"] == "2 grounded ac receptacles"
    assert result.products[0].line == 1


def test_bad_jsonl_rows_are_reported_and_good_rows_kept(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        "\n".join(
            [
                '{"id": "a", "title": "Alpha", "price": 3}',
                "{broken json",
                '{"title": "No id"}',
                '{"id": "b"}',
                '{"id": "c", "title": "Gamma", "price": "cheap"}',
                "",
                '{"id": "d", "title": "Delta", "price": "4.50", "stock": "0"}',
                '{"id": "e", "title": "Eps", "rating": -1}',
            ]
        )
    )
    result = load_path(path)
    assert [item.product.product_id for item in result.products] == ["a", "d"]
    assert [(error.line, error.file) for error in result.errors] == [
        (2, str(path)),
        (3, str(path)),
        (4, str(path)),
        (5, str(path)),
        (8, str(path)),
    ]
    reasons = [error.reason for error in result.errors]
    assert "invalid JSON" in reasons[0]
    assert "missing product id" in reasons[1]
    assert "missing title" in reasons[2]
    assert "price 'cheap' is not a number" in reasons[3]
    assert "rating" in reasons[4] and "negative" in reasons[4]
    assert str(result.errors[3]).startswith(f"{path}:5: product c:")
    delta = result.products[1].product
    assert delta.price == 4.5 and delta.stock == 0 and delta.in_stock is False
    assert not result.complete  # a file with bad rows never deletes products


def test_json_array_reports_the_line_of_the_bad_object(tmp_path: Path) -> None:
    rows = [{"id": 1, "title": "One"}, {"id": 2, "title": "Two", "price": "n/a"}]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(rows, indent=2))
    result = load_path(path)
    assert [item.product.product_id for item in result.products] == ["1"]
    (error,) = result.errors
    assert error.line == 6 and "price 'n/a' is not a number" in error.reason


def test_json_syntax_error_keeps_earlier_rows(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text('[\n{"id": 1, "title": "One"},\n{"id": 2, "title": \n]')
    result = load_path(path)
    assert [item.product.product_id for item in result.products] == ["1"]
    (error,) = result.errors
    assert error.line == 4 and "invalid JSON" in error.reason


def test_wrapped_products_object_loads(tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    path.write_text(json.dumps({"products": [{"id": 7, "title": "Seven"}], "total": 1}))
    result = load_path(path)
    assert [item.product.product_id for item in result.products] == ["7"]


def test_csv_with_a_field_mapping(tmp_path: Path) -> None:
    mapping_path = tmp_path / "mapping.json"
    mapping_path.write_text(
        json.dumps(
            {
                "id": "sku",
                "title": "name",
                "price": "cost",
                "brand": "maker",
                "category": "dept",
                "stock": "qty",
                "rating": "stars",
                "description": "blurb",
                "text_exclude": ["internal"],
            }
        )
    )
    path = tmp_path / "shop.csv"
    path.write_text(
        "sku,name,cost,maker,dept,qty,stars,blurb,specs,internal\n"
        'K1,Kettle,19.5,Brewco,Kitchen,4,4.5,"Boils water,\nfast",'
        '"{""watts"": 1500, ""colour"": ""red""}",secret\n'
        "K2,Toaster,lots,Brewco,Kitchen,1,4,Two slots,,\n"
        "K3,Mug,3,,Kitchen,,,,,\n"
    )
    mapping = FieldMapping.load(mapping_path)
    result = load_path(path, mapping)
    assert [item.product.product_id for item in result.products] == ["K1", "K3"]
    kettle = result.products[0]
    product = kettle.product
    assert (product.title, product.price, product.brand, product.category) == (
        "Kettle",
        19.5,
        "Brewco",
        "Kitchen",
    )
    assert (product.stock, product.rating) == (4, 4.5)
    assert product.description == "Boils water,\nfast"
    assert product.attributes["specs"] == {"watts": 1500, "colour": "red"}  # JSON cell parsed
    assert kettle.text_exclude == frozenset({"internal"})
    (error,) = result.errors
    assert error.line == 4 and "price 'lots' is not a number" in error.reason
    assert result.products[1].line == 5
    assert result.products[1].product.brand is None


def test_mapping_reaches_nested_fields_and_limits_extras(tmp_path: Path) -> None:
    path = tmp_path / "nested.jsonl"
    row = {
        "ref": "N1",
        "info": {"name": "Lamp", "maker": "Lumo"},
        "pricing": {"amount": "12.00"},
        "colour": "blue",
        "noise": "x",
    }
    path.write_text(json.dumps(row) + "\n")
    mapping = FieldMapping(
        id="ref", title="info.name", brand="info.maker", price="pricing.amount", extra=["colour"]
    )
    (item,) = load_path(path, mapping).products
    assert (item.product.product_id, item.product.title, item.product.brand) == (
        "N1",
        "Lamp",
        "Lumo",
    )
    assert item.product.price == 12.0
    assert item.product.attributes == {"colour": "blue"}


def test_invalid_mapping_names_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({"identifier": "sku"}))
    with pytest.raises(LoaderError, match="identifier"):
        FieldMapping.load(path)
    with pytest.raises(LoaderError, match="cannot read mapping"):
        FieldMapping.load(tmp_path / "missing.json")


def test_unreadable_and_unsupported_files(tmp_path: Path) -> None:
    binary = tmp_path / "broken.json"
    binary.write_bytes(b"\xff\xfe\x00garbage\x81")
    with pytest.raises(LoaderError, match="not UTF-8"):
        load_path(binary)
    (tmp_path / "notes.docx").write_bytes(b"PK")
    files, errors = discover([tmp_path / "notes.docx", tmp_path / "nowhere.json", binary])
    assert files == [binary.resolve()]
    assert [error.reason.split(" (")[0] for error in errors] == [
        "unsupported file type",
        "no such file or folder",
    ]


def test_folders_are_walked_for_supported_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.jsonl").write_text('{"id": 1, "title": "A"}\n')
    (tmp_path / "b.md").write_text("# B\n\ntext\n")
    (tmp_path / "skip.xyz").write_text("nope")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.json").write_text("[]")
    files, errors = discover([tmp_path])
    assert sorted(path.name for path in files) == ["a.jsonl", "b.md"]
    assert errors == []


def test_markdown_front_matter_gives_the_product(tmp_path: Path) -> None:
    path = tmp_path / "kettle-manual.md"
    path.write_text(
        "---\nproduct_id: K1\ntitle: Kettle\nprice: 19.5\nbrand: Brewco\n---\n"
        "# Kettle manual\n\nDescale the kettle every month with vinegar.\n\n"
        "- Capacity: 1.7 litres\n- Power: 2200 watts\n"
    )
    result = load_path(path)
    (item,) = result.products
    assert (item.product.product_id, item.product.title, item.product.price) == (
        "K1",
        "Kettle",
        19.5,
    )
    (document,) = item.documents
    assert document.source == str(path)
    assert "Descale the kettle every month" in document.text
    assert "Capacity: 1.7 litres" in document.text
    assert "---" not in document.text and "product_id" not in document.text


def test_document_id_falls_back_to_the_file_name(tmp_path: Path) -> None:
    text_file = tmp_path / "B00XYZ.txt"
    text_file.write_text("Care guide\n\nWipe with a soft cloth.\n")
    (item,) = load_path(text_file).products
    assert item.product.product_id == "B00XYZ"
    assert item.product.title == "B00XYZ"
    assert "Wipe with a soft cloth." in item.documents[0].text

    page = tmp_path / "page.html"
    page.write_text(
        '<html><head><title>Tent page</title><meta name="product_id" content="T9">'
        '<meta name="viewport" content="width=device-width"></head>'
        "<body><h1>Tent</h1><p>Sleeps four people.</p><script>var x = 1;</script></body></html>"
    )
    (item,) = load_path(page).products
    assert (item.product.product_id, item.product.title) == ("T9", "Tent page")
    assert "Sleeps four people." in item.documents[0].text
    assert "var x" not in item.documents[0].text
    assert "viewport" not in item.product.attributes


def test_bad_front_matter_is_a_reported_error(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_text("---\nproduct_id: X\nprice: free\n---\nBody text here.\n")
    result = load_path(path)
    assert result.products == []
    (error,) = result.errors
    assert error.file == str(path) and "price 'free' is not a number" in error.reason

"""Loaders: catalogs load as they come (the demo catalog, ePQA, rows without ids, categories as
lists or paths, prices as strings in any currency, measures that are not stock); a field
mapping still names fields outright; bad rows are reported with file and line while the good
rows still load."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from catalog.profile import FieldRole
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
                '{"id": "a", "title": "Alpha", "price": 3, "rating": 4.5}',
                "{broken json",
                '{"title": "No id"}',
                '{"id": "b"}',
                '{"id": "c", "title": "Gamma", "price": "cheap"}',
                "",
                '{"id": "d", "title": "Delta", "price": "4.50", "stock": "0", "rating": 3}',
                '{"id": "e", "title": "Eps", "rating": -1}',
            ]
        )
    )
    result = load_path(path)
    ids = [item.product.product_id for item in result.products]
    # A row without an id gets a stable one derived from its title (identity.py).
    assert ids[0] == "a" and ids[2] == "d" and re.fullmatch(r"p[0-9a-f]{12}", ids[1])
    assert [(error.line, error.file) for error in result.errors] == [
        (2, str(path)),
        (4, str(path)),
        (5, str(path)),
        (8, str(path)),
    ]
    reasons = [error.reason for error in result.errors]
    assert "invalid JSON" in reasons[0]
    assert "missing title" in reasons[1]
    assert "price 'cheap' is not a number" in reasons[2]
    assert "rating" in reasons[3] and "negative" in reasons[3]
    assert str(result.errors[2]).startswith(f"{path}:5: product c:")
    delta = result.products[2].product
    assert delta.price == 4.5 and delta.stock == 0 and delta.in_stock is False
    assert not result.complete  # a file with bad rows never deletes products


def test_json_array_reports_the_line_of_the_bad_object(tmp_path: Path) -> None:
    rows = [
        {"id": 1, "title": "One", "price": 5},
        {"id": 2, "title": "Two", "price": "n/a"},
        {"id": 3, "title": "Three", "price": 7.5},
    ]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(rows, indent=2))
    result = load_path(path)
    assert [item.product.product_id for item in result.products] == ["1", "3"]
    (error,) = result.errors
    assert error.line == 7 and "price 'n/a' is not a number" in error.reason


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


# -- catalogs as they come (issue 9) ------------------------------------------------------------
def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    return path


def test_quantity_with_units_is_an_attribute_not_stock(tmp_path: Path) -> None:
    rows = [
        {"sku": "A1", "name": "Basmati Rice", "price": 120, "quantity": "1 kg"},
        {"sku": "A2", "name": "Sunflower Oil", "price": 180, "quantity": "1 l"},
        {"sku": "A3", "name": "Green Tea", "price": 240, "quantity": "Pack of 25"},
        {"sku": "A4", "name": "Sea Salt", "price": 40, "quantity": "500 g"},
    ]
    result = load_path(_jsonl(tmp_path / "grocery.jsonl", rows))
    assert result.errors == []
    rice = result.products[0]
    assert rice.product.stock is None and rice.product.in_stock is None
    assert rice.product.attributes["quantity"] == "1 kg"
    assert rice.schema is not None and rice.schema.role_of("quantity") is FieldRole.QUANTITY
    counted = [{"sku": f"B{i}", "name": f"Mug {i}", "quantity": i} for i in range(4)]
    (mug, *_) = load_path(_jsonl(tmp_path / "mugs.jsonl", counted)).products
    assert mug.product.stock == 0 and mug.product.in_stock is False  # integers are stock


def test_prices_as_strings_with_currency_signs_and_locale_separators(tmp_path: Path) -> None:
    rows = [
        {"id": 1, "title": "Kettle", "price": "1.299,00 €"},
        {"id": 2, "title": "Toaster", "price": "89,90 €"},
        {"id": 3, "title": "Blender", "price": "1.049,50 €"},
    ]
    products = [item.product for item in load_path(_jsonl(tmp_path / "de.jsonl", rows)).products]
    assert [(p.price, p.currency) for p in products] == [
        (1299.0, "EUR"),
        (89.9, "EUR"),
        (1049.5, "EUR"),
    ]
    indian = [
        {"id": 1, "title": "Sofa", "mrp": "₹1,50,000"},
        {"id": 2, "title": "Lamp", "mrp": "Rs. 300"},
        {"id": 3, "title": "Rug", "mrp": "INR 2,499.00"},
    ]
    loaded = load_path(_jsonl(tmp_path / "in.jsonl", indian)).products
    assert [(item.product.price, item.product.currency) for item in loaded] == [
        (150000.0, "INR"),
        (300.0, "INR"),
        (2499.0, "INR"),
    ]


def test_categories_as_lists_paths_or_main_and_sub_columns(tmp_path: Path) -> None:
    listed = [
        {"id": 1, "title": "Case", "categories": ["Phones", "Accessories", "Cases"]},
        {"id": 2, "title": "Cable", "categories": ["Phones", "Accessories"]},
    ]
    (case, cable) = load_path(_jsonl(tmp_path / "list.jsonl", listed)).products
    assert case.product.category_path == ["Phones", "Accessories", "Cases"]
    assert (case.product.category, cable.product.category) == ("Cases", "Accessories")
    pathed = [
        {"id": 1, "title": "Knife", "category": "Home/Kitchen/Knives"},
        {"id": 2, "title": "Fork", "category": "Home/Kitchen/Cutlery"},
        {"id": 3, "title": "Chair", "category": "Home/Furniture"},
    ]
    knife = load_path(_jsonl(tmp_path / "path.jsonl", pathed)).products[0].product
    assert knife.category_path == ["Home", "Kitchen", "Knives"]
    columns = tmp_path / "bigbasket.csv"
    columns.write_text(
        "product,category,sub_category,brand,sale_price\n"
        "Almonds,Foodgrains,Dry Fruits,Happilo,450\n"
        "Cashews,Foodgrains,Dry Fruits,Happilo,520\n"
        "Rice,Foodgrains,Rice & Rice Products,India Gate,310\n"
        "Shampoo,Beauty & Hygiene,Hair Care,Dove,199\n"
    )
    almonds = load_path(columns).products[0].product
    assert almonds.title == "Almonds" and almonds.price == 450.0
    assert almonds.category_path == ["Foodgrains", "Dry Fruits"]
    assert "sub_category" not in almonds.attributes


def test_two_price_columns_the_shopper_pays_the_lower(tmp_path: Path) -> None:
    rows = [
        {"id": i, "title": f"Item {i}", "market_price": high, "sale_price": low}
        for i, (high, low) in enumerate([(500, 450), (300, 300), (120, 99), (80, 64)])
    ]
    products = load_path(_jsonl(tmp_path / "two.jsonl", rows)).products
    assert [item.product.price for item in products] == [450.0, 300.0, 99.0, 64.0]
    assert products[0].product.attributes["market_price"] == 500


def test_rows_without_ids_collisions_and_duplicates(tmp_path: Path) -> None:
    rows = [
        {"name": "Wall Charger - Black", "brand": "Volt", "price": 20, "image": "a.jpg"},
        {"name": "Wall Charger - Black", "brand": "Volt", "price": 25, "image": "b.jpg"},
        {"name": "Car Mount", "brand": "Volt", "price": 15, "image": "c.jpg"},
        {"name": "Wall Charger - Black", "brand": "Volt", "price": 22, "image": "a.jpg"},
    ]
    path = _jsonl(tmp_path / "noid.jsonl", rows)
    result = load_path(path)
    ids = [item.product.product_id for item in result.products]
    assert len(ids) == len(set(ids)) == 3  # two different chargers, one mount
    (duplicate,) = result.errors
    assert duplicate.line == 4 and "duplicate of the row at line 1" in duplicate.reason
    assert not result.complete
    # Same rows, same ids, whatever the order or the file name; a price change keeps the id.
    moved = _jsonl(tmp_path / "other.jsonl", [dict(rows[2], price=99), rows[1], rows[0]])
    assert sorted(item.product.product_id for item in load_path(moved).products) == sorted(ids)


def test_wrapped_products_report_lines(tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    wrapped = {"total": 3, "products": [{"id": 1, "title": "A", "price": 1}, {"id": 2}, {}]}
    path.write_text(json.dumps(wrapped, indent=2))
    result = load_path(path)
    assert [item.product.product_id for item in result.products] == ["1"]
    assert [error.line for error in result.errors] == [9, 12]
    assert all("missing title" in error.reason for error in result.errors)


def test_html_character_references_in_text_fields_are_decoded(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [
        {
            "name": "Case for Apple&#174; iPhone&#174; 6 - Gray/Gold",
            "description": "A 12MP camera with an &#402;/1.8 aperture &amp; 4K video.",
            "brand": "AT&T",
            "features": "Water resistant &#8211; IP67",
            "specs": {"Lens": "&#402;/1.8", "Sizes": ["4.7&#8221;", "5.5&#8221;"]},
        },
        {"name": "R&D Kit &notaname;", "description": "Tom &amp Jerry", "brand": "Acme"},
    ]
    case, kit = (row.product for row in load_path(_jsonl(tmp_path / "s.jsonl", rows)).products)
    assert case.title == "Case for Apple\u00ae iPhone\u00ae 6 - Gray/Gold"
    assert case.description == "A 12MP camera with an \u0192/1.8 aperture & 4K video."
    assert case.brand == "AT&T"  # no ";": not a reference
    # The shop's other fields are the shopper's answers too.
    assert case.attributes["features"] == "Water resistant \u2013 IP67"
    assert case.attributes["specs"] == {"Lens": "\u0192/1.8", "Sizes": ["4.7\u201d", "5.5\u201d"]}
    # Only complete, known references: the rest is text as the shop wrote it.
    assert (kit.title, kit.description) == ("R&D Kit &notaname;", "Tom &amp Jerry")

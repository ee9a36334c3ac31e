"""The catalog profile learned from the three shipped catalogs: field roles and types from names
and values, ids for rows without one, category paths, currency and locale, rating scale,
askable attributes with labels, and loose category terms derived from the catalog itself."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from catalog.profile import CatalogProfile, FieldRole
from ingestion.chunking import product_record
from ingestion.loaders import LoadResult, load_path
from ingestion.profiling import build_profile, rating_scale, source_profile
from tests.conftest import DEMO_CATALOG, ROOT

BESTBUY = ROOT / "data" / "bestbuy" / "products.json"
INR_SHOP = ROOT / "data" / "inr_shop" / "products.csv"


@lru_cache(maxsize=4)
def loaded(path: Path) -> LoadResult:
    return load_path(path)


def profile_of(path: Path, **overrides: str) -> CatalogProfile:
    result = loaded(path)
    records = [json.loads(product_record(item.product)) for item in result.products]
    schema = result.products[0].schema
    assert schema is not None
    return build_profile(records, [source_profile(str(path), schema)], **overrides)


def roles(profile: CatalogProfile) -> dict[str, FieldRole]:
    return {field.name: field.role for field in profile.fields}


def test_demo_catalog_fields_and_policy_attributes() -> None:
    profile = profile_of(DEMO_CATALOG)
    found = roles(profile)
    assert found["id"] is FieldRole.IDENTIFIER and found["sku"] is FieldRole.TEXT
    assert found["title"] is FieldRole.TITLE and found["description"] is FieldRole.DESCRIPTION
    assert found["availabilityStatus"] is FieldRole.AVAILABILITY
    assert found["images"] is FieldRole.MEDIA and found["thumbnail"] is FieldRole.MEDIA
    assert found["discountPercentage"] is FieldRole.NUMBER  # a number, not a second price
    labels = {a.key: (a.label, a.role) for a in profile.attributes}
    assert labels["warrantyInformation"] == ("Warranty information", FieldRole.POLICY)
    assert labels["returnPolicy"] == ("Return policy", FieldRole.POLICY)
    assert labels["shippingInformation"] == ("Shipping information", FieldRole.POLICY)
    assert labels["minimumOrderQuantity"][0] == "Minimum order quantity"
    assert "meta" not in labels and "images" not in labels and "reviews" not in labels
    assert (profile.currency, profile.locale, profile.currency_source) == (
        "USD",
        "en_US",
        "default",
    )
    assert profile.rating_scale == 5
    assert profile.brands["Apple"] == 14 and profile.products == 194


def test_demo_category_terms_are_derived_not_written() -> None:
    terms = {category.name: set(category.terms) for category in profile_of(DEMO_CATALOG).categories}
    assert {"perfume", "perfumes", "fragrance"} <= terms["fragrances"]  # tags + inflection
    assert {"laptop", "laptops"} <= terms["laptops"]
    assert "watch" in terms["mens-watches"] and "watch" in terms["womens-watches"]
    assert "skincare" in terms["skin-care"]
    assert not any("apple" in words for words in terms.values())  # brand words stay brands


def test_bestbuy_rows_without_ids_and_with_category_lists() -> None:
    result = loaded(BESTBUY)
    assert result.errors == [] and len(result.products) == 3291
    ids = [item.product.product_id for item in result.products]
    assert all(re.fullmatch(r"p[0-9a-f]{12}", product_id) for product_id in ids)
    assert len(set(ids)) == 3291  # 62 rows share a name and brand: their details tell them apart
    first = result.products[0].product
    assert first.category_path == ["Cell Phones", "Prepaid Phones", "All Prepaid Phones"]
    assert first.category == "All Prepaid Phones" and first.price == 49.99
    profile = profile_of(BESTBUY)
    found = roles(profile)
    assert found["name"] is FieldRole.TITLE and found["categories"] is FieldRole.CATEGORY
    assert found["image"] is FieldRole.MEDIA and found["popularity"] is FieldRole.NUMBER
    assert FieldRole.RATING not in found.values() and profile.rating_scale is None
    assert FieldRole.IDENTIFIER not in found.values()
    nodes = {category.name: category for category in profile.categories}
    assert nodes["Cell Phones"].count == 3291  # every level of the paths is a category
    assert nodes["Prepaid Phones"].path == ["Cell Phones", "Prepaid Phones"]
    assert "case" in nodes["Cell Phone Cases & Clips"].terms


def test_derived_ids_do_not_depend_on_the_file(tmp_path: Path) -> None:
    rows = json.loads(BESTBUY.read_text())
    names = [(row["name"], row["brand"]) for row in rows]
    unique = [i for i, key in enumerate(names) if names.count(key) == 1][:20]
    subset = tmp_path / "elsewhere.json"
    subset.write_text(json.dumps([rows[i] for i in reversed(unique)]))
    again = {item.product.title: item.product.product_id for item in load_path(subset).products}
    full = loaded(BESTBUY).products
    assert all(again[full[i].product.title] == full[i].product.product_id for i in unique)


def test_inr_shop_currency_locale_and_measures() -> None:
    profile = profile_of(INR_SHOP)
    assert (profile.currency, profile.currency_source) == ("INR", "catalog")
    assert (profile.locale, profile.locale_source) == ("en_IN", "catalog")  # lakh grouping
    fields = {field.name: field for field in profile.fields}
    assert fields["MRP"].role is FieldRole.PRICE and fields["MRP"].type == "money"
    assert fields["Quantity"].role is FieldRole.QUANTITY and fields["Quantity"].type == "quantity"
    assert fields["Product Name"].role is FieldRole.TITLE
    assert fields["Brand Name"].role is FieldRole.BRAND
    assert fields["In Stock"].role is FieldRole.AVAILABILITY
    assert fields["Return Window"].role is FieldRole.POLICY  # recognised by what it says
    assert FieldRole.STOCK not in {field.role for field in profile.fields}
    assert {"ml", "kg", "g", "l"} <= set(profile.units)
    quantity = profile.attribute("Quantity")
    assert quantity is not None and quantity.label == "Quantity" and "10 ml" in quantity.examples
    products = {item.product.title: item.product for item in loaded(INR_SHOP).products}
    shampoo = products["Attitude Super Leaves Hand Soap"]
    assert shampoo.attributes["Quantity"] == "250 ml" and shampoo.stock is None
    assert shampoo.category_path == ["Skin Care", "Hand Soap"] and shampoo.currency == "INR"
    assert products["Annibale Colombo Sofa"].price == 207499.0  # "₹2,07,499.00"


def test_inr_shop_rejects_are_reported_with_lines() -> None:
    result = loaded(INR_SHOP)
    assert len(result.products) == 80
    assert [error.line for error in result.errors] == [32, 52, 84]
    reasons = [error.reason for error in result.errors]
    assert reasons[0] == "product IN-BAD-PRICE: price 'Price on request' is not a number"
    assert reasons[1] == "product IN-NO-NAME: missing title (field 'Product Name')"
    assert reasons[2].startswith("duplicate of the row at line 6: same title, brand and details")
    assert all(error.file == str(INR_SHOP) for error in result.errors)


def test_settings_override_the_learned_currency() -> None:
    profile = profile_of(INR_SHOP, currency="EUR", locale="de_DE")
    assert (profile.currency, profile.currency_source) == ("EUR", "settings")
    assert (profile.locale, profile.locale_source) == ("de_DE", "settings")


@pytest.mark.parametrize(
    ("ratings", "scale"),
    [([4.5, 2], 5), ([7.5], 10), ([87, 12], 100), ([], None), ([3.2e3], 10000)],
)
def test_rating_scale_is_rounded_up_from_the_values(ratings: list[float], scale: float) -> None:
    assert rating_scale(ratings) == scale

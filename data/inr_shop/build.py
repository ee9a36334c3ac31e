"""Build ``products.csv``: an Indian shop's grocery, personal-care and home catalog in rupees.

Derived, reproducibly, from the MIT-licensed demo catalog (``data/catalog/products.json``,
DummyJSON): its groceries, beauty, skin-care, fragrances, home-decoration,
kitchen-accessories and furniture products, rewritten the way an Indian shop exports them:

- columns named as such exports name them ("Product ID", "Product Name", "Brand Name",
  "Category", "MRP", "Quantity", "In Stock", "Rating", "Return Window", "Description");
- "MRP" as rupee strings with Indian (lakh) grouping, mostly "₹1,299.00", some "Rs. 349"
  and "INR 2,499" (prices x 83, rounded to whole rupees);
- "Category" as a "Top > Sub" path (the demo category, then the product's last tag);
- "Quantity" as a measure with its unit ("500 ml", "1 kg", "Pack of 6", "3 seater");
- every fifth row without a "Product ID" (Aisle derives a stable id);
- three bad rows on purpose: a price "on request", a row without a name, and an exact
  duplicate of a row without an id.

Run ``python data/inr_shop/build.py`` from the project root; the output is deterministic.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from babel.numbers import format_currency

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "catalog" / "products.json"
CATEGORIES = (
    "groceries",
    "beauty",
    "skin-care",
    "fragrances",
    "home-decoration",
    "kitchen-accessories",
    "furniture",
)
RUPEES_PER_DOLLAR = 83
# The pack a product is sold in (this fixture's data, by demo product id).
QUANTITY = {
    1: "10 ml", 2: "12 g", 3: "20 g", 4: "4 g", 5: "9 ml", 6: "100 ml", 7: "100 ml",
    8: "50 ml", 9: "75 ml", 10: "100 ml", 11: "1 pc", 12: "3 seater", 13: "1 pc", 14: "1 pc",
    15: "1 pc", 16: "1 kg", 17: "500 g", 18: "3 kg", 19: "1 kg", 20: "1 l", 21: "500 g",
    22: "3 kg", 23: "Pack of 6", 24: "500 g", 25: "250 g", 26: "100 g", 27: "250 g",
    28: "500 ml", 29: "1 l", 30: "500 g", 31: "250 g", 32: "1 l", 33: "200 g", 34: "200 g",
    35: "2 kg", 36: "1 kg", 37: "1 kg", 38: "5 kg", 39: "Pack of 6", 40: "200 g",
    41: "Pack of 4", 42: "2 l", 43: "1 pc", 44: "1 pc", 45: "1 pc", 46: "Set of 2",
    47: "1 pc", 48: "1 pc", 49: "Set of 4", 50: "1 pc", 51: "1.5 l", 52: "1 pc", 53: "1 pc",
    54: "1 pc", 55: "1 pc", 56: "2 burner", 57: "1 pc", 58: "Set of 6", 59: "Set of 6",
    60: "1 pc", 61: "1 pc", 62: "Pack of 2", 63: "1 pc", 64: "1 pc", 65: "1 l", 66: "20 l",
    67: "1 pc", 68: "1 pc", 69: "Set of 6", 70: "1 pc", 71: "3 l", 72: "1 pc", 73: "1 pc",
    74: "Set of 6", 75: "1 pc", 76: "1 pc", 77: "1 pc", 118: "250 ml", 119: "400 ml",
    120: "200 ml",
}  # fmt: skip
COLUMNS = [
    "Product ID",
    "Product Name",
    "Brand Name",
    "Category",
    "MRP",
    "Quantity",
    "In Stock",
    "Rating",
    "Return Window",
    "Description",
]


def humanise(slug: str) -> str:
    return " ".join(word.capitalize() for word in slug.replace("-", " ").split())


def rupees(dollars: float, style: int) -> str:
    amount = max(1, round(dollars * RUPEES_PER_DOLLAR))
    if style % 7 == 3:
        return f"Rs. {amount:,}".replace(",", "")  # "Rs. 349": no grouping at all
    if style % 11 == 5:
        grouped = format_currency(amount, "INR", locale="en_IN", format="#,##,##0")
        return f"INR {grouped}"
    return format_currency(amount, "INR", locale="en_IN")  # "₹1,29,999.00"


def row(product: dict, index: int) -> dict[str, str]:
    return {
        "Product ID": "" if index % 5 == 4 else f"IN-{product['sku']}",
        "Product Name": product["title"],
        "Brand Name": product.get("brand") or "",
        "Category": f"{humanise(product['category'])} > {humanise(product['tags'][-1])}",
        "MRP": rupees(product["price"], index),
        "Quantity": QUANTITY[product["id"]],
        "In Stock": "No" if product["availabilityStatus"] == "Out of Stock" else "Yes",
        "Rating": f"{product['rating']:.1f}",
        "Return Window": product["returnPolicy"],
        "Description": product["description"],
    }


def main() -> None:
    products = [p for p in json.loads(SOURCE.read_text()) if p["category"] in CATEGORIES]
    rows = [row(product, index) for index, product in enumerate(products)]
    on_request = dict(rows[10], **{"Product ID": "IN-BAD-PRICE", "MRP": "Price on request"})
    nameless = dict(rows[20], **{"Product ID": "IN-NO-NAME", "Product Name": ""})
    duplicate = next(r for r in rows if not r["Product ID"])
    rows[30:30] = [on_request]
    rows[50:50] = [nameless]
    rows.append(dict(duplicate))
    with (HERE / "products.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {HERE / 'products.csv'}")


if __name__ == "__main__":
    main()

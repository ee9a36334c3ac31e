"""Build a large catalog reproducibly from the shipped ones (for ``bench/scale.py``).

Run: ``.venv/bin/python bench/make_catalog.py --products 30000 --out .aisle/bench/catalog.json``.
Every product is a variant of a shipped product (the DummyJSON demo catalog, MIT, and the ePQA
sample, CDLA-Sharing-1.0: see their LICENSE files): a colour, a size and a model number make
each title unique; prices, stock and ratings are drawn around the original's. Most variants
keep only the core chunk's fields (like a grocery feed); some keep specs, reviews or ePQA
snippets, so a product has about 1.4 chunks on average. The same arguments give the same file.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "catalog" / "products.json"
EPQA = ROOT / "data" / "epqa" / "products.jsonl"

COLOURS = ("red", "blue", "black", "white", "green", "grey", "gold", "silver", "pink", "teal")
SIZES = ("mini", "small", "medium", "large", "XL", "250 ml", "500 g", "1 kg", "2-pack", "6-pack")
EPQA_CATEGORIES = ("electronics", "tools", "automotive", "home-improvement", "office")
# Attributes that would give most variants a specs chunk: kept for a share of them only.
SPEC_FIELDS = ("sku", "weight", "dimensions", "minimumOrderQuantity")
DROPPED = ("meta", "images", "thumbnail", "discountPercentage")


def build(products: int, seed: int = 13) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    demo = json.loads(DEMO.read_text(encoding="utf-8"))
    epqa = [json.loads(line) for line in EPQA.read_text(encoding="utf-8").splitlines() if line]
    rows = []
    for n in range(products):
        if rng.random() < 0.15:
            rows.append(_epqa_variant(rng.choice(epqa), n, rng))
        else:
            rows.append(_demo_variant(rng.choice(demo), n, rng))
    return rows


def _variant_words(n: int, rng: random.Random) -> tuple[str, str, str]:
    return rng.choice(COLOURS), rng.choice(SIZES), f"M{n:05d}"


def _demo_variant(base: dict[str, Any], n: int, rng: random.Random) -> dict[str, Any]:
    colour, size, model = _variant_words(n, rng)
    row = {key: value for key, value in base.items() if key not in DROPPED}
    row["id"] = f"s{n:05d}"
    row["title"] = f"{base['title']} {colour} {size} {model}"
    description = str(base.get("description", ""))[:420]
    row["description"] = f"{description} This {colour} {size} edition is model {model}."
    row["price"] = round(float(base.get("price") or 10.0) * rng.uniform(0.6, 1.6), 2)
    row["stock"] = rng.choice((0, 0, 3, 12, 40, 120))
    row["rating"] = round(min(5.0, max(1.0, float(base.get("rating") or 4) + rng.gauss(0, 0.4))), 2)
    row.pop("availabilityStatus", None)  # derived from stock
    if rng.random() >= 0.2:
        for key in SPEC_FIELDS:
            row.pop(key, None)
    if rng.random() >= 0.1:
        row.pop("reviews", None)
    return row


def _epqa_variant(base: dict[str, Any], n: int, rng: random.Random) -> dict[str, Any]:
    colour, size, model = _variant_words(n, rng)
    title = str(base["title"])
    return {
        "id": f"s{n:05d}",
        "title": f"{title[:90]} {colour} {model}",
        "description": f"{title}. The {colour} {size} model {model}.",
        "category": EPQA_CATEGORIES[sum(map(ord, title)) % len(EPQA_CATEGORIES)],
        "brand": title.split()[0],
        "price": round(rng.uniform(5, 400), 2),
        "stock": rng.choice((0, 5, 25, 80)),
        "rating": round(rng.uniform(2.5, 5.0), 2),
        "snippets": [s for s in base.get("snippets", [])[:2] if isinstance(s, dict)],
    }


def reprice(rows: list[dict[str, Any]], share: float, seed: int = 7) -> int:
    """Change price and stock of ``share`` of the rows in place; returns how many changed."""
    rng = random.Random(seed)
    changed = rng.sample(range(len(rows)), max(1, round(len(rows) * share)))
    for index in changed:
        row = rows[index]
        row["price"] = round(float(row["price"]) * rng.uniform(0.8, 0.95), 2)
        row["stock"] = int(row.get("stock") or 0) + 7
    return len(changed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=ROOT / ".aisle" / "bench" / "catalog.json")
    args = parser.parse_args()
    rows = build(args.products, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows), encoding="utf-8")
    print(f"{len(rows)} products -> {args.out}")


if __name__ == "__main__":
    main()

"""Graded product-search sets built from a catalog's own structure (category path, tags, brand).

The grading rule is fixed before any retriever is run, and it is the same for every catalog:

* **category queries**: every category node held by 2-60 products (the catalog-wide root,
  held by more than half of the products, is skipped); the query is the node's label in plain
  words ("kitchen-accessories" -> "kitchen accessories"). Grade 2: the product's category path
  holds the node. Grade 1: its path holds the node's parent (a sibling category), unless that
  parent is the root.
* **tag queries** (catalogs with tags): every tag held by 2-60 products that is not also a
  category label. Grade 2: the product has the tag. Grade 1: it has none, but shares its
  narrowest category with a product that has it (a substitute).
* **brand + category queries**: every (brand, narrowest category) pair held by 2 or more
  products; the query is "<brand> <category label>". Grade 2: both match. Grade 1: the
  category matches and the brand does not (a substitute from another maker); the brand alone
  earns nothing.

At most :data:`MAX_PER_FAMILY` queries per family are kept, chosen by a hash of the query (not
by any retriever's result). Each query is in the ``dev`` or ``test`` split by a hash of its id:
fusion settings are chosen on ``dev`` and reported on ``test``.

Regenerate the shipped files with ``python -m evaluation.graded_search``. The Best Buy rows
have no id field: their id is the Best Buy SKU in the image URL (unique in the file), which is
also how ``bench/retrieval.py`` ingests them (:func:`catalog_rows`).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = Path(__file__).resolve().parent / "data"
MIN_SUPPORT, MAX_SUPPORT, MAX_PER_FAMILY = 2, 60, 60
ROOT_SHARE = 0.5


@dataclass(frozen=True)
class CatalogSpec:
    """Where a catalog's structure lives in its rows."""

    name: str
    path: Path
    category: str  # a string, or a list from broad to narrow
    brand: str
    tags: str | None = None


CATALOGS = {
    "demo": CatalogSpec(
        "demo", ROOT / "data" / "catalog" / "products.json", "category", "brand", "tags"
    ),
    "bestbuy": CatalogSpec(
        "bestbuy", ROOT / "data" / "bestbuy" / "products.json", "categories", "brand"
    ),
}
_SKU = re.compile(r"/(\d+)_[a-z0-9_x]+\.\w+$")


def catalog_rows(name: str) -> list[dict[str, Any]]:
    """The catalog's rows, each with an ``id`` (Best Buy: the SKU from its image URL, added as
    the row's ``id`` field so that ingestion uses it)."""
    spec = CATALOGS[name]
    rows = json.loads(spec.path.read_text(encoding="utf-8"))
    if isinstance(rows, dict):
        rows = rows["products"]
    out = []
    for row in rows:
        if "id" not in row:
            match = _SKU.search(str(row.get("image", "")))
            if match is None:
                raise ValueError(f"{spec.path}: a row without id or SKU: {row.get('name')!r}")
            row = {"id": match.group(1), **row}
        out.append(row)
    return out


def product_id(row: dict[str, Any]) -> str:
    return str(row["id"])


def split_of(query_id: str) -> str:
    """``dev`` or ``test``, half each, by a hash of the query id."""
    return "dev" if hashlib.sha256(query_id.encode()).digest()[0] % 2 == 0 else "test"


def label(value: str) -> str:
    return " ".join(re.sub(r"[-_]+", " ", value).split()).lower()


def build_queries(spec: CatalogSpec, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The graded queries of one catalog (see the module docstring for the rule)."""
    paths = {product_id(row): _path(row.get(spec.category)) for row in rows}
    brands = {product_id(row): str(row.get(spec.brand) or "").strip() for row in rows}
    tags = {
        product_id(row): {label(str(t)) for t in row.get(spec.tags) or []} if spec.tags else set()
        for row in rows
    }
    node_count = Counter(node for path in paths.values() for node in set(path))
    roots = {node for node, n in node_count.items() if n > ROOT_SHARE * len(rows)}
    queries: list[dict[str, Any]] = []

    category_queries = []
    for node, n in sorted(node_count.items()):
        if node in roots or not MIN_SUPPORT <= n <= MAX_SUPPORT:
            continue
        parents = {_parent(p, node) for p in paths.values() if node in p} - {None} - roots
        grades = {}
        for pid, path in paths.items():
            if node in path:
                grades[pid] = 2
            elif parents & set(path):
                grades[pid] = 1
        category_queries.append(_query(spec, "category", label(node), grades))
    queries += _capped(category_queries)

    if spec.tags:
        category_labels = {label(node) for node in node_count}
        tag_count = Counter(t for ts in tags.values() for t in ts)
        tag_queries = []
        for tag, n in sorted(tag_count.items()):
            if tag in category_labels or not MIN_SUPPORT <= n <= MAX_SUPPORT:
                continue
            leaves = {paths[pid][-1] for pid, ts in tags.items() if tag in ts and paths[pid]}
            grades = {}
            for pid, ts in tags.items():
                if tag in ts:
                    grades[pid] = 2
                elif paths[pid] and paths[pid][-1] in leaves:
                    grades[pid] = 1
            tag_queries.append(_query(spec, "tag", tag, grades))
        queries += _capped(tag_queries)

    pairs = Counter((brands[pid], path[-1]) for pid, path in paths.items() if brands[pid] and path)
    brand_queries = []
    for (brand, leaf), n in sorted(pairs.items()):
        if n < MIN_SUPPORT:
            continue
        grades = {}
        for pid, path in paths.items():
            if path and path[-1] == leaf:
                grades[pid] = 2 if brands[pid] == brand else 1
        text = f"{_plain_brand(brand)} {label(leaf)}"
        brand_queries.append(_query(spec, "brand_category", text, grades))
    queries += _capped(brand_queries)
    return queries


def _path(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if str(v).strip()]
    return [str(value)] if value not in (None, "") else []


def _parent(path: list[str], node: str) -> str | None:
    position = path.index(node)
    return path[position - 1] if position > 0 else None


def _plain_brand(brand: str) -> str:
    return brand.replace("\u2122", "").replace("\u00ae", "").strip()


def _query(spec: CatalogSpec, family: str, text: str, grades: dict[str, int]) -> dict[str, Any]:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    qid = f"{spec.name}-{family}-{slug}"
    ordered = dict(sorted(grades.items(), key=lambda item: (-item[1], item[0])))
    return {
        "id": qid,
        "question": text,
        "type": f"search_{family}",
        "relevant_ids": [pid for pid, grade in ordered.items() if grade == 2],
        "grades": ordered,
    }


def _capped(queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ranked = sorted(queries, key=lambda q: hashlib.sha256(q["id"].encode()).hexdigest())
    return sorted(ranked[:MAX_PER_FAMILY], key=lambda q: q["id"])


def write(name: str, out_dir: Path = OUT_DIR) -> Path:
    spec = CATALOGS[name]
    queries = build_queries(spec, catalog_rows(name))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"search-graded-{name}.jsonl"
    header = (
        f"# Graded search queries over {spec.path.relative_to(ROOT)}, built by "
        "evaluation/graded_search.py (rule in its docstring). grades: product id -> 2 exact, "
        "1 partial; absent = 0.\n"
    )
    body = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries)
    path.write_text(header + body, encoding="utf-8")
    return path


def load(path: Path) -> list[dict[str, Any]]:
    """The queries of a graded file, each with its ``split``."""
    queries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query = json.loads(line)
            query["split"] = split_of(query["id"])
            queries.append(query)
    return queries


def main(argv: list[str] | None = None) -> int:
    names = argv if argv else list(CATALOGS)
    for name in names:
        path = write(name)
        queries = load(path)
        by_family: dict[str, int] = defaultdict(int)
        for query in queries:
            by_family[query["type"]] += 1
        print(f"{path}: {len(queries)} queries {dict(by_family)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

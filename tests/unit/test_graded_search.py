"""The graded product-search sets: the grading rule, and the shipped files it produced."""

from __future__ import annotations

from pathlib import Path

from evaluation import graded_search as gs

ROOT = Path(__file__).resolve().parents[2]


def _rows() -> list[dict]:
    rows = []
    for n in range(12):  # a root shared by every product is never a query
        leaf = "Cases" if n < 6 else ("Chargers" if n < 9 else "Cables")
        middle = "Power" if leaf != "Cases" else "Protection"
        brand = "Acme" if n % 2 == 0 else "Zed"
        rows.append(
            {
                "id": n,
                "cat": ["Phones", middle, leaf],
                "brand": brand,
                "tags": ["red"] if n in (1, 6) else [],
            }
        )
    return rows


def _by_text(queries: list[dict]) -> dict[str, dict]:
    return {q["question"]: q for q in queries}


def test_category_queries_grade_siblings_one():
    spec = gs.CatalogSpec("t", Path("x"), "cat", "brand", "tags")
    queries = _by_text(gs.build_queries(spec, _rows()))
    assert "phones" not in queries  # the root
    chargers = queries["chargers"]
    assert chargers["type"] == "search_category"
    assert chargers["grades"] == {"6": 2, "7": 2, "8": 2, "10": 1, "11": 1, "9": 1}
    assert chargers["relevant_ids"] == ["6", "7", "8"]
    # "Protection" has one child: its products are exact, nobody is a sibling.
    assert queries["cases"]["grades"] == {str(n): 2 for n in range(6)}


def test_tag_and_brand_queries():
    spec = gs.CatalogSpec("t", Path("x"), "cat", "brand", "tags")
    queries = _by_text(gs.build_queries(spec, _rows()))
    # Products 1 (Cases) and 6 (Chargers) are red; their categories' other products are 1.
    others = {str(n): 1 for n in (0, 2, 3, 4, 5, 7, 8)}
    assert queries["red"]["grades"] == {"1": 2, "6": 2, **others}
    acme = queries["Acme chargers"]
    assert acme["grades"] == {"6": 2, "8": 2, "7": 1}
    assert acme["type"] == "search_brand_category"


def test_splits_are_stable_halves():
    assert gs.split_of("demo-category-beauty") == gs.split_of("demo-category-beauty")
    splits = [gs.split_of(f"q-{n}") for n in range(200)]
    assert 70 < splits.count("dev") < 130


def test_the_shipped_files_are_what_the_rule_builds(tmp_path):
    for name in gs.CATALOGS:
        rebuilt = gs.write(name, tmp_path)
        shipped = ROOT / "evaluation" / "data" / rebuilt.name
        assert rebuilt.read_text(encoding="utf-8") == shipped.read_text(encoding="utf-8")
        queries = gs.load(shipped)
        assert {q["split"] for q in queries} == {"dev", "test"}
        assert all(max(q["grades"].values()) == 2 for q in queries)


def test_best_buy_rows_get_their_sku_as_id():
    rows = gs.catalog_rows("bestbuy")
    assert len(rows) == 3291 and len({gs.product_id(r) for r in rows}) == 3291
    assert gs.product_id(rows[0]) == "4984700"

"""POST /v1/search: one result per product, constraints from words and explicit filters."""

from __future__ import annotations

from fastapi.testclient import TestClient

RESULT_FIELDS = {
    "product_id",
    "title",
    "price",
    "brand",
    "category",
    "in_stock",
    "rating",
    "score",
    "snippet",
}


def test_search_returns_products_with_their_fields(client: TestClient) -> None:
    response = client.post("/v1/search", json={"query": "Essence Mascara Lash Princess", "k": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"results", "filters", "relaxed", "plan"}
    results = body["results"]
    assert 1 <= len(results) <= 3
    assert all(set(result) == RESULT_FIELDS for result in results)
    assert results[0]["product_id"] == "1"
    assert results[0]["price"] == 9.99
    assert len({result["product_id"] for result in results}) == len(results)


def test_constraint_words_filter_the_results(client: TestClient) -> None:
    body = client.post("/v1/search", json={"query": "laptops under $1200", "k": 10}).json()
    assert body["results"], body
    assert all(r["category"] == "laptops" and r["price"] <= 1200 for r in body["results"])
    assert body["filters"]["max_price"] == 1200
    assert body["relaxed"] is None


def test_explicit_filters_apply(client: TestClient) -> None:
    filters = {"category": "fragrances", "max_price": 60, "in_stock": True}
    body = client.post("/v1/search", json={"query": "perfume", "k": 10, "filters": filters}).json()
    assert body["results"]
    for result in body["results"]:
        assert result["category"] == "fragrances"
        assert result["price"] <= 60
        assert result["in_stock"] is True
    assert body["filters"]["category"] == "fragrances"


def test_k_bounds_the_number_of_results(client: TestClient) -> None:
    for k in (1, 50):
        body = client.post("/v1/search", json={"query": "phone", "k": k}).json()
        assert 1 <= len(body["results"]) <= k


def test_unmeetable_constraint_is_relaxed_and_named(client: TestClient) -> None:
    body = client.post("/v1/search", json={"query": "laptops under $5", "k": 5}).json()
    assert body["results"], body
    assert body["relaxed"], body

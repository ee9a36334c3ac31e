"""GET /v1/products/{id} and GET /v1/facets."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import assert_error


def test_product_record_is_returned(client: TestClient) -> None:
    response = client.get("/v1/products/1")
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["product_id"] == "1"
    assert record["title"] == "Essence Mascara Lash Princess"
    assert record["price"] == 9.99
    assert record["attributes"]["warrantyInformation"] == "1 week warranty"


def test_unknown_product_is_404_json(client: TestClient) -> None:
    error = assert_error(client.get("/v1/products/no-such-product"), 404, "not_found")
    assert "no-such-product" in error["message"]


def test_facets_describe_the_catalog(client: TestClient) -> None:
    response = client.get("/v1/facets")
    assert response.status_code == 200, response.text
    body = response.json()
    categories = {c["name"]: c["count"] for c in body["categories"]}
    assert categories["laptops"] == 5
    assert sum(categories.values()) == 194
    brands = {b["name"]: b["count"] for b in body["brands"]}
    assert brands["Apple"] >= 1
    assert body["price"]["min"] < body["price"]["max"]
    assert body["backends"] == ["extractive"]  # no key, no base URL: nothing else configured
    assert body["default_backend"] == "extractive"
    assert body["examples"] and all(isinstance(q, str) and q for q in body["examples"])


def test_facet_examples_are_answerable(client: TestClient) -> None:
    examples = client.get("/v1/facets").json()["examples"]
    for question in examples[:3]:
        body = client.post("/v1/chat", json={"message": question}).json()
        assert body["sources"], (question, body)

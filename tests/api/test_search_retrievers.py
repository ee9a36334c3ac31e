"""POST /v1/search with one retriever alone ("retriever": dense, keyword or fused)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import assert_error


def _search(client: TestClient, **body) -> dict:
    response = client.post("/v1/search", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_each_retriever_finds_a_product_by_its_title(client: TestClient) -> None:
    for retriever in ("dense", "keyword", "fused", "hybrid"):
        body = _search(client, query="Essence Mascara Lash Princess", k=3, retriever=retriever)
        assert body["results"][0]["product_id"] == "1", (retriever, body)


def test_keyword_alone_finds_nothing_for_unknown_words_dense_always_answers(client) -> None:
    assert _search(client, query="zzqxv wqzzy", k=4, retriever="keyword")["results"] == []
    assert len(_search(client, query="zzqxv wqzzy", k=4, retriever="dense")["results"]) == 4


def test_a_single_retriever_reads_no_constraints_but_keeps_explicit_filters(client) -> None:
    body = _search(client, query="laptops under $1200", k=10, retriever="dense")
    assert body["filters"] == {} and body["relaxed"] is None
    assert any(r["category"] != "laptops" or r["price"] > 1200 for r in body["results"])
    filtered = _search(
        client, query="laptops", k=10, retriever="keyword", filters={"max_price": 1200}
    )
    assert filtered["filters"] == {"max_price": 1200}
    assert filtered["results"] and all(r["price"] <= 1200 for r in filtered["results"])


def test_an_unknown_retriever_is_a_json_422(client: TestClient) -> None:
    response = client.post("/v1/search", json={"query": "mascara", "retriever": "sparse"})
    assert_error(response, 422)

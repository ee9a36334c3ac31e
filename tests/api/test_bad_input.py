"""Every bad request gets a 4xx with {"error": {"code", "message"}}, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import assert_error


@pytest.mark.parametrize(
    ("path", "payload", "code"),
    [
        ("/v1/chat", {"message": ""}, "invalid_request"),
        ("/v1/chat", {"message": "   "}, "invalid_request"),
        ("/v1/chat", {}, "invalid_request"),
        ("/v1/chat", {"message": 42}, "invalid_request"),
        ("/v1/chat", {"message": "hi", "backend": "gpt-17"}, "invalid_request"),
        ("/v1/chat", {"message": "hi", "stream": "sometimes"}, "invalid_request"),
        (
            "/v1/chat",
            {"message": "hi", "history": [{"role": "system", "content": "x"}]},
            "invalid_request",
        ),
        ("/v1/chat", {"message": "hi", "temperature": 7}, "invalid_request"),
        ("/v1/chat", {"message": "hi", "max_tokens": 0}, "invalid_request"),
        (
            "/v1/chat",
            {"message": "hi", "filters": {"min_price": 50, "max_price": 10}},
            "invalid_request",
        ),
        ("/v1/chat", {"message": "hi", "filters": {"colour": "red"}}, "invalid_request"),
        ("/v1/chat", {"message": "hi", "surprise": 1}, "invalid_request"),
        ("/v1/search", {"query": "phone", "k": 0}, "invalid_request"),
        ("/v1/search", {"query": "phone", "k": 51}, "invalid_request"),
        ("/v1/search", {"query": "phone", "k": "five"}, "invalid_request"),
        ("/v1/search", {"query": ""}, "invalid_request"),
        ("/v1/search", {"query": "phone", "filters": {"min_rating": 9}}, "invalid_request"),
        ("/v1/search", [1, 2], "invalid_request"),
    ],
)
def test_invalid_bodies_are_422_json(
    client: TestClient, path: str, payload: Any, code: str
) -> None:
    assert_error(client.post(path, json=payload), 422, code)


def test_too_long_message_names_the_limit(client: TestClient) -> None:
    limit = client.app.state.settings.api.max_message_chars  # type: ignore[attr-defined]
    error = assert_error(
        client.post("/v1/chat", json={"message": "a" * (limit + 1)}), 422, "message_too_long"
    )
    assert str(limit) in error["message"]
    # Exactly at the limit is accepted.
    assert client.post("/v1/chat", json={"message": "a" * limit}).status_code == 200


def test_unconfigured_backend_is_rejected(client: TestClient) -> None:
    # "openai" is a known name but has no key or base URL in these settings.
    error = assert_error(
        client.post("/v1/chat", json={"message": "hi", "backend": "openai"}), 400, "unknown_backend"
    )
    assert "extractive" in error["message"]


@pytest.mark.parametrize("body", ['{"message": "hi"', "not json", '{"message": "hi",}'])
def test_malformed_json_is_400(client: TestClient, body: str) -> None:
    response = client.post("/v1/chat", content=body, headers={"content-type": "application/json"})
    assert_error(response, 400, "malformed_json")


def test_unknown_path_and_wrong_method_are_json(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    assert_error(client.get("/v1/chat"), 405, "method_not_allowed")
    assert_error(client.delete("/v1/products/1"), 405, "method_not_allowed")


def test_openapi_documents_the_message_limit(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    message = schema["components"]["schemas"]["ChatRequest"]["properties"]["message"]
    assert message["maxLength"] == client.app.state.settings.api.max_message_chars  # type: ignore[attr-defined]
    assert message["minLength"] == 1

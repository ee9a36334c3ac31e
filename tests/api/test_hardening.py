"""Bad input that used to reach the store or the planner: every text field has a configured
limit, numbers must be finite, and readiness reflects what can really serve."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aisle.processes import free_port
from aisle.settings import load_settings
from service.app import create_app
from tests.api.conftest import assert_error

HUGE = "9" * 400  # float("9" * 400) is inf


@pytest.fixture(scope="module")
def limited(demo_data_dir: Path) -> Iterator[TestClient]:
    settings = load_settings(
        _env_file=None,
        data_dir=demo_data_dir,
        api={"max_query_chars": 60, "max_history_chars": 50, "max_filter_chars": 20},
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_search_query_length_is_limited_by_the_setting(limited: TestClient) -> None:
    error = assert_error(limited.post("/v1/search", json={"query": "x" * 61}), 422, "too_long")
    assert "60" in error["message"]
    assert limited.post("/v1/search", json={"query": "mascara " * 7}).status_code == 200
    # The absolute ceiling holds whatever the setting: 100k characters never reach the planner.
    assert_error(limited.post("/v1/search", json={"query": "x" * 100_000}), 422)


def test_history_and_filter_strings_are_limited(limited: TestClient) -> None:
    history = [{"role": "user", "content": "y" * 51}]
    response = limited.post("/v1/chat", json={"message": "and this one?", "history": history})
    assert "history.0.content" in assert_error(response, 422, "too_long")["message"]
    long_brand = {"query": "lipstick", "filters": {"brand": "b" * 21}}
    assert_error(limited.post("/v1/search", json=long_brand), 422, "too_long")
    chat_filter = {"message": "lipstick", "filters": {"category": "c" * 21}}
    assert_error(limited.post("/v1/chat", json=chat_filter), 422, "too_long")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"query": "laptop", "filters": {"max_price": 1e400}}',
        b'{"query": "laptop", "filters": {"min_price": 1e300}}',
        b'{"query": "laptop", "filters": {"min_rating": 1e400}}',
        b'{"query": "laptop", "filters": {"max_price": NaN}}',
        b'{"message": "laptops", "filters": {"max_price": Infinity}}',
    ],
)
def test_non_finite_or_absurd_filter_numbers_are_422(client: TestClient, raw: bytes) -> None:
    path = "/v1/chat" if b"message" in raw else "/v1/search"
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert_error(response, 422)


def test_a_400_digit_price_in_the_words_is_not_a_store_failure(client: TestClient) -> None:
    for path, field in (("/v1/search", "query"), ("/v1/chat", "message")):
        response = client.post(path, json={field: f"laptops under ${HUGE}"})
        assert response.status_code < 500, response.text
        if response.status_code != 200:
            assert_error(response, 422)


def test_product_ids_are_bounded(client: TestClient) -> None:
    assert_error(client.get("/v1/products/" + "p" * 600), 422)


def test_readiness_survives_an_llm_blip_while_the_fallback_serves(demo_data_dir: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    common = {"data_dir": demo_data_dir, "llm": {"backend": "openai"}}
    openai = {"base_url": down, "api_key": "sk-test", "timeout_s": 2, "max_retries": 0}
    settings = load_settings(_env_file=None, openai=openai, **common)
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["default_backend"] == "openai" and body["serving"] == "extractive"
        assert body["backends"]["openai"] != "ok" and body["backends"]["extractive"] == "ok"
        assert body["products"] == 194
    strict = load_settings(
        _env_file=None,
        openai=openai,
        **{**common, "llm": {"backend": "openai", "fallback": "none"}},
    )
    with TestClient(create_app(strict)) as client:
        assert_error(client.get("/readyz"), 503, "not_ready")

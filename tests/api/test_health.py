"""Liveness and readiness over the demo store, and readiness when Chroma is down."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.app import create_app
from tests.api.conftest import assert_error
from tests.conftest import free_port


def test_healthz_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_the_store_and_backend(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["products"] == 194
    assert body["chunks"] >= 194
    assert body["default_backend"] == "extractive"


def test_app_starts_without_chroma_and_readyz_names_the_store(make_settings) -> None:
    # Nothing listens on this port: the store cannot open, the app must still start.
    settings = make_settings(chroma_url=f"http://127.0.0.1:{free_port()}")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200
        error = assert_error(client.get("/readyz"), 503, "not_ready")
        assert "store" in error["message"]
        assert_error(client.post("/v1/search", json={"query": "mascara"}), 503, "store_unavailable")
        chat = client.post("/v1/chat", json={"message": "mascara"})
        assert_error(chat, 503, "store_unavailable")


def test_readyz_names_an_unreachable_default_backend(make_settings, demo_data_dir) -> None:
    down = {"base_url": f"http://127.0.0.1:{free_port()}"}
    # The extractive fallback serves while the LLM is down: ready, and the body says why.
    settings = make_settings(data_dir=demo_data_dir, llm={"backend": "ollama"}, ollama=down)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["serving"] == "extractive"
        assert ready.json()["backends"]["ollama"] != "ok"
    # Without a fallback nothing can answer the default requests: not ready, naming the LLM.
    strict = make_settings(
        data_dir=demo_data_dir, llm={"backend": "ollama", "fallback": "none"}, ollama=down
    )
    with TestClient(create_app(strict), raise_server_exceptions=False) as client:
        error = assert_error(client.get("/readyz"), 503, "not_ready")
        assert "ollama" in error["message"]

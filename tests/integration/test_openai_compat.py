"""The official ``openai`` client talks to Aisle as a model, over a running ``aisle serve``.

One API process on a loopback port serves the demo store with API keys on, its ``openai``
backend being the session's Qwen server. The client sees ``aisle`` and ``aisle:<backend>``
models, grounded answers with inline and structured citations, OpenAI's chunk stream ending
with ``[DONE]``, and errors in OpenAI's shape with the right status.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fastapi.testclient import TestClient

from aisle.settings import load_settings
from evaluation.local_llm import LlamaServer
from evaluation.metrics import parse_citations
from service.app import create_app
from tests.conftest import free_port, start_api, stop_process
from tests.integration.conftest import QWEN_TIMEOUT_S

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KEY = "openai-compat-test-key-0123456789"
QUESTION = "How much is the Essence Mascara Lash Princess?"
OPENAI_ERROR_KEYS = {"message", "type", "param", "code"}


@pytest.fixture(scope="module")
def api(
    demo_data_dir: Path, qwen_server: LlamaServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    work = tmp_path_factory.mktemp("openai-compat")
    env = {
        "AISLE_DATA_DIR": str(demo_data_dir),
        "AISLE_API_KEYS": KEY,
        "AISLE_OPENAI__BASE_URL": qwen_server.openai_base_url,
        "AISLE_OPENAI__MODEL": qwen_server.model,
        "AISLE_OPENAI__TIMEOUT_S": str(QWEN_TIMEOUT_S),
        "AISLE_OPENAI__MAX_RETRIES": "0",
        "AISLE_LLM__TEMPERATURE": "0",
    }
    process, url = start_api(work, env)
    try:
        yield url
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def client(api: str) -> Iterator[openai.OpenAI]:
    # No retries: a retried 429 or 5xx would hide what the server answered.
    with openai.OpenAI(
        base_url=f"{api}/v1", api_key=KEY, max_retries=0, timeout=QWEN_TIMEOUT_S
    ) as openai_client:
        yield openai_client


def aisle_chat(api: str, message: str, backend: str) -> dict[str, Any]:
    response = httpx.post(
        f"{api}/v1/chat",
        json={"message": message, "backend": backend},
        headers={"X-API-Key": KEY},
        timeout=QWEN_TIMEOUT_S,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_models_list_aisle_and_each_backend(client: openai.OpenAI) -> None:
    models = {model.id: model for model in client.models.list()}
    assert set(models) == {"aisle", "aisle:extractive", "aisle:openai"}
    assert models["aisle"].model_extra == {"backend": "extractive"}
    assert all(model.owned_by == "aisle" for model in models.values())
    assert client.models.retrieve("aisle:openai").model_extra == {"backend": "openai"}


def test_answer_with_inline_and_structured_citations(client: openai.OpenAI, api: str) -> None:
    completion = client.chat.completions.create(
        model="aisle:extractive",
        messages=[
            {"role": "system", "content": "You are a pirate. Always talk like one."},
            {"role": "user", "content": QUESTION},
        ],
    )
    assert completion.object == "chat.completion" and completion.model == "aisle:extractive"
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    content = choice.message.content or ""
    # The same grounded answer as POST /v1/chat: the system message changed nothing.
    assert content == aisle_chat(api, QUESTION, "extractive")["answer"]
    assert "9.99" in content and parse_citations(content) == ["1"]
    extra = completion.model_extra or {}
    assert [c["product_id"] for c in extra["citations"]] == ["1"]
    assert extra["citations"][0]["title"] == "Essence Mascara Lash Princess"
    # The snippet is the passage the answer rests on: the first source of that product.
    first = next(src for src in extra["aisle"]["sources"] if src["product_id"] == "1")
    assert extra["citations"][0]["snippet"] == first["snippet"] and first["snippet"]
    assert extra["aisle"]["backend"] == "extractive" and extra["aisle"]["refused"] is False


def test_history_and_filters_reach_the_chat(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="aisle",
        messages=[
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": "Essence Mascara Lash Princess costs $9.99 [1]."},
            {"role": "user", "content": "What is its warranty?"},
        ],
        extra_body={"filters": {"category": "beauty"}},
    )
    content = completion.choices[0].message.content or ""
    assert "1 week" in content and "1" in parse_citations(content), content
    assert (completion.model_extra or {})["aisle"]["filters"]["category"] == "beauty"


def test_stream_concatenates_to_the_answer_and_ends_with_done(
    client: openai.OpenAI, api: str
) -> None:
    chunks = list(
        client.chat.completions.create(
            model="aisle:extractive",
            messages=[{"role": "user", "content": QUESTION}],
            stream=True,
        )
    )
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert streamed == aisle_chat(api, QUESTION, "extractive")["answer"]
    assert len([c for c in chunks if c.choices[0].delta.content]) > 1  # really streamed
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert [c["product_id"] for c in (last.model_extra or {})["citations"]] == ["1"]
    # The wire format: data lines only, the last one [DONE].
    with httpx.stream(
        "POST",
        f"{api}/v1/chat/completions",
        json={
            "model": "aisle",
            "messages": [{"role": "user", "content": QUESTION}],
            "stream": True,
        },
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=60,
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line and not line.startswith(":")]
    assert all(line.startswith("data: ") for line in lines), lines
    assert lines[-1] == "data: [DONE]"
    assert json.loads(lines[-2][6:])["choices"][0]["finish_reason"] == "stop"


def test_llm_backend_answers_through_the_client(client: openai.OpenAI, api: str) -> None:
    """The Qwen server behind Aisle, streamed and not: each content is the final answer."""
    plain = client.chat.completions.create(
        model="aisle:openai",
        messages=[{"role": "user", "content": QUESTION}],
        max_completion_tokens=64,
        temperature=0,
    )
    chunks = list(
        client.chat.completions.create(
            model="aisle:openai",
            messages=[{"role": "user", "content": QUESTION}],
            max_tokens=64,
            temperature=0,
            stream=True,
        )
    )
    assert plain.model == chunks[-1].model == "aisle:openai"
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    answers = [
        (plain.choices[0].message.content or "", plain.model_extra or {}),
        (streamed, chunks[-1].model_extra or {}),
    ]
    for content, extra in answers:
        assert extra["aisle"]["backend"] == "openai"
        assert_grounded_or_replaced(api, content, extra)


def assert_grounded_or_replaced(api: str, content: str, extra: dict[str, Any]) -> None:
    """A kept LLM answer cites only retrieved products, and ``citations`` lists them; one the
    guard (or a fallback) replaced is the extractive answer, and says why."""
    reason = extra["aisle"]["reason"]
    if reason is None or reason == "the model found no answer in the catalog":
        search = httpx.post(
            f"{api}/v1/search", json={"query": QUESTION, "k": 5}, headers={"X-API-Key": KEY}
        ).json()
        retrieved = {result["product_id"] for result in search["results"]}
        assert set(parse_citations(content)) <= retrieved, content
        assert {c["product_id"] for c in extra["citations"]} <= retrieved, extra
    else:
        assert "model" in reason, extra
        assert content == aisle_chat(api, QUESTION, "extractive")["answer"]


USER = [{"role": "user", "content": QUESTION}]
TOOL = {"type": "function", "function": {"name": "lookup"}}


@pytest.mark.parametrize(
    ("body", "error_class", "status", "code", "param"),
    [
        ({"model": "gpt-4o"}, openai.NotFoundError, 404, "model_not_found", "model"),
        ({"n": 2}, openai.BadRequestError, 400, "unsupported_parameter", "n"),
        ({"tools": [TOOL]}, openai.BadRequestError, 400, "unsupported_parameter", "tools"),
        ({"messages": []}, openai.UnprocessableEntityError, 422, "invalid_request", "messages"),
        (
            {"messages": [{"role": "assistant", "content": "hi"}]},
            openai.UnprocessableEntityError,
            422,
            "invalid_request",
            "messages[0].role",
        ),
        (
            {"temperature": 5},
            openai.UnprocessableEntityError,
            422,
            "invalid_request",
            "temperature",
        ),
    ],
    ids=["unknown-model", "n", "tools", "no-messages", "last-not-user", "temperature"],
)
def test_bad_requests_get_openai_errors(
    client: openai.OpenAI,
    body: dict[str, Any],
    error_class: type[openai.APIStatusError],
    status: int,
    code: str,
    param: str,
) -> None:
    with pytest.raises(error_class) as caught:
        client.chat.completions.create(**{"model": "aisle", "messages": USER, **body})
    error = caught.value
    assert error.status_code == status
    assert isinstance(error.body, dict) and set(error.body) == OPENAI_ERROR_KEYS, error.body
    assert (error.code, error.param, error.type) == (code, param, "invalid_request_error")
    assert error.message and "Traceback" not in error.message


def test_edge_refusals_get_openai_errors(api: str) -> None:
    # The API key check runs before any route, and still answers in OpenAI's shape.
    stranger = openai.OpenAI(base_url=f"{api}/v1", api_key="wrong-key", max_retries=0)
    with stranger, pytest.raises(openai.AuthenticationError) as denied:
        stranger.chat.completions.create(model="aisle", messages=USER)  # type: ignore[arg-type]
    error = denied.value
    assert isinstance(error.body, dict) and set(error.body) == OPENAI_ERROR_KEYS, error.body
    assert (error.status_code, error.code, error.type) == (
        401,
        "unauthorized",
        "authentication_error",
    )

    response = httpx.post(
        f"{api}/v1/chat/completions",
        content=b'{"model": "aisle", "messages": [',
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": "the body is not valid JSON",
        "type": "invalid_request_error",
        "param": None,
        "code": "malformed_json",
    }


def test_rate_limit_body_limit_and_store_outage(demo_data_dir: Path) -> None:
    """429, 413 and 503 in OpenAI's shape (in process: these need other settings)."""
    user = {"model": "aisle", "messages": USER}
    settings = load_settings(
        _env_file=None,
        data_dir=demo_data_dir,
        api={"rate_limit_per_minute": 1, "max_body_bytes": 2048},
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as app:
        big = {**user, "messages": [{"role": "user", "content": "x" * 4000}]}
        assert_openai_error(app.post("/v1/chat/completions", json=big), 413, "payload_too_large")
        assert app.post("/v1/chat/completions", json=user).status_code == 200
        limited = app.post("/v1/chat/completions", json=user)
        assert_openai_error(limited, 429, "rate_limited", "rate_limit_error")
        assert int(limited.headers["Retry-After"]) >= 1

    dead = load_settings(
        _env_file=None, data_dir=demo_data_dir, chroma_url=f"http://127.0.0.1:{free_port()}"
    )
    with TestClient(create_app(dead), raise_server_exceptions=False) as app:
        for stream in (False, True):
            response = app.post("/v1/chat/completions", json={**user, "stream": stream})
            assert_openai_error(response, 503, "store_unavailable", "server_error")


def assert_openai_error(
    response: Any, status: int, code: str, kind: str = "invalid_request_error"
) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == OPENAI_ERROR_KEYS and error["message"], error
    assert (error["code"], error["type"]) == (code, kind), error

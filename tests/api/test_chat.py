"""POST /v1/chat with the extractive backend: JSON answers and their SSE framing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import parse_sse

RESPONSE_FIELDS = {
    "plan",
    "answer",
    "sources",
    "refused",
    "reason",
    "backend",
    "timings_ms",
    "filters",
    "relaxed",
}


def ask(client: TestClient, message: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/v1/chat", json={"message": message, **extra})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == RESPONSE_FIELDS
    return body


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How much is the Essence Mascara Lash Princess?", "9.99"),
        ("What warranty does the Red Lipstick have?", "3 year warranty"),
        ("What is the return policy of the Eyeshadow Palette with Mirror?", "7 days return"),
        ("How fast does the Red Nail Polish ship?", "overnight"),
        ("Which brand makes the Powder Canister?", "Velvet Touch"),
    ],
)
def test_attribute_questions_cite_the_product(
    client: TestClient, question: str, expected: str
) -> None:
    body = ask(client, question)
    assert expected.lower() in body["answer"].lower(), body
    assert body["refused"] is False
    assert body["backend"] == "extractive"
    assert body["sources"]
    assert set(body["sources"][0]) == {"product_id", "title", "snippet", "score"}
    assert set(body["timings_ms"]) >= {"retrieval", "generation", "total"}


def test_stock_question_is_answered_from_the_record(client: TestClient) -> None:
    body = ask(client, "Is the Essence Mascara Lash Princess in stock?")
    assert body["sources"][0]["product_id"] == "1"
    assert "stock" in body["answer"].lower()


def test_out_of_catalog_question_is_refused(client: TestClient) -> None:
    body = ask(client, "What is the boiling point of liquid nitrogen on Neptune?")
    assert body["refused"] is True
    assert body["reason"]


def test_follow_up_is_resolved_from_history(client: TestClient) -> None:
    first = ask(client, "Tell me about the Essence Mascara Lash Princess")
    history = [
        {"role": "user", "content": "Tell me about the Essence Mascara Lash Princess"},
        {"role": "assistant", "content": first["answer"]},
    ]
    body = ask(client, "how much is it?", history=history)
    assert "9.99" in body["answer"], body
    assert body["sources"][0]["product_id"] == "1"


def test_constraint_question_applies_filters(client: TestClient) -> None:
    body = ask(client, "laptops under $1200")
    assert body["filters"].get("max_price") == 1200
    assert body["sources"]
    assert "Lenovo Yoga 920" in body["answer"]


def test_stream_frames_sources_tokens_done(client: TestClient) -> None:
    message = "What warranty does the Red Lipstick have?"
    with client.stream("POST", "/v1/chat", json={"message": message, "stream": True}) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(resp.read().decode())
    names = [name for name, _ in events]
    assert names[0] == "sources"
    assert names[-1] == "done"
    assert set(names[1:-1]) == {"token"}, names
    assert names.count("sources") == 1
    done = events[-1][1]
    assert "".join(data["text"] for name, data in events if name == "token") == done["answer"]
    assert events[0][1] == done["sources"]

    plain = ask(client, message)
    strip = lambda body: {key: value for key, value in body.items() if key != "timings_ms"}  # noqa: E731
    assert strip(done) == strip(plain)


def test_stream_reports_errors_as_an_error_event_or_json(client: TestClient) -> None:
    # Validation happens before the stream starts: a plain JSON 4xx, not an event stream.
    response = client.post("/v1/chat", json={"message": "", "stream": True})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"

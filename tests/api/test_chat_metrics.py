"""The chat path reports retrieval time and refusals on /metrics."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def _sample(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_refusals_and_retrieval_are_counted(client: TestClient) -> None:
    before = client.get("/metrics").text
    response = client.post("/v1/chat", json={"message": "Do you sell lawn mowers?"})
    assert response.status_code == 200 and response.json()["refused"] is True
    after = client.get("/metrics").text

    refusals = 'aisle_refusals_total{backend="extractive"}'
    assert _sample(after, refusals) == _sample(before, refusals) + 1
    retrievals = "aisle_retrieval_duration_seconds_count"
    assert _sample(after, retrievals) == _sample(before, retrievals) + 1

"""A bounded load test on loopback: 32 concurrent clients on /v1/search and /v1/chat
(extractive) against a real ``aisle serve`` process. Throughput and latency are printed, never
asserted; what must hold is that every request gets an answer and none is an unplanned 5xx."""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import free_port, stop_process, wait_for_http

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLIENTS = 32
REQUESTS_PER_CLIENT = 4  # 128 requests per endpoint: bounded in count
RUN_TIMEOUT_S = 240.0  # and in time (a hang fails instead of blocking the suite)
SEARCH_QUERIES = ["mascara", "laptop under $1500", "perfume for men", "kitchen knife", "phone"]
CHAT_QUESTIONS = [
    "lipstick under $20",
    "How much is the Essence Mascara Lash Princess?",
    "Do you have any gaming laptops?",
    "What is the return policy for the iPhone 9?",
    "sunglasses with good ratings",
]


@pytest.fixture(scope="module")
def api_url(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("load")
    data_dir = work / "data"
    shutil.copytree(demo_data_dir, data_dir)  # its own copy: another process opens it
    port = free_port()
    env = {
        **os.environ,
        "AISLE_DATA_DIR": str(data_dir),
        "AISLE_LOG_LEVEL": "WARNING",
        "AISLE_LLM__BACKEND": "extractive",
    }
    log = (work / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "aisle.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/readyz", timeout=180, process=process)
        yield url
    finally:
        stop_process(process)
        log.close()


async def _client(
    url: str, path: str, bodies: list[dict[str, object]], results: list[tuple[int, float]]
) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120.0) as client:
        for body in bodies:
            started = time.perf_counter()
            response = await client.post(path, json=body)
            results.append((response.status_code, time.perf_counter() - started))
            if response.status_code == 200:
                assert response.json()  # a complete JSON body, not a cut-off stream


def _run(url: str, path: str, make_body) -> list[tuple[int, float]]:
    results: list[tuple[int, float]] = []

    async def main() -> None:
        await asyncio.wait_for(
            asyncio.gather(
                *(
                    _client(
                        url,
                        path,
                        [
                            make_body(c * REQUESTS_PER_CLIENT + i)
                            for i in range(REQUESTS_PER_CLIENT)
                        ],
                        results,
                    )
                    for c in range(CLIENTS)
                )
            ),
            RUN_TIMEOUT_S,
        )

    started = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - started
    latencies = sorted(seconds for _, seconds in results)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"\n{path}: {len(results)} requests from {CLIENTS} clients in {elapsed:.1f} s "
        f"= {len(results) / elapsed:.1f} req/s; latency p50 {statistics.median(latencies):.3f} s, "
        f"p95 {p95:.3f} s, max {latencies[-1]:.3f} s"
    )
    return results


def _served(url: str, path: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "aisle_http_requests_total" and sample.labels.get("route") == path
    )


def test_32_concurrent_clients_on_search(api_url: str) -> None:
    results = _run(
        api_url,
        "/v1/search",
        lambda n: {"query": SEARCH_QUERIES[n % len(SEARCH_QUERIES)], "k": 5},
    )
    assert len(results) == CLIENTS * REQUESTS_PER_CLIENT
    statuses = {status for status, _ in results}
    assert statuses == {200}, statuses  # no rate limit configured: nothing else is planned
    assert _served(api_url, "/v1/search") >= len(results)


def test_32_concurrent_clients_on_extractive_chat(api_url: str) -> None:
    results = _run(
        api_url,
        "/v1/chat",
        lambda n: {"message": CHAT_QUESTIONS[n % len(CHAT_QUESTIONS)], "backend": "extractive"},
    )
    assert len(results) == CLIENTS * REQUESTS_PER_CLIENT
    statuses = {status for status, _ in results}
    assert statuses == {200}, statuses
    assert httpx.get(f"{api_url}/readyz").status_code == 200  # still healthy afterwards

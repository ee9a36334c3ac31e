"""Serving benchmark: prints a markdown table (never asserted in tests).

In one run, on the same store:
- ``/v1/search`` p50/p95 over HTTP, against (query embedding + raw Chroma query) and against
  LangChain's ``Chroma.similarity_search`` on the same collection, both in this process;
- ``/v1/chat`` (extractive) p50/p95;
- the peer (issue 14): the LangChain tutorial pipeline of ``bench/peer.py`` (torch
  embeddings, its own Chroma of the demo catalog), ``similarity_search`` in process; and the
  parts of a search timed alone (query embedding, Chroma query of a fixed vector, BM25);
- 32 concurrent clients on ``/v1/search`` for a bounded number of requests: throughput, errors.

Usage: ``python bench/serve.py [--data-dir DIR] [--requests 200] [--load-requests 640]``.
Without ``--data-dir`` the demo catalog is ingested into a temporary folder first.
The API runs as a separate uvicorn process, as in production, so client and server do not
share a GIL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aisle.settings import load_settings  # noqa: E402
from bench.serve_setup import embeddings_for, ensure_store, start_api  # noqa: E402

QUERIES = [
    "mascara",
    "laptops under $1200",
    "red lipstick",
    "perfume for men",
    "cheapest smartphone",
    "wooden bed frame",
    "running shoes",
    "women's watch in stock",
    "kitchen knife set",
    "sunglasses under 50 dollars",
    "gaming laptop",
    "fresh vegetables",
    "leather handbag",
    "motorcycle helmet",
    "tablet with a big screen",
    "4 stars and up skin care",
]
CHAT = [
    "How much is the Essence Mascara Lash Princess?",
    "What warranty does the Red Lipstick have?",
    "laptops under $1200",
    "What is the return policy of the Eyeshadow Palette with Mirror?",
    "Is the Powder Canister in stock?",
    "cheapest perfume",
]
K = 5
PEER_ROW = "peer: LangChain tutorial similarity_search (in process, torch)"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def interleaved(
    calls: dict[str, tuple[Callable[[str], object], list[str]]], n: int, warmup: int = 5
) -> dict[str, list[float]]:
    """Time every call ``n`` times, taking turns, so that background load hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(warmup + n):
        for name, (call, inputs) in calls.items():
            started = time.perf_counter()
            call(inputs[i % len(inputs)])
            if i >= warmup:
                samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def load_test(base: str, total: int, clients: int) -> tuple[float, int, list[float]]:
    """``clients`` threads share ``total`` search requests; (req/s, errors, latencies)."""
    lock = threading.Lock()
    state = {"next": 0, "errors": 0}
    latencies: list[float] = []

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            while True:
                with lock:
                    index = state["next"]
                    if index >= total:
                        return
                    state["next"] += 1
                started = time.perf_counter()
                try:
                    ok = (
                        client.post(
                            "/v1/search", json={"query": QUERIES[index % len(QUERIES)], "k": K}
                        ).status_code
                        == 200
                    )
                except httpx.HTTPError:
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if not ok:
                        state["errors"] += 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total / (time.perf_counter() - started), state["errors"], latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=200, help="Sequential samples per row.")
    parser.add_argument("--load-requests", type=int, default=640)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="aisle-bench-"))
    settings = load_settings(_env_file=None, data_dir=data_dir)
    ensure_store(settings)

    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma

    from bench.peer import TutorialEmbeddings, TutorialPipeline
    from catalog.keyword import KeywordIndex
    from catalog.store import ProductStore

    embeddings = embeddings_for(settings)
    embeddings.warm_up()
    store = ProductStore.open(chroma_url="", data_dir=data_dir, collection=settings.collection)
    peer = TutorialPipeline(TutorialEmbeddings())
    peer.ingest(ROOT / "data" / "catalog" / "products.json", data_dir / "peer")
    fixed_vector = embeddings.embed_query("warm up")
    keyword_index = KeywordIndex.build(store.iter_chunks())
    candidates = settings.retrieval.candidates

    def raw(query: str) -> object:
        return store.query(embeddings.embed_query(query), K)

    def embed_only(query: str) -> object:
        return embeddings.embed_query(query)

    def chroma_only(query: str) -> object:
        return store.query(fixed_vector, candidates)

    def bm25_only(query: str) -> object:
        return keyword_index.search(query, candidates)

    chroma_client = chromadb.PersistentClient(
        path=str(settings.chroma_dir), settings=ChromaSettings(anonymized_telemetry=False)
    )
    langchain_store = Chroma(
        client=chroma_client, collection_name=settings.collection, embedding_function=embeddings
    )

    def langchain(query: str) -> object:
        return langchain_store.similarity_search(query, k=K)

    from tests.conftest import free_port  # the same helper the tests use

    port = free_port()
    api = start_api(settings, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60) as client:

            def search(query: str) -> object:
                response = client.post("/v1/search", json={"query": query, "k": K})
                response.raise_for_status()
                return response

            def chat(message: str) -> object:
                response = client.post(
                    "/v1/chat", json={"message": message, "backend": "extractive"}
                )
                response.raise_for_status()
                return response

            rows = interleaved(
                {
                    PEER_ROW: (peer.search, QUERIES),
                    "embed + raw Chroma query (in process)": (raw, QUERIES),
                    f"query embedding alone ({embeddings.backend})": (embed_only, QUERIES),
                    f"Chroma query alone ({candidates} chunks)": (chroma_only, QUERIES),
                    f"BM25 alone ({candidates} chunks)": (bm25_only, QUERIES),
                    "LangChain Chroma.similarity_search (in process)": (langchain, QUERIES),
                    "POST /v1/search (HTTP, hybrid)": (search, QUERIES),
                    "POST /v1/chat extractive (HTTP)": (chat, CHAT),
                },
                args.requests,
            )
        throughput, errors, load_latencies = load_test(base, args.load_requests, args.clients)
    finally:
        api.terminate()
        api.wait(timeout=30)

    raw_p50 = statistics.median(rows["embed + raw Chroma query (in process)"])
    print(
        f"\nServing benchmark ({os.cpu_count()} CPUs, k={K}, {args.requests} requests a row, "
        f"embedding backend {embeddings.backend}, load average {os.getloadavg()[0]:.1f})\n"
    )
    print("| what | p50 ms | p95 ms | vs raw p50 |")
    print("| --- | ---: | ---: | ---: |")
    for name, samples in rows.items():
        p50 = statistics.median(samples)
        print(f"| {name} | {p50:.1f} | {percentile(samples, 95):.1f} | {p50 / raw_p50:.2f}x |")
    print(
        f"| {args.clients} concurrent clients, {args.load_requests} x /v1/search | "
        f"{statistics.median(load_latencies):.1f} | {percentile(load_latencies, 95):.1f} | "
        f"{throughput:.1f} req/s, {errors} errors |"
    )
    search_p50 = statistics.median(rows["POST /v1/search (HTTP, hybrid)"])
    chat_p50 = statistics.median(rows["POST /v1/chat extractive (HTTP)"])
    print("\nTargets:")
    print(
        f"- search p50 <= 1.5x raw: {search_p50 / raw_p50:.2f}x "
        f"({'met' if search_p50 <= 1.5 * raw_p50 else 'NOT met'})"
    )
    print(f"- chat p50 < 60 ms: {chat_p50:.1f} ms ({'met' if chat_p50 < 60 else 'NOT met'})")
    print(f"- zero errors under concurrency: {errors} ({'met' if errors == 0 else 'NOT met'})")
    peer_p50 = statistics.median(rows[PEER_ROW])
    print(
        f"- search p50 <= 0.8x the peer's similarity_search: {search_p50 / peer_p50:.2f}x "
        f"({'met' if search_p50 <= 0.8 * peer_p50 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()

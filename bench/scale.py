"""Scale benchmark: a >= 30k-product catalog, its ingest costs and search latency (a table).

Run: ``.venv/bin/python bench/scale.py [--products 30000] [--requests 200] [--fresh]
[--random-vectors] [--data-dir DIR]``. The catalog is built reproducibly by
``bench/make_catalog.py`` into ``.aisle/bench/scale/``; the store there is kept between runs
(``--fresh`` rebuilds it, which re-embeds everything: many minutes on 2 cores).
``--random-vectors`` writes random unit vectors in the first ingest instead of encoding (it
then measures everything but the model; queries are still embedded for real, so search
latency is representative, search quality is not). Measured, in this order:

- first ingest (only when the store is new), unchanged re-ingest, a 1 % price/stock change of
  the full file, the same change sent as a ``--changed-only`` feed;
- the keyword index build of one process (what a replica does when the text changed);
- ``POST /v1/search`` p50/p95 over HTTP against a real ``aisle serve`` process, without and
  with filters, and an in-process breakdown of one search (embed, dense, keyword, rank and read);
- memory: the API process's resident set after the searches, and this process's peak.

Nothing here is asserted in the tests. The load average is printed: other work on the machine
slows everything.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.make_catalog import build, reprice  # noqa: E402

WORK = ROOT / ".aisle" / "bench" / "scale"
FILTERS: list[dict[str, Any]] = [
    {"max_price": 50},
    {"category": "groceries", "in_stock": True},
    {"min_price": 100, "min_rating": 4},
]


def _timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _queries(rows: list[dict[str, Any]], count: int) -> list[str]:
    """Title fragments, model numbers and category words drawn from the catalog itself."""
    picked = rows[:: max(1, len(rows) // count)][:count]
    queries = []
    for n, row in enumerate(picked):
        words = str(row["title"]).split()
        if n % 3 == 0:
            queries.append(words[-1])  # a model number: a rare exact term
        elif n % 3 == 1:
            queries.append(" ".join(words[:3]))
        else:
            queries.append(f"{row.get('category', 'gift')} {words[0]}")
    return queries


class RandomVectors:
    """Random unit vectors in place of the model (``--random-vectors``)."""

    def __init__(self, embeddings: Any) -> None:
        self._embeddings = embeddings

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        vectors = np.random.default_rng(len(texts)).normal(size=(len(texts), 384))
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).tolist()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embeddings, name)


def ingest_rows(
    settings: Any, rows_file: Path, *, random_vectors: bool = False, **options: Any
) -> tuple[float, Any]:
    from catalog.embeddings import build_embeddings
    from catalog.lease import IngestLock
    from catalog.store import ProductStore
    from ingestion.pipeline import ingest_files

    store = ProductStore.open(chroma_url="", data_dir=settings.data_dir, collection="products")
    embeddings: Any = build_embeddings(settings.embedding, settings.data_dir)
    if random_vectors:
        embeddings = RandomVectors(embeddings)
    lock = IngestLock(store.meta, lock_file=settings.ingest_lock_file, kind="bench")
    lock.acquire()
    with lock:
        return _timed(
            lambda: ingest_files(
                [rows_file], store=store, embeddings=embeddings, lock=lock, **options
            )
        )


def start_api(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    from aisle.processes import free_port, wait_ready

    port = free_port()
    env = {**os.environ, "AISLE_DATA_DIR": str(data_dir), "AISLE_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "aisle.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(process, f"{url}/readyz", timeout=600, name="the API")
    except RuntimeError:
        process.terminate()
        raise
    return process, url


def http_latencies(
    url: str, queries: list[str], filters: list[dict[str, Any]] | None
) -> list[float]:
    samples = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for query in queries[:5]:  # warm up
            client.post("/v1/search", json={"query": query})
        for n, query in enumerate(queries):
            body: dict[str, Any] = {"query": query, "k": 5}
            if filters:
                body["filters"] = filters[n % len(filters)]
            started = time.perf_counter()
            response = client.post("/v1/search", json=body)
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return samples


def breakdown(settings: Any, queries: list[str]) -> dict[str, float]:
    """Median milliseconds of each step of one hybrid search, in this process."""
    from catalog.embeddings import build_embeddings
    from catalog.search import HybridSearcher, KeywordIndexHandle
    from catalog.store import ProductStore

    store = ProductStore.open(chroma_url="", data_dir=settings.data_dir, collection="products")
    embeddings = build_embeddings(settings.embedding, settings.data_dir)
    embeddings.warm_up()
    handle = KeywordIndexHandle(None, store, check_every_s=3600)
    build_s, view = _timed(handle.view)
    searcher = HybridSearcher(store, embeddings, handle, settings.retrieval)
    steps: dict[str, list[float]] = {"embed": [], "dense": [], "keyword": [], "rank": []}
    for query in queries:
        t0 = time.perf_counter()
        vector = embeddings.embed_query(query)
        t1 = time.perf_counter()
        dense = searcher._dense(vector, 40, None, view)
        t2 = time.perf_counter()
        sparse = view.index.search(query, 40)
        t3 = time.perf_counter()
        searcher._ranked(dense, sparse, None, 5)  # fusion, then the winners read from the store
        t4 = time.perf_counter()
        for name, value in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            steps[name].append(value * 1000)
    result = {name: statistics.median(values) for name, values in steps.items()}
    result["keyword index build (s)"] = build_s
    return result


def _has_digests(data_dir: Path) -> bool:
    from catalog.store import ProductStore

    store = ProductStore.open(chroma_url="", data_dir=data_dir, collection="products")
    return bool(store.digests.load())


def _rss_mb(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def main() -> None:
    from aisle.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=30_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--fresh", action="store_true", help="rebuild the store from scratch")
    parser.add_argument("--random-vectors", action="store_true", help="no model in ingests")
    parser.add_argument("--data-dir", type=Path, default=WORK / "data")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

    WORK.mkdir(parents=True, exist_ok=True)
    data_dir = args.data_dir
    if args.fresh:
        shutil.rmtree(data_dir, ignore_errors=True)
    settings = load_settings(_env_file=None, data_dir=data_dir)
    rows = build(args.products)
    catalog = WORK / "catalog.json"
    catalog.write_text(json.dumps(rows), encoding="utf-8")
    table: list[tuple[str, str]] = [("products", f"{len(rows):,}")]

    if not (data_dir / "chroma").exists():
        first_s, first = ingest_rows(settings, catalog, random_vectors=args.random_vectors)
        how = "random vectors, no model" if args.random_vectors else "encoded"
        table.append(
            ("first ingest (s)", f"{first_s:.1f} ({first.chunks_embedded:,} chunks, {how})")
        )
    else:  # an existing store: bring it to this catalog first (timed when it had no digests)
        legacy = not _has_digests(data_dir)
        settle_s, _ = ingest_rows(settings, catalog)
        if legacy:
            table.append(("re-ingest of a store without digests (one-off, s)", f"{settle_s:.1f}"))
    noop = [ingest_rows(settings, catalog)[0] for _ in range(3)]
    table.append(("unchanged re-ingest (s, median of 3)", f"{statistics.median(noop):.2f}"))

    changed_rows = [dict(row) for row in rows]
    changed = reprice(changed_rows, 0.01)
    catalog.write_text(json.dumps(changed_rows), encoding="utf-8")
    reprice_s, summary = ingest_rows(settings, catalog)
    table.append((f"1 % price/stock change, full file (s; {changed} products)", f"{reprice_s:.2f}"))
    assert summary.metadata_only == changed and summary.chunks_embedded == 0, summary
    feed_rows = [dict(row) for row in changed_rows]
    reprice(feed_rows, 0.01, seed=8)
    feed = [row for row, old in zip(feed_rows, changed_rows, strict=True) if row != old]
    feed_file = WORK / "feed.json"
    feed_file.write_text(json.dumps(feed), encoding="utf-8")
    feed_s, _ = ingest_rows(settings, feed_file, changed_only=True)
    table.append((f"1 % change as a --changed-only feed (s; {len(feed)} rows)", f"{feed_s:.2f}"))
    catalog.write_text(json.dumps(rows), encoding="utf-8")
    ingest_rows(settings, catalog)  # back to the reproducible contents

    queries = _queries(rows, args.requests)
    steps = breakdown(settings, queries[:50])
    table.append(
        ("keyword index build from the store (s)", f"{steps.pop('keyword index build (s)'):.1f}")
    )
    api, url = start_api(data_dir)
    try:
        plain = http_latencies(url, queries, None)
        filtered = http_latencies(url, queries, FILTERS)
        rss, peak = _rss_mb(api.pid)
    finally:
        api.terminate()
        api.wait(30)
    runs: list[tuple[str, list[float]]] = [("without filters", plain), ("with filters", filtered)]
    for name, samples in runs:
        table.append(
            (
                f"POST /v1/search {name}: p50 / p95 (ms)",
                f"{statistics.median(samples):.1f} / {_percentile(samples, 0.95):.1f}",
            )
        )
    table.append(
        ("in-process search steps, median ms", ", ".join(f"{k} {v:.1f}" for k, v in steps.items()))
    )
    table.append(("API process memory: resident / peak (MB)", f"{rss:.0f} / {peak:.0f}"))
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table.append(("benchmark process peak (MB)", f"{own_peak:.0f}"))
    table.append(("load average (1 / 5 / 15 min)", " / ".join(f"{x:.1f}" for x in os.getloadavg())))

    print("\n| measure | value |\n| --- | ---: |")
    for name, value in table:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()

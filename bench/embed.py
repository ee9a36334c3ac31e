"""Embedding backends side by side: vector parity, speed, queries during an ingest, and
retrieval quality (prints markdown tables; never asserted in tests).

    python bench/embed.py                    # parity + speed + query latency under ingest
    python bench/embed.py --quality          # also retrieval metrics per backend
    python bench/embed.py --texts 256 --queries 100

Texts are the real chunk texts of the demo catalog and the ePQA products. Parity is against
``SentenceTransformer.encode`` on torch. Speed rounds alternate backends, so background load
hits them alike. ``--quality`` ingests the graded demo search set and the ePQA sample per
backend (under ``--work/<backend>``) and scores dense and fused retrieval with
``bench/retrieval_data.py``'s metrics.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from catalog.embeddings import BACKENDS, LocalEmbeddings  # noqa: E402

QUERIES = ["mascara", "laptops under $1200", "red lipstick", "perfume for men", "gaming laptop"]


def catalog_texts() -> list[str]:
    from ingestion.chunking import chunk_product
    from ingestion.loaders import load_path

    paths = (ROOT / "data" / "catalog" / "products.json", ROOT / "data" / "epqa" / "products.jsonl")
    return [c.text for p in paths for item in load_path(p).products for c in chunk_product(item)]


def parity(models: dict[str, LocalEmbeddings], texts: list[str]) -> None:
    reference = models["torch"].model.encode(texts, batch_size=64, normalize_embeddings=True)
    vectors = {name: np.asarray(m.embed_documents(texts)) for name, m in models.items()}
    print(f"### Parity with sentence-transformers (torch), {len(texts)} catalog texts\n")
    print("| backend | min cosine | mean cosine | vs |\n|---|---:|---:|---|")
    pairs = [(name, "torch", reference) for name in models if name != "torch"]
    if {"onnx", "onnx-int8"} <= models.keys():
        pairs.append(("onnx-int8", "onnx", vectors["onnx"]))
    for name, against, ref in pairs:
        cosines = (vectors[name] * ref).sum(axis=1)
        print(f"| {name} | {cosines.min():.5f} | {cosines.mean():.5f} | {against} |")
    print()


def speed(models: dict[str, LocalEmbeddings], texts: list[str], rounds: int, n: int) -> None:
    bulk: dict[str, list[float]] = {name: [] for name in models}
    single: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            started = time.perf_counter()
            model.embed_documents(texts)
            bulk[name].append(time.perf_counter() - started)
    for i in range(n):
        for name, model in models.items():
            started = time.perf_counter()
            model.embed_query(QUERIES[i % len(QUERIES)])
            single[name].append((time.perf_counter() - started) * 1000)
    torch_bulk = statistics.median(bulk["torch"])
    torch_query = statistics.median(single["torch"])
    print(f"### Speed ({len(texts)} texts per round, median of {rounds}; {n} queries)\n")
    print("| backend | encode (s) | vs torch | texts/s | query p50 (ms) | vs torch |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in models:
        b, q = statistics.median(bulk[name]), statistics.median(single[name])
        print(
            f"| {name} | {b:.2f} | {b / torch_bulk:.2f}x | {len(texts) / b:.0f} "
            f"| {q:.1f} | {q / torch_query:.2f}x |"
        )
    print()


def queries_during_ingest(model: LocalEmbeddings, texts: list[str], n: int) -> None:
    """Query latency alone, then while another thread embeds ``texts`` in batches."""

    def sample() -> list[float]:
        out = []
        for i in range(n):
            started = time.perf_counter()
            model.embed_query(QUERIES[i % len(QUERIES)])
            out.append((time.perf_counter() - started) * 1000)
            time.sleep(0.005)  # a shopper at a time, not a saturating loop
        return out

    idle = sample()
    stop = threading.Event()
    batches = [0]

    def ingest() -> None:
        while not stop.is_set():
            model.embed_documents(texts[: model.batch_size * 4])
            batches[0] += 4

    worker = threading.Thread(target=ingest, daemon=True)
    worker.start()
    time.sleep(0.5)
    busy = sample()
    stop.set()
    worker.join()
    print(f"### Queries during an ingest ({model.backend}, batch {model.batch_size})\n")
    print("| when | query p50 (ms) | p95 (ms) | max (ms) |\n|---|---:|---:|---:|")
    for label, values in (("idle", idle), (f"ingest running ({batches[0]} batches)", busy)):
        ordered = sorted(values)
        p95 = ordered[int(0.95 * (len(ordered) - 1))]
        print(f"| {label} | {statistics.median(values):.1f} | {p95:.1f} | {ordered[-1]:.1f} |")
    print()


def field_run(demo: Any, model: LocalEmbeddings, depth: int, limit: int = 300) -> Any:
    """The eval's field questions (``aisle eval --dataset field --limit 300``: the same seeded,
    type-balanced subset, answerable ones) over the demo store of ``demo``."""
    from bench.retrieval_data import BOOSTS, Query, Run, boosted_index
    from evaluation.datasets import load_dataset, subset

    chosen = subset(load_dataset("field").questions, limit)
    queries = [
        Query(q.qid, q.question, "all", {pid: 1.0 for pid in q.relevant_ids or [q.product_id]})
        for q in chosen
        if q.answerable and q.product_id
    ]
    run = Run("field", False, queries, store=demo.store)
    records = list(demo.store.iter_chunks())
    indexes = {boost: boosted_index(records, boost) for boost in BOOSTS}
    vectors = [model.embed_query(q.text) for q in queries]  # as the API embeds them
    for query, vector in zip(queries, vectors, strict=True):
        run.dense[query.qid] = demo.store.query(vector, depth)
        for boost, index in indexes.items():
            run.keyword[(boost, query.qid)] = index.search(query.text, depth)
    return run


def recall_at(run: Any, boost: int, fusion: Any, k: int) -> float:
    from bench.retrieval_data import ranking
    from evaluation import metrics

    hits = [
        metrics.recall_at_k(ranking(run, q.qid, boost, fusion), list(q.grades), k)
        for q in run.queries
    ]
    return float(np.mean(hits))


def quality(models: dict[str, LocalEmbeddings], work: Path) -> None:
    from aisle.settings import load_settings
    from bench.retrieval import fusion_from_settings
    from bench.retrieval_data import collect, evaluate_products
    from bench.retrieval_epqa import _chunk_gains
    from evaluation import metrics

    settings = load_settings(_env_file=None)
    chosen, boost = fusion_from_settings(settings.retrieval)
    depth = settings.retrieval.candidates
    rows: list[tuple[str, dict[str, float]]] = []
    for name, model in models.items():
        scores: dict[str, float] = {}
        demo = collect("demo", work / name, model, depth)
        for label, fusion in (("dense", "dense"), ("fused", chosen)):
            found = evaluate_products(demo, 1 if fusion == "dense" else boost, fusion, "all")
            scores[f"demo {label} nDCG@10"] = found["ndcg@10"]
            scores[f"demo {label} Recall@10"] = found["recall@10"]
        field = field_run(demo, model, depth)
        for label, fusion in (("dense", "dense"), ("fused", chosen)):
            for k in (1, 5, 10):
                scores[f"field {label} Recall@{k}"] = recall_at(
                    field, 1 if fusion == "dense" else boost, fusion, k
                )
        epqa = collect("epqa", work / name, model, depth)
        answerable = [q for q in epqa.queries if q.extra["answerable"]]
        for label, fusion in (("dense", "dense"), ("fused", chosen)):
            hits = [
                metrics.graded_hit_at_k(_chunk_gains(epqa, q, fusion), 5, 2) for q in answerable
            ]
            scores[f"ePQA {label} evidence Recall@5"] = float(np.mean(hits))
        rows.append((name, scores))
    keys = list(rows[0][1])
    print("### Retrieval quality per backend (in process)\n")
    print("| metric | " + " | ".join(name for name, _ in rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for key in keys:
        print(f"| {key} | " + " | ".join(f"{scores[key]:.3f}" for _, scores in rows) + " |")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=512, help="texts per speed round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--quality-only", action="store_true", help="skip parity and speed")
    parser.add_argument("--work", type=Path, default=Path("/tmp/aisle-bench-embed"))
    args = parser.parse_args(argv)

    print(f"load average at start: {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs\n")
    models: dict[str, Any] = {}
    for name in BACKENDS:
        started = time.perf_counter()
        model = LocalEmbeddings(args.batch_size, name, cache_dir=args.cache_dir)  # type: ignore[arg-type]
        model.warm_up()
        models[name] = model
        print(f"- {name}: loaded (exported if needed) in {time.perf_counter() - started:.1f} s")
    print()
    texts = catalog_texts()
    if not args.quality_only:
        parity(models, texts)
        speed(models, texts[: args.texts], args.rounds, args.queries)
        queries_during_ingest(models["onnx-int8"], texts, max(20, args.queries // 2))
    if args.quality or args.quality_only:
        quality(models, args.work)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

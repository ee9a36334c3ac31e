"""The stores, queries and raw rankings behind ``bench/retrieval.py``.

For every query the dense ranking (Chroma) and the keyword ranking (BM25, one index per
title boost) are fetched once, at chunk level; every fusion is then computed from them, so a
sweep costs no extra retrieval.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.fusion import FusionConfig, best_per_product, fuse_scores
from catalog.keyword import KeywordIndex, tokenize
from catalog.models import ScoredChunk
from evaluation import graded_search, metrics

ROOT = Path(__file__).resolve().parent.parent
EPQA = ROOT / "data" / "epqa"
BOOSTS = (1, 2, 3)
DEPTHS = (20, 40, 100)  # chunks per retriever (the sweep truncates the deepest run)
# Fusion candidates of the sweep: weighted RRF and min-max / z-score linear fusion.
CANDIDATES = (
    *(FusionConfig("rrf", w, 60) for w in (0.3, 0.4, 0.5, 0.7)),
    *(FusionConfig("rrf", w, 10) for w in (0.5, 0.7)),
    *(FusionConfig("linear", w, 60, "minmax") for w in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)),
    *(FusionConfig("linear", w, 60, "zscore") for w in (0.4, 0.5, 0.6, 0.7)),
)


@dataclass
class Query:
    qid: str
    text: str
    split: str  # dev / test / all
    grades: dict[str, float]  # product id -> gain
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    name: str
    graded: bool
    queries: list[Query]
    dense: dict[str, list[ScoredChunk]] = field(default_factory=dict)
    keyword: dict[tuple[int, str], list[ScoredChunk]] = field(default_factory=dict)
    boosts: tuple[int, ...] = BOOSTS
    store: Any = None


def catalog_file(name: str, work: Path) -> Path:
    """The file to ingest: the catalog as shipped, or with ids added (Best Buy)."""
    if name == "demo":
        return ROOT / "data" / "catalog" / "products.json"
    if name == "epqa":
        return EPQA / "products.jsonl"
    path = work / f"{name}-with-ids.json"
    rows = graded_search.catalog_rows(name)
    text = json.dumps(rows, ensure_ascii=False)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def open_store(name: str, work: Path, embeddings: Any) -> Any:
    """The set's store under ``work/name``, brought up to date (incremental ingest)."""
    from catalog.store import ProductStore
    from ingestion.pipeline import ingest_files

    work.mkdir(parents=True, exist_ok=True)
    store = ProductStore.open(chroma_url="", data_dir=work / name, collection="bench")
    summary = ingest_files([catalog_file(name, work)], store=store, embeddings=embeddings)
    if summary.failed:
        raise SystemExit(f"{name}: {summary.failed} products failed to ingest")
    return store


def load_queries(name: str) -> tuple[list[Query], bool]:
    if name == "epqa":
        queries = []
        for line in (EPQA / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            queries.append(
                Query(
                    qid=str(row["qid"]),
                    text=f"About the {row['title']}: {row['question']}",
                    split="all",
                    grades={row["asin"]: 1.0},
                    extra=row,
                )
            )
        return queries, False
    path = ROOT / "evaluation" / "data" / f"search-graded-{name}.jsonl"
    return [
        Query(q["id"], q["question"], q["split"], {k: float(v) for k, v in q["grades"].items()})
        for q in graded_search.load(path)
    ], True


def boosted_index(records: list[tuple[str, str, dict[str, Any]]], boost: int) -> KeywordIndex:
    """BM25 whose documents repeat the product title ``boost`` times in all (1: as stored)."""
    import bm25s

    if boost == 1:
        return KeywordIndex.build(records)
    ordered = sorted(records, key=lambda record: record[0])
    index = KeywordIndex.build(ordered)
    model = bm25s.BM25()
    model.index(
        [
            (tokenize(text) + tokenize(str(meta.get("title", ""))) * (boost - 1)) or ["\x00"]
            for _, text, meta in ordered
        ],
        show_progress=False,
    )
    index._model = model
    return index


def collect(name: str, work: Path, embeddings: Any, depth: int) -> Run:
    store = open_store(name, work, embeddings)
    queries, graded = load_queries(name)
    run = Run(name, graded, queries, store=store)
    records = list(store.iter_chunks())
    indexes = {boost: boosted_index(records, boost) for boost in BOOSTS}
    vectors = embeddings.embed_documents([q.text for q in queries])
    for query, vector in zip(queries, vectors, strict=True):
        run.dense[query.qid] = store.query(vector, depth)
        for boost, index in indexes.items():
            run.keyword[(boost, query.qid)] = index.search(query.text, depth)
    return run


def ranking(
    run: Run, qid: str, boost: int, fusion: FusionConfig | str, depth: int | None = None
) -> list[str]:
    """Product ids best first: one retriever alone ("dense", "keyword") or fused, from each
    retriever's first ``depth`` chunks (default: all fetched)."""
    dense = best_per_product(run.dense[qid][:depth])
    keyword = best_per_product(run.keyword[(boost, qid)][:depth])
    if fusion == "dense":
        return list(dense)
    if fusion == "keyword":
        return list(keyword)
    assert isinstance(fusion, FusionConfig)
    return list(fuse_scores(dense, keyword, fusion))


def evaluate_products(
    run: Run, boost: int, fusion: FusionConfig | str, split: str, depth: int | None = None
) -> dict[str, float]:
    """Mean nDCG@10 (graded gains) and Recall@10 (grade >= the best grade) over a split."""
    ndcg, recall = [], []
    for query in run.queries:
        if split != "all" and query.split != split:
            continue
        ranked = ranking(run, query.qid, boost, fusion, depth)[:10]
        gains = [query.grades.get(pid, 0.0) for pid in ranked]
        ndcg.append(metrics.ndcg_at_k(gains, query.grades.values(), 10))
        top = max(query.grades.values())
        relevant = [pid for pid, grade in query.grades.items() if grade >= top]
        recall.append(metrics.recall_at_k(ranked, relevant, 10))
    n = len(ndcg) or 1
    return {"n": len(ndcg), "ndcg@10": sum(ndcg) / n, "recall@10": sum(recall) / n}


def describe(config: FusionConfig) -> str:
    if config.method == "rrf":
        return f"RRF k={config.rrf_k} w={config.dense_weight:.2f}"
    return f"linear {config.normalisation} w={config.dense_weight:.2f}"


def table(rows: Sequence[tuple[str, dict[str, dict[str, float]]]], splits: Sequence[str]) -> str:
    header = "| retrieval | " + " | ".join(f"nDCG@10 {s}" for s in splits) + " |"
    lines = [header, "|---|" + "---:|" * len(splits)]
    for label, by_split in rows:
        cells = [f"{by_split[s]['ndcg@10']:.3f}" for s in splits]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

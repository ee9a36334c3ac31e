"""ePQA evidence: store-wide evidence chunks per retriever, and the labelled product's passages
ranked by dense similarity, BM25, their fusion and the evidence scorer (with its gate).

The passages are the product's snippets as the service sees them (chunk kind ``snippet``: the
scorer reads the kind from the text); a second row gives the scorer the true ePQA sources.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.retrieval_data import Run
from catalog.evidence import EvidenceScorer, Passage
from catalog.evidence.features import FEATURES, prepare
from catalog.fusion import FusionConfig, fuse_scores
from evaluation import metrics

_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text.lower()).strip().rstrip(".…").strip()


def report_evidence(
    run: Run, chosen: FusionConfig, embeddings: Any, *, plot: Path | None = None
) -> None:
    answerable = [q for q in run.queries if q.extra["answerable"]]
    print(f"### Evidence chunks, store-wide ({len(answerable)} answerable questions)\n")
    print("| retrieval | evidence Recall@5 | evidence nDCG@5 |\n|---|---:|---:|")
    for label, fusion in (
        ("dense", "dense"),
        ("keyword (BM25)", "keyword"),
        ("fused: RRF k=60 (before)", FusionConfig("rrf", 0.5, 60)),
        ("fused: chosen", chosen),
    ):
        recall, ndcg = [], []
        for query in answerable:
            gains = _chunk_gains(run, query, fusion)
            recall.append(metrics.graded_hit_at_k(gains, 5, 2))
            labels = [c["label"] for c in query.extra["candidates"]]
            ndcg.append(metrics.ndcg_at_k(gains, labels, 5))
        print(f"| {label} | {np.mean(recall):.3f} | {np.mean(ndcg):.3f} |")
    print()
    _passages(run, chosen, embeddings, plot)


def _chunk_gains(run: Run, query: Any, fusion: FusionConfig | str) -> list[float]:
    dense = {c.chunk_id: c.score for c in run.dense[query.qid]}
    keyword = {c.chunk_id: c.score for c in run.keyword[(1, query.qid)]}
    texts = {c.chunk_id: c.text for c in [*run.dense[query.qid], *run.keyword[(1, query.qid)]]}
    if fusion == "dense":
        order = list(dense)
    elif fusion == "keyword":
        order = list(keyword)
    else:
        assert isinstance(fusion, FusionConfig)
        order = list(fuse_scores(dense, keyword, fusion))
    candidates = [(_norm(c["text"]), c["label"]) for c in query.extra["candidates"]]
    gains = []
    for chunk_id in order[:10]:
        text = _norm(texts[chunk_id])
        gains.append(float(max((lab for t, lab in candidates if t and t in text), default=0)))
    return gains


def _passages(run: Run, chosen: FusionConfig, embeddings: Any, plot: Path | None) -> None:
    products = _snippets()
    scorer = EvidenceScorer.load(embeddings=embeddings)
    bm25 = FEATURES.index("bm25")
    rows: dict[str, list[float]] = {}
    best_scores: list[tuple[float, bool]] = []
    timings: list[float] = []
    cold = time.perf_counter()
    prepared_all = [prepare(Passage(s["text"])) for v in products.values() for s in v]
    texts = [p.text for p in prepared_all] + [p.name for p in prepared_all if p.name]
    scorer.vectors(texts + [q.extra["question"] for q in run.queries])
    cold_s = time.perf_counter() - cold
    for query in run.queries:
        row = query.extra
        snippets = products[row["asin"]]
        labels = _labels(snippets, row["candidates"])
        question = row["question"]
        as_served = [Passage(s["text"], "snippet") for s in snippets]
        with_sources = [Passage(s["text"], s["source"]) for s in snippets]
        started = time.perf_counter()
        scores = scorer.score(question, as_served)
        timings.append((time.perf_counter() - started) * 1000)
        prepared = [prepare(p) for p in as_served]
        features = scorer.features(question, prepared)
        dense = features[:, FEATURES.index("cos")]
        keyword = features[:, bm25]
        keys = [str(i) for i in range(len(snippets))]
        fused = fuse_scores(
            dict(zip(keys, dense.tolist(), strict=True)),
            dict(zip(keys, keyword.tolist(), strict=True)),
            chosen,
        )
        orders = {
            "dense (MiniLM cosine)": np.argsort(-dense, kind="stable").tolist(),
            "keyword (BM25 in the product)": np.argsort(-keyword, kind="stable").tolist(),
            "fused (chosen fusion)": [int(k) for k in fused],
            "reranked: evidence scorer": np.argsort(-np.array(scores), kind="stable").tolist(),
            "reranked, true ePQA sources": np.argsort(
                -np.array(scorer.score(question, with_sources)), kind="stable"
            ).tolist(),
        }
        best_scores.append((max(scores), bool(row["answerable"])))
        if not row["answerable"]:
            continue
        for name, order in orders.items():
            gains = [labels[i] for i in order]
            rows.setdefault(f"{name} R@1", []).append(metrics.graded_hit_at_k(gains, 1, 2))
            rows.setdefault(f"{name} R@5", []).append(metrics.graded_hit_at_k(gains, 5, 2))
            ideal = [c["label"] for c in row["candidates"]]
            rows.setdefault(f"{name} nDCG@5", []).append(metrics.ndcg_at_k(gains, ideal, 5))
    n = sum(1 for _, a in best_scores if a)
    print(f"### Passages of the labelled product ({n} answerable questions)\n")
    print("| ranking | evidence Recall@1 | evidence Recall@5 | nDCG@5 |\n|---|---:|---:|---:|")
    for name in dict.fromkeys(key.rsplit(" ", 1)[0] for key in rows):
        cells = [np.mean(rows[f"{name} {m}"]) for m in ("R@1", "R@5", "nDCG@5")]
        print(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    print(
        f"\nScoring time per question, vectors cached: p50 {np.median(timings):.1f} ms, "
        f"p95 {np.percentile(timings, 95):.1f} ms. Embedding the {len(texts)} passages, names and "
        f"{len(run.queries)} questions once: {cold_s:.0f} s "
        f"(load average {os.getloadavg()[0]:.1f})\n"
    )
    _gate(scorer, best_scores, plot)


def _gate(scorer: EvidenceScorer, best: list[tuple[float, bool]], plot: Path | None) -> None:
    unanswerable = [s for s, a in best if not a]
    answerable = [s for s, a in best if a]
    refused_u = sum(1 for s in unanswerable if not scorer.answerable(s))
    refused_a = sum(1 for s in answerable if not scorer.answerable(s))
    precision = refused_u / (refused_u + refused_a) if refused_u + refused_a else 0.0
    print(f"### The gate (threshold {scorer.threshold:.3f}, chosen on the training hold-out)\n")
    print("| refusal recall | false refusals | refusal precision |\n|---:|---:|---:|")
    print(
        f"| {refused_u / len(unanswerable):.3f} ({refused_u}/{len(unanswerable)}) | "
        f"{refused_a / len(answerable):.3f} ({refused_a}/{len(answerable)}) | {precision:.3f} |\n"
    )
    # For context only (never used to choose anything): the best any threshold could do here.
    budget = int(0.08 * len(answerable))
    cut = sorted(answerable)[budget] if budget < len(answerable) else float("inf")
    oracle = sum(1 for s in unanswerable if s < cut)
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score([a for _, a in best], [s for s, _ in best])
    print(
        f"Separability on ePQA: AUC {auc:.3f} (best score, answerable vs not); even a threshold "
        f"chosen on ePQA itself would refuse {oracle}/{len(unanswerable)} unanswerable questions "
        f"at <= 8 % false refusals.\n"
    )
    if plot is not None:
        from evaluation.gate_plot import plot_gate_curve

        plot_gate_curve(
            plot, [s for s, _ in best], [not a for _, a in best], scorer, label="ePQA sample"
        )
        print(f"PR curve: {plot}\n")


def _snippets() -> dict[str, list[dict[str, Any]]]:
    import json

    from bench.retrieval_data import EPQA

    products = {}
    for line in (EPQA / "products.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        products[row["asin"]] = row["snippets"]
    return products


def _labels(snippets: list[dict[str, Any]], candidates: list[dict[str, Any]]) -> list[float]:
    by_text = {_norm(c["text"]): float(c["label"]) for c in candidates}
    return [by_text.get(_norm(s["text"]), 0.0) for s in snippets]

"""Retrieval benchmark: dense alone, BM25 alone, their fusion, and the evidence reranker.

    python bench/retrieval.py                      # all sets, the configured fusion
    python bench/retrieval.py --sweep              # also every fusion candidate
    python bench/retrieval.py --sets demo,epqa --work /tmp/aisle-bench-retrieval

Sets: ``demo`` and ``bestbuy`` (graded product search, ``evaluation/data/search-graded-*``,
dev/test halves: fusion settings are chosen on dev), ``epqa`` (the ePQA sample: product level,
evidence chunks store-wide, and the labelled product's passages reranked by the evidence
scorer, with the gate's refusals). Each set is ingested into ``--work`` (kept between runs: a
re-run re-embeds nothing). Prints markdown tables; the test suite asserts none of it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from aisle.settings import RetrievalSettings, load_settings  # noqa: E402
from bench.retrieval_data import (  # noqa: E402
    BOOSTS,
    CANDIDATES,
    DEPTHS,
    Run,
    collect,
    describe,
    evaluate_products,
    table,
)
from catalog.fusion import FusionConfig  # noqa: E402

BEFORE = FusionConfig("rrf", 0.5, 60)  # what Aisle shipped before issue 12


def fusion_from_settings(retrieval: RetrievalSettings) -> tuple[FusionConfig, int]:
    """The configured fusion and title boost (defaults where the settings predate them)."""
    config = FusionConfig(
        method=getattr(retrieval, "fusion", "rrf"),
        dense_weight=getattr(retrieval, "dense_weight", 0.5),
        rrf_k=retrieval.rrf_k,
        normalisation=getattr(retrieval, "normalisation", "minmax"),
    )
    return config, int(getattr(retrieval, "title_boost", 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sets", default="demo,bestbuy,epqa")
    parser.add_argument("--work", type=Path, default=Path("/tmp/aisle-bench-retrieval"))
    parser.add_argument("--depth", type=int, default=0, help="chunks per retriever (0: settings)")
    parser.add_argument("--sweep", action="store_true", help="print every fusion candidate")
    parser.add_argument("--plot", type=Path, help="write the ePQA gate PR curve PNG here")
    args = parser.parse_args(argv)

    from catalog.embeddings import LocalEmbeddings

    settings = load_settings(_env_file=None)
    chosen, boost = fusion_from_settings(settings.retrieval)
    depth = args.depth or settings.retrieval.candidates
    fetch = max(depth, *DEPTHS) if args.sweep else depth
    embeddings = LocalEmbeddings(batch_size=settings.embedding.batch_size)
    print(
        f"load average at start: {os.getloadavg()[0]:.1f}; {depth} chunks per retriever; "
        f"configured: {describe(chosen)}, title x{boost}\n"
    )
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        started = time.perf_counter()
        run = collect(name, args.work, embeddings, fetch)
        took = time.perf_counter() - started
        print(f"## {name}: {len(run.queries)} queries (ingest + retrieval {took:.0f} s)\n")
        report_products(run, chosen, boost, depth, sweep=args.sweep)
        if name == "epqa":
            from bench.retrieval_epqa import report_evidence

            report_evidence(run, chosen, embeddings, plot=args.plot)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 0


def report_products(run: Run, chosen: FusionConfig, boost: int, depth: int, *, sweep: bool) -> None:
    splits = ("dev", "test", "all") if run.graded else ("all",)
    candidates: list[tuple[str, int, FusionConfig | str, int]] = [
        ("dense", 1, "dense", depth),
        ("keyword (BM25)", 1, "keyword", depth),
        (f"keyword, title x{boost}", boost, "keyword", depth),
        (f"fused: {describe(BEFORE)} (before)", 1, BEFORE, depth),
        (f"fused: {describe(chosen)}, title x{boost} (configured)", boost, chosen, depth),
    ]
    if sweep:
        candidates += [
            (f"sweep: {describe(config)}, title x{b}, depth {d}", b, config, d)
            for d in DEPTHS
            for b in BOOSTS
            for config in CANDIDATES
        ]
    rows = [
        (label, {s: evaluate_products(run, b, fusion, s, d) for s in splits})
        for label, b, fusion, d in candidates
    ]
    print(table(rows, splits))
    print()


if __name__ == "__main__":
    sys.exit(main())

"""Ingestion benchmark: first ingest against a bare encode, unchanged re-ingest, price change.

Run: ``.venv/bin/python bench/ingest.py`` (prints a markdown table; not part of the tests).
For each dataset, in one process with the model loaded once:

- bare encode: ``model.encode`` of exactly the chunk texts the ingest embeds (timed before
  and after the ingest; the mean is the reference);
- first ingest: ``ingest_files`` into an empty embedded Chroma (load, chunk, diff, embed,
  write, BM25 index), wall time;
- unchanged: the same file again;
- price-only: every product's price changed (ePQA rows have none: one is added);
- peer: the LangChain tutorial pipeline (``bench/peer.py``: JSON loader, recursive splitter,
  sentence-transformers on torch, ``Chroma.from_documents``) on the same file, same run.

The backend is ``AISLE_EMBEDDING__BACKEND`` (default: the settings' default); ``--extra PATH``
adds a catalog (e.g. one written by ``bench/make_catalog.py``).

Targets: first ingest <= 1.15x bare encode; unchanged >= 50x faster; price-only re-embeds 0;
first ingest <= 0.5x the peer's (issue 14).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.peer import TutorialEmbeddings, TutorialPipeline  # noqa: E402
from catalog.embeddings import LocalEmbeddings, build_embeddings, default_cache_dir  # noqa: E402
from catalog.store import ProductStore  # noqa: E402
from ingestion.chunking import chunk_product  # noqa: E402
from ingestion.loaders import load_path  # noqa: E402
from ingestion.pipeline import ingest_files  # noqa: E402

DATASETS: list[tuple[str, Path]] = [
    ("demo catalog", ROOT / "data" / "catalog" / "products.json"),
    ("ePQA products", ROOT / "data" / "epqa" / "products.jsonl"),
]


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def _read_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return list(json.loads(path.read_text()))


def _write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        path.write_text(json.dumps(rows, indent=2))


def bench(
    name: str, source: Path, embeddings: LocalEmbeddings, work: Path, peer: TutorialEmbeddings
) -> dict[str, Any]:
    catalog = work / source.name
    shutil.copy(source, catalog)
    texts = [c.text for item in load_path(catalog).products for c in chunk_product(item)]

    def bare() -> Any:
        return embeddings.embed_documents(texts)

    store = ProductStore.open(chroma_url="", data_dir=work / "data", collection="bench")

    def ingest() -> Any:
        return ingest_files([catalog], store=store, embeddings=embeddings)

    bare_before, _ = _timed(bare)
    tutorial = TutorialPipeline(peer)
    peer_s, _ = _timed(lambda: tutorial.ingest(catalog, work / "peer"))
    first_s, first = _timed(ingest)
    bare_after, _ = _timed(bare)
    bare_s = (bare_before + bare_after) / 2
    unchanged_s, unchanged = _timed(ingest)

    rows = _read_rows(catalog)
    for row in rows:
        row["price"] = round(float(row.get("price") or 10.0) + 1.0, 2)
    _write_rows(catalog, rows)
    before = embeddings.texts_embedded
    price_s, price = _timed(ingest)
    assert unchanged.unchanged == first.added, "unchanged re-ingest touched products"
    return {
        "dataset": name,
        "products": first.added,
        "chunks": len(texts),
        "bare_s": bare_s,
        "first_s": first_s,
        "ratio": first_s / bare_s,
        "peer_s": peer_s,
        "peer_chunks": tutorial.chunks,
        "unchanged_s": unchanged_s,
        "speedup": first_s / unchanged_s,
        "price_s": price_s,
        "price_products": price.metadata_only,
        "price_reembedded": embeddings.texts_embedded - before,
    }


def main() -> None:
    from aisle.settings import load_settings

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--extra", type=Path, action="append", default=[])
    args = parser.parse_args()
    settings = load_settings(_env_file=None).embedding
    cache_dir = settings.cache_dir or default_cache_dir()  # exported once, not per temp dir
    embeddings = build_embeddings(settings.model_copy(update={"cache_dir": cache_dir}), ROOT)
    embeddings.warm_up()
    embeddings.embed_documents(["warm up"] * 64)
    peer = TutorialEmbeddings()
    peer.embed_documents(["warm up"] * 64)
    load = os.getloadavg()[0]
    results = []
    for name, source in [*DATASETS, *((path.name, path) for path in args.extra)]:
        with tempfile.TemporaryDirectory(prefix="aisle-bench-") as work:
            results.append(bench(name, source, embeddings, Path(work), peer))
    print(
        f"\nbackend {embeddings.backend}, batch {embeddings.batch_size}, "
        f"load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at end\n"
    )
    print(
        "| dataset | products | chunks | bare encode (s) | first ingest (s) | ingest / encode "
        "| peer chunks | peer ingest (s) | first / peer "
        "| unchanged re-ingest (s) | first / unchanged | price-only change (s) "
        "| products updated in place | chunks re-embedded |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['dataset']} | {r['products']} | {r['chunks']} | {r['bare_s']:.2f} "
            f"| {r['first_s']:.2f} | {r['ratio']:.2f}x | {r['peer_chunks']} | {r['peer_s']:.2f} "
            f"| {r['first_s'] / r['peer_s']:.2f}x | {r['unchanged_s']:.3f} "
            f"| {r['speedup']:.0f}x | {r['price_s']:.3f} | {r['price_products']} "
            f"| {r['price_reembedded']} |"
        )
    print(
        "\nTargets: ingest / encode <= 1.15x; first / unchanged >= 50x; "
        "price-only change re-embeds 0 chunks; first / peer <= 0.5x."
    )


if __name__ == "__main__":
    main()

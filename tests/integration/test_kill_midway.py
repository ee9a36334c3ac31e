"""An ingest killed with SIGKILL while writing leaves every product whole; a re-run finishes it.

The ingest runs as a real ``aisle ingest`` subprocess with a small embedding batch setting, so
its chunks are embedded in several encode calls. It prints ``ingest: writing done/total`` on
stderr after each group of whole products is written; the test kills it with SIGKILL on the
first such line, while the next batch is being embedded.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aisle.settings import Settings
from catalog.store import ProductStore
from ingestion.chunking import chunk_product
from ingestion.loaders import load_path
from ingestion.pipeline import EMBED_BATCHES_PER_CALL, WRITE_GROUP_CHUNKS, ingest_files

pytestmark = pytest.mark.integration

AISLE = Path(sys.executable).parent / "aisle"
PRODUCTS = 200  # two chunks each: more than one encode call and write group
MODEL_BATCH = 8  # AISLE_EMBEDDING__BATCH_SIZE of the killed run: 256-chunk encode calls


def _catalog(version: int) -> list[dict[str, Any]]:
    """Short products (fast to embed) with a core and a reviews chunk each. Version 2 changes
    every title, description and price, so every chunk of every product is rewritten."""
    return [
        {
            "id": f"k{n}",
            "title": f"Gadget {n} mark {version}",
            "description": f"Handy gadget number {n}, revision {version}.",
            "price": float(n + version),
            "brand": "Kit",
            "reviews": [{"comment": f"Works well ({n})", "reviewerName": "Sam"}],
        }
        for n in range(PRODUCTS)
    ]


def _versions_by_product(store: ProductStore) -> dict[str, set[tuple[str, float]]]:
    versions: dict[str, set[tuple[str, float]]] = defaultdict(set)
    for chunk_id, _, meta in store.iter_chunks():
        assert chunk_id.startswith(str(meta["product_id"]) + "::")
        versions[str(meta["product_id"])].add((str(meta["title"]), float(meta["price"])))
    return versions


def test_sigkill_midway_then_rerun_completes(
    make_settings: Callable[..., Settings], embeddings: Any, tmp_path: Path
) -> None:
    embed_call = max(WRITE_GROUP_CHUNKS, MODEL_BATCH * EMBED_BATCHES_PER_CALL)
    assert embed_call < PRODUCTS * 2  # the kill lands with a batch still to embed
    v1 = tmp_path / "catalog.json"
    v1.write_text(json.dumps(_catalog(1)))
    # Version 1 is ingested in this process into a scratch data dir, then copied: the killed
    # run and the re-run then use a store this process has never opened.
    scratch = make_settings(data_dir=tmp_path / "scratch")
    scratch_store = ProductStore.open(
        chroma_url="", data_dir=scratch.data_dir, collection=scratch.collection
    )
    first = ingest_files([v1], store=scratch_store, embeddings=embeddings)
    assert first.added == PRODUCTS
    data_dir = tmp_path / "data"
    shutil.copytree(scratch.data_dir, data_dir)

    v1.write_text(json.dumps(_catalog(2)))  # the same source file, every product changed
    env = {key: value for key, value in os.environ.items() if not key.startswith("AISLE_")}
    env["AISLE_DATA_DIR"] = str(data_dir)
    env["AISLE_EMBEDDING__BATCH_SIZE"] = str(MODEL_BATCH)
    process = subprocess.Popen(
        [str(AISLE), "ingest", str(v1), "--json"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(300, process.kill)
    watchdog.start()
    seen: list[str] = []
    try:
        assert process.stderr is not None
        for line in process.stderr:
            seen.append(line)
            if line.startswith("ingest: writing ") and not line.startswith("ingest: writing 0/"):
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=60)
    finally:
        watchdog.cancel()
    assert process.returncode == -signal.SIGKILL, "".join(seen)

    settings = make_settings(data_dir=data_dir)
    store = ProductStore.open(chroma_url="", data_dir=data_dir, collection=settings.collection)
    versions = _versions_by_product(store)
    assert len(versions) == PRODUCTS and store.count() == PRODUCTS * 2
    assert all(len(states) == 1 for states in versions.values()), "a product is half-updated"
    new = {pid for pid, states in versions.items() if next(iter(states))[0].endswith("mark 2")}
    assert 0 < len(new) < PRODUCTS  # the kill really landed midway

    rerun = ingest_files([v1], store=store, embeddings=embeddings)
    assert (rerun.unchanged, rerun.updated, rerun.failed) == (len(new), PRODUCTS - len(new), 0)
    assert rerun.chunks_embedded == 2 * (PRODUCTS - len(new))
    expected = {c.chunk_id for item in load_path(v1).products for c in chunk_product(item)}
    assert {chunk_id for chunk_id, _, _ in store.iter_chunks()} == expected
    assert store.count() == len(expected)  # no duplicates
    versions = _versions_by_product(store)
    assert all(
        states == {(f"Gadget {pid[1:]} mark 2", int(pid[1:]) + 2.0)}
        for pid, states in versions.items()
    )

"""bench/serve.py's setup (store ingested if empty, API process until ready), apart from timing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from aisle.processes import wait_ready
from aisle.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def embeddings_for(settings: Settings) -> Any:
    """The configured backend (AISLE_EMBEDDING__BACKEND), its export cached once per machine."""
    from catalog.embeddings import build_embeddings, default_cache_dir

    cache_dir = settings.embedding.cache_dir or default_cache_dir()
    embedding = settings.embedding.model_copy(update={"cache_dir": cache_dir})
    return build_embeddings(embedding, settings.data_dir)


def ensure_store(settings: Settings) -> None:
    from catalog.store import ProductStore
    from ingestion.pipeline import ingest_files

    store = ProductStore.open(
        chroma_url=settings.chroma_url, data_dir=settings.data_dir, collection=settings.collection
    )
    if store.count() == 0:
        print("ingesting the demo catalog ...", file=sys.stderr)
        ingest_files(
            [ROOT / "data" / "catalog" / "products.json"],
            store=store,
            embeddings=embeddings_for(settings),
        )


def start_api(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "AISLE_DATA_DIR": str(settings.data_dir),
        "AISLE_COLLECTION": settings.collection,
        "AISLE_LOG_LEVEL": "WARNING",
        "AISLE_EMBEDDING__BACKEND": settings.embedding.backend,
        "AISLE_EMBEDDING__CACHE_DIR": str(embeddings_for(settings).cache_dir),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "service.main:create",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_ready(process, f"http://127.0.0.1:{port}/readyz", timeout=180, name="the API")
    except RuntimeError:
        process.terminate()
        raise
    return process

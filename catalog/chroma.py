"""A Chroma client: a server's when a URL is given, else an embedded one under the data dir.
Telemetry is off; nothing here downloads anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from catalog.errors import StoreError


def open_client(chroma_url: str, data_dir: Any) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if chroma_url:
            url = urlparse(chroma_url)
            return chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        path = Path(data_dir) / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        where = chroma_url or "embedded store"
        raise StoreError(f"cannot open Chroma ({where}): {exc}") from exc

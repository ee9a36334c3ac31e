"""BM25 keyword index (bm25s) over the store's chunks, persisted beside the store.

Ingestion rebuilds it after every write, from what the store holds, so the two never drift;
the service reloads it when the saved generation changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from catalog.models import Filters, ScoredChunk

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_STOPWORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from"),
        *("has", "have", "how", "i", "in", "is", "it", "its", "me", "my", "of", "on", "or"),
        *("so", "that", "the", "their", "them", "there", "these", "this", "those", "to"),
        *("was", "what", "when", "where", "which", "who", "why", "will", "with", "you"),
        *("your", "can", "any", "some"),
    }
)
_GENERATION = "generation.txt"


def tokenize(text: str) -> list[str]:
    """Lower-case words without stopwords, with a light plural strip ('laptops' -> 'laptop')."""
    tokens = []
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        tokens.append(word)
    return tokens


class KeywordIndex:
    """BM25 over chunk texts; filters applied to candidates exactly as Chroma's ``where``."""

    def __init__(
        self, ids: list[str], texts: list[str], metadatas: list[dict[str, Any]], model: Any
    ) -> None:
        self.ids = ids
        self.texts = texts
        self.metadatas = metadatas
        self._model = model
        self.generation = _fingerprint(ids, texts, metadatas)

    @classmethod
    def build(cls, records: Iterable[tuple[str, str, dict[str, Any]]]) -> KeywordIndex:
        import bm25s

        ids: list[str] = []
        texts: list[str] = []
        metadatas: list[dict[str, Any]] = []
        for chunk_id, text, meta in sorted(records, key=lambda record: record[0]):
            ids.append(chunk_id)
            texts.append(text)
            metadatas.append(_searchable_metadata(meta))
        model = None
        if ids:
            model = bm25s.BM25()
            # An empty token list would make bm25s fail; a placeholder keeps positions aligned.
            model.index([tokenize(text) or ["\x00"] for text in texts], show_progress=False)
        return cls(ids, texts, metadatas, model)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[ScoredChunk]:
        tokens = tokenize(query)
        if self._model is None or not tokens:
            return []
        mask = None
        if filters is not None and not filters.is_empty():
            mask = np.array([filters.matches(meta) for meta in self.metadatas], dtype=np.float32)
            if not mask.any():
                return []
        k = min(k, len(self.ids))
        known = [token for token in tokens if token in self._model.vocab_dict]
        if not known:
            return []
        documents, scores = self._model.retrieve(
            [known], k=k, show_progress=False, weight_mask=mask, n_threads=0
        )
        hits = []
        for position, score in zip(documents[0], scores[0], strict=True):
            if score <= 0:
                continue
            index = int(position)
            meta = self.metadatas[index]
            hits.append(
                ScoredChunk(
                    chunk_id=self.ids[index],
                    product_id=str(meta.get("product_id", "")),
                    text=self.texts[index],
                    metadata=meta,
                    score=float(score),
                )
            )
        return hits

    # -- persistence ------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write to a temporary folder, then swap it in: readers never see half an index."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".bm25-", dir=directory.parent))
        try:
            payload = {"ids": self.ids, "texts": self.texts, "metadatas": self.metadatas}
            (staging / "chunks.json").write_text(json.dumps(payload), encoding="utf-8")
            if self._model is not None:
                self._model.save(str(staging / "bm25"))
            (staging / _GENERATION).write_text(self.generation, encoding="utf-8")
            retired = directory.with_name(directory.name + ".old")
            shutil.rmtree(retired, ignore_errors=True)
            if directory.exists():
                os.replace(directory, retired)
            os.replace(staging, directory)
            shutil.rmtree(retired, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex | None:
        import bm25s

        directory = Path(directory)
        try:
            payload = json.loads((directory / "chunks.json").read_text(encoding="utf-8"))
            model = bm25s.BM25.load(str(directory / "bm25")) if payload["ids"] else None
        except (OSError, ValueError, KeyError):
            return None
        return cls(payload["ids"], payload["texts"], payload["metadatas"], model)

    @staticmethod
    def saved_generation(directory: Path) -> str | None:
        try:
            return (Path(directory) / _GENERATION).read_text(encoding="utf-8").strip()
        except OSError:
            return None


def _searchable_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    # The full product record lives on the core chunk in Chroma; the index needs no copy.
    return {key: value for key, value in meta.items() if key != "record"}


def _fingerprint(ids: list[str], texts: list[str], metadatas: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256()
    for chunk_id, text, meta in zip(ids, texts, metadatas, strict=True):
        digest.update(chunk_id.encode())
        digest.update(text.encode())
        digest.update(json.dumps(meta, sort_keys=True).encode())
    return digest.hexdigest()[:16]

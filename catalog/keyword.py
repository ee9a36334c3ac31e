"""BM25 keyword index (bm25s) over the store's chunks.

Each process builds it from what the store holds when the store's text generation changes
(``catalog.search.KeywordIndexHandle``); it may keep a copy on its own disk, keyed by that
generation, to start faster. A saved copy is a folder per generation plus a ``CURRENT`` file
naming the live one, replaced atomically: a reader never finds the folder missing and never
mixes files of two generations.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
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
_CURRENT = "CURRENT"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


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

    def knows(self, word: str) -> bool:
        """Whether any chunk of the catalog holds ``word`` (in this index's tokenization)."""
        tokens = tokenize(word)
        return self._model is not None and bool(tokens) and tokens[0] in self._model.vocab_dict

    def search(
        self,
        query: str,
        k: int,
        filters: Filters | None = None,
        *,
        mask: np.ndarray | None = None,
    ) -> list[ScoredChunk]:
        """The best ``k`` chunks for ``query``. ``mask`` (one weight per chunk, 0 = excluded)
        replaces the filter test on the index's own metadata when given: the caller may hold
        fresher product metadata than the index was built with."""
        tokens = tokenize(query)
        if self._model is None or not tokens:
            return []
        if mask is None and filters is not None and not filters.is_empty():
            mask = np.array([filters.matches(meta) for meta in self.metadatas], dtype=np.float32)
        if mask is not None and not mask.any():
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
    def save(self, directory: Path, name: str | None = None) -> None:
        """Save as ``directory/<name>`` (default: the content fingerprint), then point
        ``CURRENT`` at it with one atomic rename. The previous copy is kept (a reader may be
        loading it); older ones are removed."""
        directory = Path(directory)
        name = name or self.generation
        if not _SAFE_NAME.match(name):
            raise ValueError(f"not a safe index name: {name!r}")
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / name
        if not (target / "chunks.json").exists():
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=directory))
            try:
                payload = {"ids": self.ids, "texts": self.texts, "metadatas": self.metadatas}
                (staging / "chunks.json").write_text(json.dumps(payload), encoding="utf-8")
                if self._model is not None:
                    self._model.save(str(staging / "bm25"))
                shutil.rmtree(target, ignore_errors=True)
                os.replace(staging, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        previous = saved_name(directory)
        pointer = directory / f".{_CURRENT}.{uuid.uuid4().hex}"
        pointer.write_text(name, encoding="utf-8")
        os.replace(pointer, directory / _CURRENT)
        keep = {name, previous, _CURRENT}
        for child in directory.iterdir():
            if child.name not in keep and not child.name.startswith("."):
                shutil.rmtree(child, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex | None:
        """The copy ``CURRENT`` names, or None when there is none (or it is unreadable). A copy
        removed while it was being read (two saves went by) is retried with the new name."""
        import bm25s

        for _ in range(5):
            name = saved_name(directory)
            if name is None:
                return None
            folder = Path(directory) / name
            try:
                payload = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
                model = bm25s.BM25.load(str(folder / "bm25")) if payload["ids"] else None
            except (OSError, ValueError, KeyError):
                if saved_name(directory) == name:
                    return None  # really unreadable, not replaced meanwhile
                continue
            return cls(payload["ids"], payload["texts"], payload["metadatas"], model)
        return None


def saved_name(directory: Path) -> str | None:
    """The name of the saved copy ``CURRENT`` points at, if any."""
    try:
        name = (Path(directory) / _CURRENT).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return name if _SAFE_NAME.match(name) else None


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

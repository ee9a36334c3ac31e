"""Evaluation questions: generated from a catalog (``field``, evaluation/field_set.py), the ePQA
sample (``epqa``, evaluation/epqa_set.py), or a user JSONL file (evaluation/user_set.py, which
documents the schema); and the deterministic subset a run asks.

The question types and the set loaders are re-exported here, so ``evaluation.datasets`` stays
the one import for callers.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from evaluation.epqa_set import epqa_questions
from evaluation.field_set import FIELD_TEMPLATES, MISSING_ATTRIBUTES, field_questions
from evaluation.questions import (
    DATA_DIR,
    DEFAULT_SEED,
    DEMO_CATALOG,
    EPQA_DIR,
    Dataset,
    DatasetError,
    Evidence,
    Question,
)
from evaluation.user_set import user_questions

__all__ = [
    "DATA_DIR",
    "DEFAULT_SEED",
    "DEMO_CATALOG",
    "EPQA_DIR",
    "FIELD_TEMPLATES",
    "MISSING_ATTRIBUTES",
    "Dataset",
    "DatasetError",
    "Evidence",
    "Question",
    "epqa_questions",
    "field_questions",
    "load_dataset",
    "safe_name",
    "subset",
    "user_questions",
]


def load_dataset(name: str, *, seed: int = DEFAULT_SEED) -> Dataset:
    """``field`` (demo catalog), ``epqa`` (shipped sample) or a path to a user JSONL file
    (whose catalog, for a self-started API, is the demo catalog)."""
    if name == "field":
        return Dataset("field", field_questions(DEMO_CATALOG, seed=seed), [DEMO_CATALOG])
    if name == "epqa":
        return Dataset("epqa", epqa_questions(EPQA_DIR), [EPQA_DIR / "products.jsonl"])
    path = Path(name)
    if not path.is_file():
        raise DatasetError(f"{name}: not 'field', 'epqa' or an existing JSONL file")
    return Dataset(path.stem, user_questions(path), [DEMO_CATALOG])


def subset(
    questions: Sequence[Question], limit: int | None, *, seed: int = DEFAULT_SEED
) -> list[Question]:
    """A deterministic, type-balanced subset: each type's questions in a seeded order, taken
    round-robin across types, so ``--limit 50`` always asks the same 50 and covers every type."""
    if limit is None or limit >= len(questions):
        return list(questions)
    by_type: dict[str, list[Question]] = defaultdict(list)
    for question in questions:
        by_type[question.qtype].append(question)
    rng = random.Random(seed)
    queues = []
    for qtype in sorted(by_type):
        group = sorted(by_type[qtype], key=lambda q: q.qid)
        rng.shuffle(group)
        queues.append(group)
    chosen: list[Question] = []
    while len(chosen) < limit:
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return chosen


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(name: str) -> str:
    return _SAFE.sub("-", name).strip("-") or "dataset"

"""What every question set is made of: :class:`Question`, its :class:`Dataset`, where the shipped
data lives, and the JSON readers the sets share (errors name the file and line)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEMO_CATALOG = DATA_DIR / "catalog" / "products.json"
EPQA_DIR = DATA_DIR / "epqa"
DEFAULT_SEED = 13


class DatasetError(ValueError):
    """A dataset file is unreadable or breaks the schema; the message names file and line."""


@dataclass(frozen=True)
class Evidence:
    text: str
    label: int  # ePQA: 2 fully answers, 1 helps, 0 irrelevant


@dataclass(frozen=True)
class Question:
    qid: str
    question: str  # exactly what is sent to the API
    qtype: str
    answerable: bool = True
    product_id: str | None = None
    relevant_ids: tuple[str, ...] = ()
    gold_values: tuple[str, ...] = ()
    gold_answers: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    grades: tuple[tuple[str, float], ...] = ()  # graded relevance: (product id, gain > 0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Dataset:
    name: str
    questions: list[Question]
    catalog: list[Path] = field(default_factory=list)  # what to ingest for a self-started API

    def fingerprint(self) -> str:
        """Short hash of the question ids, so a comparison can tell it is on the same set."""
        digest = hashlib.sha256("\n".join(q.qid for q in self.questions).encode())
        return digest.hexdigest()[:16]


def read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror}") from None


def parse_line(path: Path, lineno: int, line: str) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}:{lineno}: invalid JSON: {exc.msg}") from None
    if not isinstance(row, dict):
        raise DatasetError(f"{path}:{lineno}: expected a JSON object")
    return row

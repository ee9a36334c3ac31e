"""The labelled training data: hetPQA evidence ranking and semiPQA attribute ranking.

Each question becomes one :class:`Group` (its candidates and 0/1 labels). Groups are keyed
for cross-validation by the normalised question text, so a question asked twice (semiPQA
repeats some under different ids) never sits on both sides of a split.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from catalog.evidence.features import Passage

HETPQA_FILE = "hetPQA_evidence_ranking_dev.csv"
SEMIPQA_FILES = (
    "semiPQA_attribute_ranking_dev.csv",
    "semiPQA_attribute_ranking_testseen.csv",
    "semiPQA_attribute_ranking_testunseen.csv",
)


class TrainingDataError(ValueError):
    """A training file is missing or malformed; the message names the file and line."""


@dataclass
class Group:
    """One question with its labelled candidate passages."""

    dataset: str  # "hetpqa" or "semipqa"
    qid: str
    question: str
    passages: list[Passage]
    labels: list[int]

    @property
    def split_key(self) -> str:
        return " ".join(self.question.lower().split())

    @property
    def answerable(self) -> bool:
        return any(self.labels)


def load_groups(directory: Path) -> list[Group]:
    """Every question of the PQA training files, in file order."""
    directory = Path(directory)
    groups: dict[tuple[str, str], Group] = {}
    _read(directory / HETPQA_FILE, "hetpqa", groups, kind_column="source")
    for name in SEMIPQA_FILES:
        _read(directory / name, "semipqa", groups, kind_column=None)
    return list(groups.values())


def data_hash(directory: Path) -> str:
    """SHA-256 over the training files (names and bytes), recorded in the artefact."""
    digest = hashlib.sha256()
    for name in (HETPQA_FILE, *SEMIPQA_FILES):
        digest.update(name.encode())
        digest.update((Path(directory) / name).read_bytes())
    return digest.hexdigest()


def _read(
    path: Path, dataset: str, groups: dict[tuple[str, str], Group], kind_column: str | None
) -> None:
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise TrainingDataError(f"{path}: cannot read: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle, delimiter="\t")
        required = {
            "qid",
            "question",
            "candidate",
            "label",
            *([kind_column] if kind_column else []),
        }
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise TrainingDataError(f"{path}:1: missing columns {sorted(missing)}")
        for row in reader:
            line = reader.line_num
            try:
                label = int(row["label"])
            except (TypeError, ValueError):
                raise TrainingDataError(f"{path}:{line}: label is not 0 or 1") from None
            if label not in (0, 1) or not row["candidate"] or not row["question"]:
                raise TrainingDataError(f"{path}:{line}: bad label, question or candidate")
            key = (dataset, row["qid"])
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(dataset, row["qid"], row["question"], [], [])
            kind = row[kind_column] if kind_column else "attribute"
            group.passages.append(Passage(text=row["candidate"], kind=kind or ""))
            group.labels.append(label)

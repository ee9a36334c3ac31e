"""Questions from a user JSONL file.

Schema (one JSON object per line; blank lines and lines starting with ``#`` are skipped)::

    {"question": "How long is the warranty on the Lenovo Yoga 920?",   # required, non-empty
     "id": "q-17",                    # optional; default "<file stem>-<line>"
     "type": "warranty",              # optional question type for the breakdown; default "user"
     "product_id": "80",              # optional: the product the question is about
     "relevant_ids": ["80"],          # optional: products a search should return;
                                      #   default [product_id] when product_id is given
     "gold_values": ["1 year"],       # optional: short values scored by exact match
     "gold_answers": ["It has a one year warranty."],  # optional: scored by token F1/ROUGE-L
     "grades": {"80": 2, "81": 1},    # optional: graded relevance (product id -> gain) for
                                      #   nDCG; absent ids gain 0
     "answerable": true}              # optional, default true; false = the API should refuse

Any other key is an error. Errors name the file and line (``questions.jsonl:3: ...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluation.questions import DatasetError, Question, parse_line, read_lines

_USER_KEYS = {
    "id",
    "question",
    "type",
    "product_id",
    "relevant_ids",
    "gold_values",
    "gold_answers",
    "answerable",
    "grades",
}


def user_questions(path: Path) -> list[Question]:
    """Questions from a user JSONL file (schema in this module's docstring).

    Every broken line is reported, each as ``file:line: reason``.
    """
    questions: list[Question] = []
    errors: list[str] = []
    seen: set[str] = set()
    for lineno, line in enumerate(read_lines(path), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            question = _user_question(path, lineno, parse_line(path, lineno, line))
        except DatasetError as exc:
            errors.append(str(exc))
            continue
        if question.qid in seen:
            errors.append(f"{path}:{lineno}: duplicate id {question.qid!r}")
            continue
        seen.add(question.qid)
        questions.append(question)
    if errors:
        raise DatasetError("\n".join(errors))
    if not questions:
        raise DatasetError(f"{path}:1: no questions in file")
    return questions


def _user_question(path: Path, lineno: int, row: dict[str, Any]) -> Question:
    where = f"{path}:{lineno}"
    unknown = sorted(set(row) - _USER_KEYS)
    if unknown:
        raise DatasetError(f"{where}: unknown key(s) {', '.join(unknown)}")
    text = row.get("question")
    if not isinstance(text, str) or not text.strip():
        raise DatasetError(f"{where}: 'question' must be a non-empty string")
    product_id = row.get("product_id")
    if product_id is not None and not isinstance(product_id, str | int):
        raise DatasetError(f"{where}: 'product_id' must be a string")
    answerable = row.get("answerable", True)
    if not isinstance(answerable, bool):
        raise DatasetError(f"{where}: 'answerable' must be true or false")
    lists = {}
    for key in ("relevant_ids", "gold_values", "gold_answers"):
        value = row.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
            raise DatasetError(f"{where}: '{key}' must be a list of strings")
        lists[key] = tuple(str(v) for v in value)
    qtype = row.get("type", "user")
    if not isinstance(qtype, str) or not qtype:
        raise DatasetError(f"{where}: 'type' must be a non-empty string")
    qid = row.get("id", f"{path.stem}-{lineno}")
    pid = None if product_id is None else str(product_id)
    grades = _grades(where, row.get("grades", {}))
    top = max((gain for _, gain in grades), default=0.0)
    relevant = (
        lists["relevant_ids"] or tuple(i for i, g in grades if g >= top) or ((pid,) if pid else ())
    )
    return Question(
        qid=str(qid),
        question=text.strip(),
        qtype=qtype,
        answerable=answerable,
        product_id=pid,
        relevant_ids=relevant,
        gold_values=lists["gold_values"],
        gold_answers=lists["gold_answers"],
        grades=grades,
    )


def _grades(where: str, value: Any) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, dict) or not all(
        isinstance(g, int | float) and not isinstance(g, bool) and g >= 0 for g in value.values()
    ):
        raise DatasetError(f"{where}: 'grades' must map product ids to numbers >= 0")
    return tuple((str(pid), float(gain)) for pid, gain in value.items() if gain > 0)

"""Accuracy of a constraint parser on a question set (``evaluation/data/constraints-*.jsonl``).

Each line: ``{"query", "min_price"?, "max_price"?, "brand"?, "category"?, "in_stock"?,
"min_rating"?, "units_not_price"}``; a missing field means the query does not state it, and
``category`` may list several equally right names (a path's leaf and its parent). ``#`` lines
are comments. :func:`score` runs ``parse(query) -> dict`` (the same keys; missing or None =
not found) over every query and reports, per field, the share of queries where the parser
agrees with the gold (stating nothing when the gold states nothing counts as agreeing),
``exact`` (every field right), and ``units_not_price``: among queries holding numbers that
are not prices, the share whose price bounds are exactly the gold ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIELDS = ("min_price", "max_price", "brand", "category", "in_stock", "min_rating")


def load_questions(path: Path) -> list[dict[str, Any]]:
    """The question set; a bad line raises ValueError naming the file and line."""
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: invalid JSON: {exc.msg}") from None
        if not isinstance(item, dict) or not isinstance(item.get("query"), str):
            raise ValueError(f"{path}:{number}: expected an object with a 'query' string")
        unknown = set(item) - {"query", "units_not_price", *FIELDS}
        if unknown:
            raise ValueError(f"{path}:{number}: unknown fields {sorted(unknown)}")
        questions.append(item)
    return questions


def agrees(field: str, gold: Any, found: Any) -> bool:
    if gold is None or found is None:
        return gold is None and found is None
    if field in ("min_price", "max_price", "min_rating"):
        try:
            return math.isclose(float(gold), float(found), rel_tol=1e-6, abs_tol=0.005)
        except (TypeError, ValueError):
            return False
    if field in ("brand", "category"):
        accepted = gold if isinstance(gold, list) else [gold]
        return _key(found) in {_key(name) for name in accepted}
    return bool(gold) == bool(found)


def score(parse: Callable[[str], dict[str, Any]], path: Path) -> dict[str, Any]:
    """Per-field accuracy of ``parse`` on the question set at ``path`` (see module doc)."""
    questions = load_questions(path)
    right = dict.fromkeys(FIELDS, 0)
    exact = 0
    unit_queries = unit_right = 0
    failures: list[dict[str, Any]] = []
    for question in questions:
        found = parse(question["query"]) or {}
        wrong = [f for f in FIELDS if not agrees(f, question.get(f), found.get(f))]
        for field in FIELDS:
            right[field] += field not in wrong
        exact += not wrong
        if question.get("units_not_price"):
            unit_queries += 1
            unit_right += not {"min_price", "max_price"} & set(wrong)
        for field in wrong:
            failures.append(
                {
                    "query": question["query"],
                    "field": field,
                    "gold": question.get(field),
                    "found": found.get(field),
                }
            )
    total = max(1, len(questions))
    return {
        "questions": len(questions),
        "fields": {field: round(right[field] / total, 4) for field in FIELDS},
        "exact": round(exact / total, 4),
        "units_not_price": round(unit_right / unit_queries, 4) if unit_queries else None,
        "failures": failures,
    }


def _key(value: Any) -> str:
    return " ".join(str(value).lower().split())

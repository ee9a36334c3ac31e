"""Accuracy of the field-role inference (``ingestion/fields.py``) on held-out catalog schemas
(``evaluation/data/schemas-heldout.jsonl``): for every gold product field, is its inferred role
the gold one; and of the fields given a product role, how many deserved it.

``python -m evaluation.schema_eval`` prints one line per schema and the totals.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from catalog.profile import FieldRole
from ingestion.fields import PRODUCT_ROLES, infer_schema

HELD_OUT = Path(__file__).resolve().parent / "data" / "schemas-heldout.jsonl"


def load_schemas(path: Path = HELD_OUT) -> list[dict[str, Any]]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip() and not line.startswith("#")]


def score(path: Path = HELD_OUT) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    gold_total = gold_right = assigned_total = assigned_right = 0
    for item in load_schemas(path):
        schema = infer_schema(item["rows"])
        gold = {name: FieldRole(role) for name, role in item["roles"].items()}
        found = {name: field.role for name, field in schema.fields.items()}
        wrong = {
            name: found.get(name) for name, role in gold.items() if found.get(name) is not role
        }
        extra = {
            name: role
            for name, role in found.items()
            if role in PRODUCT_ROLES and gold.get(name) is not role
        }
        gold_total += len(gold)
        gold_right += len(gold) - len(wrong)
        assigned = [name for name, role in found.items() if role in PRODUCT_ROLES]
        assigned_total += len(assigned)
        assigned_right += len(assigned) - len(extra)
        rows.append({"source": item["source"], "fields": len(gold), "wrong": wrong, "extra": extra})
    return {
        "schemas": rows,
        "recall": round(gold_right / max(1, gold_total), 4),
        "precision": round(assigned_right / max(1, assigned_total), 4),
        "gold_fields": gold_total,
    }


def main() -> int:
    result = score(Path(sys.argv[1]) if len(sys.argv) > 1 else HELD_OUT)
    for row in result["schemas"]:
        wrong = {k: v.value if v else None for k, v in row["wrong"].items()}
        extra = {k: v.value for k, v in row["extra"].items()}
        print(f"{row['source']}: {row['fields']} gold fields, wrong {wrong}, extra {extra}")
    print(
        f"gold fields with the right role: {result['recall']:.0%} of {result['gold_fields']}; "
        f"product roles given rightly: {result['precision']:.0%}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

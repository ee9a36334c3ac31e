"""Which source field is the id, the title, the price... of a catalog's rows, learned from the
rows themselves: values decide what a field can be (``ingestion/values.py``), the meaning of its
name decides among those roles.

A name's meaning is its embedding compared with a short description of each role
(``ingestion/naming.py``); a money column is the price whatever it is called ("MRP"). The
similarity thresholds were chosen on the schemas of the three shipped catalogs (demo, Best Buy,
rupee shop) and checked on held-out public export schemas (``evaluation/schema_eval.py``,
figures in ``docs/notes/issue-9.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.money import decimal_separator_of, uses_lakh_grouping
from catalog.profile import FieldRole, ValueType
from catalog.text import letter_words as words
from catalog.units import GENERAL_UNITS
from ingestion.naming import ROLE_DESCRIPTIONS, FieldNamer, default_namer, humanise, label
from ingestion.role_rules import (
    LIST_KINDS,
    attribute_role,
    fill_by_values,
    fits,
    pick_selling_price,
)
from ingestion.values import TEXT_KINDS, ValueStats, value_stats

__all__ = [
    "ROLE_DESCRIPTIONS",
    "FieldNamer",
    "FieldSchema",
    "RowSchema",
    "default_namer",
    "humanise",
    "infer_schema",
    "label",
]

VALUE_POLICY_THRESHOLD = 0.40  # mean similarity of a field's values to the policy description
# Roles one field each; CATEGORY may span several fields (main / sub category).
PRODUCT_ROLES = (
    FieldRole.IDENTIFIER,
    FieldRole.TITLE,
    FieldRole.DESCRIPTION,
    FieldRole.PRICE,
    FieldRole.CURRENCY,
    FieldRole.BRAND,
    FieldRole.CATEGORY,
    FieldRole.STOCK,
    FieldRole.AVAILABILITY,
    FieldRole.RATING,
    FieldRole.TAGS,
    FieldRole.REVIEWS,
    FieldRole.SNIPPETS,
)


def value_type(kind: str | None) -> ValueType:
    if kind in ("integer", "number"):
        return "number"
    if kind in ("money", "quantity", "boolean", "url", "date", "object"):
        return kind  # type: ignore[return-value]
    if kind is not None and kind.startswith("list"):
        return "list"
    return "text"


@dataclass
class FieldSchema:
    name: str
    role: FieldRole
    type: ValueType
    label: str
    stats: ValueStats
    unit: str | None = None


@dataclass
class RowSchema:
    """What each field of one file's rows is for."""

    fields: dict[str, FieldSchema] = field(default_factory=dict)
    roles: dict[FieldRole, str] = field(default_factory=dict)  # product role -> field
    categories: list[str] = field(default_factory=list)  # category fields, broad to narrow
    price_decimal: str | None = None  # decimal separator of the price strings, when they say
    price_lakh: bool = False  # price strings use Indian (lakh) grouping

    def field_for(self, role: FieldRole) -> str | None:
        return self.roles.get(role)

    def role_of(self, name: str) -> FieldRole | None:
        found = self.fields.get(name)
        return found.role if found else None


def infer_schema(
    rows: list[dict[str, Any]],
    namer: FieldNamer | None = None,
    fixed: dict[FieldRole, str] | None = None,
) -> RowSchema:
    """Roles of every top-level field of ``rows``; ``fixed`` (from a mapping file) wins."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    stats = {name: value_stats(name, [row.get(name) for row in rows]) for name in names}
    similarity = (namer or default_namer()).similarities(names)
    schema = RowSchema()
    taken: set[str] = set()
    for role, name in (fixed or {}).items():
        schema.roles[role] = name
        taken.add(name)
    candidates = sorted(
        (
            (similarity[name][role], name, role)
            for name in names
            for role in PRODUCT_ROLES
            if fits(role, stats[name], similarity[name][role])
        ),
        reverse=True,
    )
    for _, name, role in candidates:
        if name in taken:
            continue
        if role is FieldRole.CATEGORY and role in schema.roles:
            if stats[name].kind in TEXT_KINDS and stats[name].separator is None:
                schema.categories.append(name)  # a sub-category column
                taken.add(name)
            continue
        if role in schema.roles:
            continue
        schema.roles[role] = name
        taken.add(name)
    fill_by_values(schema, stats, similarity, taken)
    pick_selling_price(schema, rows, stats, similarity, taken)
    if FieldRole.CATEGORY in schema.roles:
        primary = schema.roles[FieldRole.CATEGORY]
        if primary not in stats or stats[primary].kind in LIST_KINDS or stats[primary].separator:
            schema.categories = [primary]  # one field holds the whole path
        else:  # main and sub category columns: broad (fewer values) to narrow
            ordered = [primary, *schema.categories]
            schema.categories = sorted(ordered, key=lambda name: stats[name].distinct)
    if price := schema.roles.get(FieldRole.PRICE):
        prices = [str(row[price]) for row in rows if isinstance(row.get(price), str)][:2000]
        schema.price_decimal = decimal_separator_of(prices)
        schema.price_lakh = uses_lakh_grouping(prices)
    by_role = {name: role for role, name in schema.roles.items()}
    namer = namer or default_namer()
    for name in names:
        role = by_role.get(name) or (
            FieldRole.CATEGORY
            if name in schema.categories
            else attribute_role(stats[name], similarity[name])
        )
        if (
            role is FieldRole.TEXT
            and namer.value_similarity(stats[name].examples, FieldRole.POLICY)
            >= VALUE_POLICY_THRESHOLD
        ):
            role = FieldRole.POLICY  # "7 days return policy" under "Return Window"
        unit = stats[name].unit if role is FieldRole.QUANTITY else _unit_in_name(name)
        schema.fields[name] = FieldSchema(
            name=name,
            role=role,
            type=value_type(stats[name].kind),
            label=label(name),
            stats=stats[name],
            unit=unit,
        )
    return schema


def _unit_in_name(name: str) -> str | None:
    """ "Weight (kg)" -> "kg": a unit word in the field's own name."""
    found = [word for word in words(name) if word in GENERAL_UNITS]
    return found[-1] if found else None

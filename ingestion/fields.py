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

import math
from dataclasses import dataclass, field
from typing import Any

from catalog.money import decimal_separator_of, is_currency, uses_lakh_grouping
from catalog.profile import FieldRole, ValueType
from catalog.text import letter_words as words
from catalog.units import GENERAL_UNITS
from ingestion.naming import ROLE_DESCRIPTIONS, FieldNamer, default_namer, humanise, label
from ingestion.values import NUMERIC_KINDS, TEXT_KINDS, ValueStats, value_stats

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

NAME_THRESHOLD = 0.40
STRONG_THRESHOLD = 0.55  # a name this close to a role needs only most values to fit it
POLICY_THRESHOLD = 0.45
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
_LIST_KINDS = frozenset({"list_text", "list_object"})


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
            if _fits(role, stats[name], similarity[name][role])
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
    _fallbacks(schema, stats, similarity, taken)
    _pick_selling_price(schema, rows, stats, similarity, taken)
    if FieldRole.CATEGORY in schema.roles:
        primary = schema.roles[FieldRole.CATEGORY]
        if primary not in stats or stats[primary].kind in _LIST_KINDS or stats[primary].separator:
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
            else _attribute_role(stats[name], similarity[name])
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


def _fits(role: FieldRole, stats: ValueStats, similarity: float) -> bool:
    """Can a field with these values take ``role``? A name that says the role plainly
    (``STRONG_THRESHOLD``) needs only most values to fit, so that the odd bad value ("price":
    "cheap", a negative rating) is reported as a bad row instead of hiding the field."""
    kind, named, strong = stats.kind, similarity >= NAME_THRESHOLD, similarity >= STRONG_THRESHOLD
    share = stats.text_share if kind in TEXT_KINDS else stats.purity
    if kind is None or share < (0.5 if strong else 0.8):
        return False
    # Most values in range for a name that says the role plainly, all of them otherwise.
    needed = 0.5 if strong else 1.0
    if role is FieldRole.IDENTIFIER:
        return named and kind in ("integer", "text") and stats.unique >= 0.95
    if role is FieldRole.TITLE:
        return named and kind in TEXT_KINDS and stats.mean_chars <= 250
    if role is FieldRole.DESCRIPTION:
        return named and kind in TEXT_KINDS and stats.mean_chars >= 30
    if role is FieldRole.PRICE:
        priced = kind == "money" or (named and kind in NUMERIC_KINDS)
        return priced and stats.share_within(0, math.inf) >= needed
    if role is FieldRole.CURRENCY:
        return kind == "text" and _currency_codes(stats)
    if role is FieldRole.BRAND:
        return named and kind == "text" and stats.mean_chars <= 60
    if role is FieldRole.CATEGORY:
        return named and (
            kind in ("text", "list_text") or (kind == "long_text" and bool(stats.separator))
        )
    if role is FieldRole.STOCK:
        return named and kind in ("integer", "number") and (strong or stats.integral)
    if role is FieldRole.AVAILABILITY:
        return named and (kind == "boolean" or (kind == "text" and stats.distinct <= 12))
    if role is FieldRole.RATING:
        in_scale = stats.share_within(0, 100) >= needed and (stats.high or 0) > 0
        return named and kind in ("integer", "number") and in_scale
    if role is FieldRole.TAGS:
        return named and kind == "list_text"
    if role in (FieldRole.REVIEWS, FieldRole.SNIPPETS):
        return named and kind in _LIST_KINDS
    return False


def _currency_codes(stats: ValueStats) -> bool:
    return bool(stats.examples) and all(is_currency(example) for example in stats.examples)


def _fallbacks(
    schema: RowSchema,
    stats: dict[str, ValueStats],
    similarity: dict[str, dict[FieldRole, float]],
    taken: set[str],
) -> None:
    """Values alone, when no name says it: a unique code column is the id, the most
    distinctive short text the title, the longest free text the description."""
    free = [
        name
        for name in stats
        if name not in taken
        and (stats[name].text_share if stats[name].kind in TEXT_KINDS else stats[name].purity)
        >= 0.8
    ]
    if FieldRole.IDENTIFIER not in schema.roles:
        codes = [
            name
            for name in free
            if stats[name].kind == "text"
            and stats[name].unique >= 0.99
            and stats[name].spaced < 0.05
            and stats[name].digits > 0.9
            and stats[name].coverage >= 0.9
        ]
        if codes:
            best = max(codes, key=lambda name: similarity[name][FieldRole.IDENTIFIER])
            schema.roles[FieldRole.IDENTIFIER] = best
            taken.add(best)
    if FieldRole.TITLE not in schema.roles:
        titles = [
            name
            for name in free
            if name not in taken
            and stats[name].kind in TEXT_KINDS
            and stats[name].unique >= 0.5
            and stats[name].coverage >= 0.5
            and stats[name].mean_chars <= 250
        ]
        if titles:  # the most name-like of the distinctive short texts
            best = max(titles, key=lambda name: similarity[name][FieldRole.TITLE])
            schema.roles[FieldRole.TITLE] = best
            taken.add(best)
    if FieldRole.DESCRIPTION not in schema.roles:
        texts = [
            name
            for name in free
            if name not in taken
            and stats[name].kind == "long_text"
            and similarity[name][FieldRole.POLICY] < POLICY_THRESHOLD
        ]
        if texts:
            best = max(texts, key=lambda name: stats[name].mean_chars * stats[name].coverage)
            schema.roles[FieldRole.DESCRIPTION] = best
            taken.add(best)


def _pick_selling_price(
    schema: RowSchema,
    rows: list[dict[str, Any]],
    stats: dict[str, ValueStats],
    similarity: dict[str, dict[FieldRole, float]],
    taken: set[str],
) -> None:
    """Two price columns (sale and list price, "discounted" and "MRP"): the one a shopper
    pays is the one that is never above the other."""
    current = schema.roles.get(FieldRole.PRICE)
    if current is None:
        return
    others = [
        name
        for name in stats
        if name not in taken
        and name != current
        and _fits(FieldRole.PRICE, stats[name], similarity[name][FieldRole.PRICE])
    ]
    from catalog.money import parse_price

    def amount(row: dict[str, Any], name: str) -> float | None:
        try:
            parsed = parse_price(row.get(name))
        except ValueError:
            return None
        return parsed.amount if parsed else None

    for other in others:
        pairs = [(amount(row, current), amount(row, other)) for row in rows]
        both = [(a, b) for a, b in pairs if a is not None and b is not None and a > 0]
        ratios = sorted(b / a for a, b in both)
        # Never above it, sometimes below, and of the same order (not a percentage or a fee).
        if (
            len(both) >= 3
            and sum(r <= 1 for r in ratios) >= 0.9 * len(both)
            and ratios[0] < 1
            and ratios[len(ratios) // 2] >= 0.3
        ):
            schema.roles[FieldRole.PRICE] = other
            taken.add(other)
            taken.discard(current)
            current = other


def _attribute_role(stats: ValueStats, similarity: dict[FieldRole, float]) -> FieldRole:
    kind = stats.kind
    if kind in ("url", "list_url") or (
        kind == "text" and similarity[FieldRole.MEDIA] >= POLICY_THRESHOLD + 0.1
    ):
        return FieldRole.MEDIA
    if kind == "quantity":
        return FieldRole.QUANTITY
    if kind == "boolean":
        return FieldRole.FLAG
    if kind in TEXT_KINDS:
        if similarity[FieldRole.POLICY] >= POLICY_THRESHOLD:
            return FieldRole.POLICY
        return FieldRole.TEXT
    if kind in NUMERIC_KINDS:
        return FieldRole.NUMBER
    if kind == "list_text":
        return FieldRole.TEXT
    if kind == "object" and stats.leaf_kinds:  # {"width": 2, "depth": 3} is a measure
        leaves = sum(stats.leaf_kinds.values())
        if sum(stats.leaf_kinds[k] for k in NUMERIC_KINDS) >= 0.8 * leaves:
            return FieldRole.NUMBER
        if sum(stats.leaf_kinds[k] for k in ("text", "quantity", *NUMERIC_KINDS)) >= 0.8 * leaves:
            return FieldRole.TEXT
    return FieldRole.OTHER  # kept in the record, not offered as an attribute


def _unit_in_name(name: str) -> str | None:
    """ "Weight (kg)" -> "kg": a unit word in the field's own name."""
    found = [word for word in words(name) if word in GENERAL_UNITS]
    return found[-1] if found else None

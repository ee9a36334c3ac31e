"""The rules that decide which role a field can take: what its values allow (``fits``), the
roles values alone give when no name says them (``fill_by_values``), the price a shopper pays
of two price columns, and the role of every other field.

The similarity thresholds were chosen on the schemas of the three shipped catalogs and checked
on held-out public export schemas (``evaluation/schema_eval.py``, ``docs/notes/issue-9.md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from catalog.money import is_currency
from catalog.profile import FieldRole
from ingestion.values import NUMERIC_KINDS, TEXT_KINDS, ValueStats

if TYPE_CHECKING:
    from ingestion.fields import RowSchema

NAME_THRESHOLD = 0.40
STRONG_THRESHOLD = 0.55  # a name this close to a role needs only most values to fit it
POLICY_THRESHOLD = 0.45
LIST_KINDS = frozenset({"list_text", "list_object"})


def fits(role: FieldRole, stats: ValueStats, similarity: float) -> bool:
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
        return named and kind in LIST_KINDS
    return False


def _currency_codes(stats: ValueStats) -> bool:
    return bool(stats.examples) and all(is_currency(example) for example in stats.examples)


def fill_by_values(
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
        named = {name: similarity[name][FieldRole.IDENTIFIER] for name in codes}
        _take(schema, FieldRole.IDENTIFIER, codes, taken, named.__getitem__)
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
        # The most name-like of the distinctive short texts.
        _take(schema, FieldRole.TITLE, titles, taken, lambda n: similarity[n][FieldRole.TITLE])
    if FieldRole.DESCRIPTION not in schema.roles:
        texts = [
            name
            for name in free
            if name not in taken
            and stats[name].kind == "long_text"
            and similarity[name][FieldRole.POLICY] < POLICY_THRESHOLD
        ]
        _take(
            schema,
            FieldRole.DESCRIPTION,
            texts,
            taken,
            lambda n: stats[n].mean_chars * stats[n].coverage,
        )


def _take(
    schema: RowSchema,
    role: FieldRole,
    candidates: list[str],
    taken: set[str],
    preference: Callable[[str], float],
) -> None:
    if candidates:
        best = max(candidates, key=preference)
        schema.roles[role] = best
        taken.add(best)


def pick_selling_price(
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
        and fits(FieldRole.PRICE, stats[name], similarity[name][FieldRole.PRICE])
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


def attribute_role(stats: ValueStats, similarity: dict[FieldRole, float]) -> FieldRole:
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

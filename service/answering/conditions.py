"""Attribute conditions: a phrase of the message that is one of an attribute's own values.

"laptops with a 3 year warranty" holds "3 year warranty", a value of the warranty field, so
the plan filters on it. Values come from the stored records (distinct values of each short
text attribute that has few of them), so any catalog's fields work: nothing names a field.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from catalog.models import lookup
from catalog.profile import FieldRole
from catalog.text import words
from service.answering.catalog_view import CatalogView

# An attribute with more distinct values than this is free text, not a condition.
MAX_DISTINCT = 60
_CONDITION_ROLES = {FieldRole.POLICY, FieldRole.TEXT, FieldRole.QUANTITY}
_MIN_WORDS = 2  # one word ("black") is too loose to read as a condition on its own


def attribute_values(view: CatalogView) -> dict[str, dict[tuple[str, ...], str]]:
    """Attribute key -> {stemmed words of a value: the value as written}, per view."""
    if view.condition_values is not None:
        return view.condition_values
    keys = [a.key for a in view.profile.attributes if a.role in _CONDITION_ROLES]
    found: dict[str, dict[tuple[str, ...], str]] = defaultdict(dict)
    for product_id in view.records:
        record = view.record(product_id)
        attributes = record.get("attributes") if isinstance(record.get("attributes"), dict) else {}
        for key in keys:
            value = attribute_value(record, attributes or {}, key)
            if isinstance(value, str) and value.strip() and len(found[key]) <= MAX_DISTINCT:
                found[key][tuple(words(value))] = value.strip()
    result = {key: values for key, values in found.items() if len(values) <= MAX_DISTINCT}
    view.condition_values = result
    return result


def attribute_value(record: dict[str, Any], attributes: dict[str, Any], key: str) -> Any:
    """The value of ``key``: a product field, an attribute, or a dotted path into one."""
    if key in record and key != "attributes":
        return record[key]
    return lookup(attributes, key)


def find_conditions(text: str, view: CatalogView) -> list[dict[str, Any]]:
    """Conditions ``{"key", "label", "value"}`` whose value's words appear in order."""
    message = words(text)
    joined = f" {' '.join(message)} "
    conditions = []
    for key, values in attribute_values(view).items():
        best: tuple[str, ...] | None = None
        for value_words in values:
            if len(value_words) < _MIN_WORDS:
                continue
            if f" {' '.join(value_words)} " in joined and (
                best is None or len(value_words) > len(best)
            ):
                best = value_words
        if best is not None:
            attribute = view.profile.attribute(key)
            label = attribute.label if attribute else key
            conditions.append({"key": key, "label": label, "value": values[best]})
    return conditions


def holds(record: dict[str, Any], condition: dict[str, Any]) -> bool:
    attributes = record.get("attributes") if isinstance(record.get("attributes"), dict) else {}
    value = attribute_value(record, attributes or {}, str(condition["key"]))
    return isinstance(value, str) and tuple(words(value)) == tuple(words(condition["value"]))

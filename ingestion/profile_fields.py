"""What build_profile measures per field over the stored records, apart from when it rebuilds."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from catalog.profile import AttributeProfile, FieldProfile, FieldRole, SourceProfile, ValueType
from ingestion.values import measure_unit

# Where a role's value lives in a stored product record.
_PRODUCT_KEYS = {
    FieldRole.IDENTIFIER: "product_id",
    FieldRole.TITLE: "title",
    FieldRole.DESCRIPTION: "description",
    FieldRole.PRICE: "price",
    FieldRole.CURRENCY: "currency",
    FieldRole.BRAND: "brand",
    FieldRole.CATEGORY: "category_path",
    FieldRole.STOCK: "stock",
    FieldRole.RATING: "rating",
}
# Product fields a shopper may ask about, with their labels.
_PRODUCT_ATTRIBUTES: tuple[tuple[str, str, FieldRole, ValueType], ...] = (
    ("price", "Price", FieldRole.PRICE, "money"),
    ("brand", "Brand", FieldRole.BRAND, "text"),
    ("category", "Category", FieldRole.CATEGORY, "text"),
    ("rating", "Rating", FieldRole.RATING, "number"),
    ("availability", "Availability", FieldRole.AVAILABILITY, "text"),
    ("stock", "Stock", FieldRole.STOCK, "number"),
)
_ASKABLE = frozenset(
    {
        FieldRole.POLICY,
        FieldRole.QUANTITY,
        FieldRole.NUMBER,
        FieldRole.TEXT,
        FieldRole.FLAG,
    }
)
_UNIT_SAMPLE = 2000  # measure values read per field for their units


def _value(record: dict[str, Any], field: FieldProfile) -> Any:
    key = _PRODUCT_KEYS.get(field.role)
    if key is not None:
        return record.get(key)
    return (record.get("attributes") or {}).get(field.name)


def field_profiles(
    records: list[dict[str, Any]], sources: list[SourceProfile]
) -> list[FieldProfile]:
    """Every source field once (the first file naming it wins), coverage and examples
    measured over the stored products."""
    merged: dict[str, FieldProfile] = {}
    for source in sources:
        for field in source.fields:
            merged.setdefault(field.name, field)
    total = max(1, len(records))
    found = []
    for field in merged.values():
        values = [value for r in records if (value := _value(r, field)) not in (None, "", [], {})]
        examples = list(dict.fromkeys(_shown(value) for value in values[:50]))[:3]
        coverage = round(len(values) / total, 4)
        found.append(field.model_copy(update={"coverage": coverage, "examples": examples}))
    return found


def attribute_profiles(
    records: list[dict[str, Any]], fields: list[FieldProfile]
) -> list[AttributeProfile]:
    total = max(1, len(records))
    found: list[AttributeProfile] = []
    for key, label, role, kind in _PRODUCT_ATTRIBUTES:
        values = [r.get(key) for r in records if r.get(key) not in (None, "")]
        if values:
            found.append(
                AttributeProfile(
                    key=key,
                    label=label,
                    role=role,
                    type=kind,
                    coverage=round(len(values) / total, 4),
                    examples=list(dict.fromkeys(_shown(v) for v in values[:50]))[:3],
                )
            )
    for field in fields:
        if field.role not in _ASKABLE or field.coverage == 0:
            continue
        found.append(
            AttributeProfile(
                key=field.name,
                label=field.label,
                role=field.role,
                type=field.type,
                unit=field.unit,
                coverage=field.coverage,
                examples=field.examples,
            )
        )
    return found


def quantity_field_units(records: list[dict[str, Any]], fields: list[FieldProfile]) -> set[str]:
    """Units of the measure fields' values ("500 ml", "1 kg", "Pack of 6"), from a sample."""
    found: set[str] = set()
    for field in fields:
        if field.role is not FieldRole.QUANTITY:
            continue
        values = [v for r in records if isinstance(v := _value(r, field), str)]
        step = max(1, len(values) // _UNIT_SAMPLE)
        found |= {unit for value in values[::step] if (unit := measure_unit(value))}
    return found


def unit_texts(records: list[dict[str, Any]], fields: list[FieldProfile]) -> Iterable[str]:
    """The catalog's own texts where unit words follow numbers: titles, descriptions and
    short text or measure attributes."""
    short = [f for f in fields if f.role in (FieldRole.QUANTITY, FieldRole.TEXT)]
    for record in records:
        yield str(record.get("title") or "")
        yield str(record.get("description") or "")
        attributes = record.get("attributes") or {}
        for field in short:
            value = attributes.get(field.name)
            if isinstance(value, str):
                yield value


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(str(text).split())
    return text if len(text) <= 80 else text[:77] + "..."

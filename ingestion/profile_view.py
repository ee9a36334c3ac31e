"""``aisle stats``'s view of the catalog profile: rich tables, or JSON."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from catalog.profile import CatalogProfile

SHOWN_BRANDS = 10
SHOWN_CATEGORIES = 15
SHOWN_TERMS = 8


def profile_json(profile: CatalogProfile | None) -> dict[str, Any] | None:
    """The profile as stored, without the per-file schemas it was merged from."""
    return None if profile is None else profile.model_dump(mode="json", exclude={"sources"})


def profile_lines(profile: CatalogProfile | None) -> list[str | Table]:
    """What the operator reads: currency and locale, fields, brands, categories, units."""
    if profile is None:
        return ["catalog profile: none yet (run aisle ingest)"]
    scale = f"{profile.rating_scale:g}" if profile.rating_scale else "no ratings"
    lines: list[str | Table] = [
        f"currency: {profile.currency} ({profile.currency_source})  "
        f"locale: {profile.locale} ({profile.locale_source})  rating scale: {scale}"
    ]
    fields = Table(title="Fields")
    for column in ("field", "role", "type", "label", "coverage", "unit"):
        fields.add_column(column, justify="right" if column == "coverage" else "left")
    for field in profile.fields:
        fields.add_row(
            field.name,
            field.role.value,
            field.type,
            field.label,
            f"{field.coverage:.0%}",
            field.unit or "",
        )
    lines.append(fields)
    asked = ", ".join(attribute.label for attribute in profile.attributes)
    lines.append(f"askable attributes: {asked or '(none)'}")
    brands = list(profile.brands.items())
    shown = ", ".join(f"{name} ({count})" for name, count in brands[:SHOWN_BRANDS])
    more = f" and {len(brands) - SHOWN_BRANDS} more" if len(brands) > SHOWN_BRANDS else ""
    lines.append(f"brands: {len(brands)}: {shown or '(none)'}{more}")
    categories = Table(title=f"Categories ({len(profile.categories)})")
    for column in ("category", "products", "path", "loose terms"):
        categories.add_column(column, justify="right" if column == "products" else "left")
    for category in profile.categories[:SHOWN_CATEGORIES]:
        categories.add_row(
            category.name,
            str(category.count),
            " > ".join(category.path),
            ", ".join(category.terms[:SHOWN_TERMS]),
        )
    lines.append(categories)
    lines.append(f"unit words: {', '.join(profile.units) or '(none)'}")
    return lines

"""The catalog profile (``catalog/profile.py``), computed at the end of every ingest from what
the store holds, so a partial re-ingest still describes the whole catalog.

- fields: each source file's schema (roles, types, labels, units, learned by the loaders from
  names and values), with coverage and examples measured over the stored products;
- currency: the settings' override, else the most common currency the prices carried
  ("₹", "Rs.", "INR", a currency column), else USD; locale: the override, else an English
  locale of a country using that currency that writes numbers as the price strings did
  (decimal separator, lakh grouping), else that currency's default;
- rating scale: the highest rating, rounded up to 5, 10 or 100;
- brands and category nodes with counts and loose terms, unit words (``vocabulary.py``);
- askable attributes with display labels.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from catalog.money import DEFAULT_CURRENCY, locale_for
from catalog.profile import CatalogProfile, FieldProfile, SourceProfile
from ingestion import vocabulary
from ingestion.fields import RowSchema
from ingestion.profile_fields import (
    attribute_profiles,
    field_profiles,
    quantity_field_units,
    unit_texts,
)

if TYPE_CHECKING:
    from aisle.settings import CatalogSettings
    from catalog.store import ProductStore
    from ingestion.loaders.base import LoadedProduct

_SCALES = (5.0, 10.0, 100.0)


def source_profile(source: str, schema: RowSchema) -> SourceProfile:
    """One file's learned schema, as stored in the profile."""
    fields = [
        FieldProfile(
            name=item.name,
            role=item.role,
            type=item.type,
            label=item.label,
            coverage=round(item.stats.coverage, 4),
            unit=item.unit,
            examples=item.stats.examples,
        )
        for item in schema.fields.values()
    ]
    return SourceProfile(
        source=source, fields=fields, decimal=schema.price_decimal, lakh=schema.price_lakh
    )


def build_profile(
    records: list[dict[str, Any]],
    sources: list[SourceProfile],
    *,
    currency: str | None = None,
    locale: str | None = None,
) -> CatalogProfile:
    """The profile of the catalog whose stored product records are ``records``."""
    profile = CatalogProfile(products=len(records), sources=sources)
    currencies = Counter(str(r["currency"]) for r in records if r.get("currency"))
    if currency:
        profile.currency, profile.currency_source = currency.upper(), "settings"
    elif currencies:
        profile.currency, profile.currency_source = currencies.most_common(1)[0][0], "catalog"
    else:
        profile.currency = DEFAULT_CURRENCY
    if locale:
        profile.locale, profile.locale_source = locale, "settings"
    else:
        decimals = Counter(s.decimal for s in sources if s.decimal)
        learned = profile.currency_source != "default" or bool(decimals)
        profile.locale = locale_for(
            profile.currency,
            decimal=decimals.most_common(1)[0][0] if decimals else None,
            lakh=True if any(s.lakh for s in sources) else None,
        )
        profile.locale_source = "catalog" if learned else "default"
    profile.rating_scale = rating_scale(r.get("rating") for r in records)
    profile.fields = field_profiles(records, sources)
    profile.attributes = attribute_profiles(records, profile.fields)
    brands = Counter(str(r["brand"]) for r in records if r.get("brand"))
    profile.brands = dict(sorted(brands.items(), key=lambda item: (-item[1], item[0])))
    profile.categories = vocabulary.categories(records, profile.brands)
    quantity_units = quantity_field_units(records, profile.fields)
    learned_units = vocabulary.units(
        unit_texts(records, profile.fields), profile.currency, profile.locale
    )
    profile.units = sorted({unit for unit in quantity_units if unit} | set(learned_units))
    return profile


def update_profile(
    store: ProductStore,
    loaded: Iterable[LoadedProduct],
    *,
    changed: bool,
    catalog: CatalogSettings | None = None,
    partial: bool = False,
) -> bool:
    """Recompute and store the profile unless nothing changed (no product, no file schema, no
    override); True when a new profile was written. ``partial``: the files held only some rows
    (a feed of changes): their schema adds fields to what their source file's says, it does
    not replace it (a few hundred rows tell less than the whole file did)."""
    currency = catalog.currency if catalog else None
    locale = catalog.locale if catalog else None
    previous = CatalogProfile.load(store.meta)
    known = {source.source: source for source in previous.sources} if previous else {}
    fresh: dict[str, SourceProfile] = {}
    for item in loaded:
        source = item.source
        if item.schema is not None and source not in fresh:
            fresh[source] = source_profile(source, item.schema)
            if partial and source in known:
                fresh[source] = _widened(known[source], fresh[source])
    schemas_changed = any(
        name not in known or _shape(known[name]) != _shape(schema) for name, schema in fresh.items()
    )
    quiet = previous is not None and not changed and not schemas_changed
    if quiet and previous is not None and _overrides_hold(previous, currency, locale):
        return False
    records = _records(store)
    present = {str(record.get("source") or "") for record in records}
    sources = [schema for name, schema in {**known, **fresh}.items() if name in present]
    profile = build_profile(records, sources, currency=currency, locale=locale)
    if previous is not None and previous.model_dump() == profile.model_dump():
        return False
    profile.save(store.meta)
    return True


def _widened(whole: SourceProfile, part: SourceProfile) -> SourceProfile:
    """A file's schema with the fields only a feed of some of its rows has."""
    named = {field.name for field in whole.fields}
    extra = [field for field in part.fields if field.name not in named]
    return whole.model_copy(update={"fields": [*whole.fields, *extra]}) if extra else whole


def _shape(source: SourceProfile) -> tuple[object, ...]:
    """What a file's schema is, without its value statistics (examples, coverage), which a
    price feed changes without changing what the fields mean; in any field order."""
    fields = tuple(sorted((f.name, f.role, f.type, f.unit or "") for f in source.fields))
    return (fields, source.decimal, source.lakh)


def rating_scale(ratings: Iterable[Any]) -> float | None:
    values = [float(r) for r in ratings if isinstance(r, int | float) and not isinstance(r, bool)]
    values = [value for value in values if math.isfinite(value)]
    if not values:
        return None
    highest = max(values)
    return next(
        (scale for scale in _SCALES if highest <= scale), 10 ** math.ceil(math.log10(highest))
    )


# -- internals ---------------------------------------------------------------------------------
def _records(store: ProductStore) -> list[dict[str, Any]]:
    found = []
    for meta in store.core_metadatas():
        raw = meta.get("record")
        try:
            record = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            record = None
        if isinstance(record, dict):
            found.append(record)
    return found


def _overrides_hold(profile: CatalogProfile, currency: str | None, locale: str | None) -> bool:
    for wanted, value, origin in (
        (currency, profile.currency, profile.currency_source),
        (locale, profile.locale, profile.locale_source),
    ):
        if (wanted is None) != (origin != "settings") or (wanted and wanted != value):
            return False
    return True

"""The catalog profile: what this catalog's fields mean, learned at ingest from the data itself.

Ingestion computes it (``ingestion/profiling.py``) and stores it beside the collection
(:class:`catalog.meta.StoreMeta` key ``profile``), so every API process, embedded or server
Chroma, reads the same one. The service plans and composes answers from it: which record
fields a shopper may ask about and how to label them, the currency and number locale prices are
read and printed in, the rating scale, and the brand and category vocabularies with their
loose forms. Nothing in it is written by hand for one catalog.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from catalog.errors import StoreError
from catalog.meta import StoreMeta

PROFILE_KEY = "profile"
PROFILE_VERSION = 1

# What a field's values are: "money" ("₹1,299.00"), "quantity" ("500 ml", "Pack of 6").
ValueType = Literal[
    "text", "number", "boolean", "list", "object", "money", "quantity", "url", "date"
]
Origin = Literal["settings", "catalog", "default"]


class FieldRole(StrEnum):
    """What a source field is for. Product fields have one role each; the rest are attributes."""

    IDENTIFIER = "identifier"
    TITLE = "title"
    DESCRIPTION = "description"  # long free text about the product
    PRICE = "price"
    CURRENCY = "currency"
    BRAND = "brand"
    CATEGORY = "category"  # a name, a list (broad to narrow) or a path
    STOCK = "stock"  # units on hand
    AVAILABILITY = "availability"  # "In Stock", "Low Stock", true/false
    RATING = "rating"
    TAGS = "tags"
    REVIEWS = "reviews"
    SNIPPETS = "snippets"  # Q&A, bullets, evidence passages
    POLICY = "policy"  # policy-like text: warranty, returns, shipping, terms
    QUANTITY = "quantity"  # a number with a unit: "1 kg", "200 ml", "5 seater"
    NUMBER = "number"
    TEXT = "text"  # a short text attribute (colour, material, ...)
    FLAG = "flag"  # a boolean attribute
    MEDIA = "media"  # images, URLs: never embedded, never asked about
    OTHER = "other"  # nested objects and anything else kept in the record


class FieldProfile(BaseModel):
    """One source field as the catalog uses it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The field's name in the source rows (dotted for nesting).")
    role: FieldRole
    type: ValueType
    label: str = Field(description="Display label, e.g. 'Warranty information'.")
    coverage: float = Field(ge=0, le=1, description="Share of products that have a value.")
    unit: str | None = Field(None, description="Unit of QUANTITY fields, e.g. 'kg'.")
    examples: list[str] = Field(default_factory=list, description="A few values, as text.")


class AttributeProfile(BaseModel):
    """A record attribute shoppers may ask about ("what's the warranty?")."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="Where the value lives: a Product field or an attribute key.")
    label: str = Field(description="How answers name it: 'Warranty information'.")
    role: FieldRole
    type: ValueType
    unit: str | None = None
    coverage: float = Field(ge=0, le=1)
    examples: list[str] = Field(default_factory=list)


class CategoryProfile(BaseModel):
    """A catalog category and the loose words that reach it, learned from the catalog."""

    model_config = ConfigDict(extra="forbid")

    name: str
    count: int = Field(ge=0)
    path: list[str] = Field(default_factory=list, description="Broad to narrow, when known.")
    terms: list[str] = Field(
        default_factory=list,
        description="Loose forms derived from the catalog: singular/plural of the name's words "
        "and words that mark this category's products in titles, tags and descriptions.",
    )


class SourceProfile(BaseModel):
    """The schema learned from one source file (kept so that a partial re-ingest still knows
    every file's fields)."""

    model_config = ConfigDict(extra="forbid")

    source: str
    fields: list[FieldProfile] = Field(default_factory=list)
    decimal: str | None = Field(None, description="Decimal separator of its price strings.")
    lakh: bool = Field(False, description="Its price strings use Indian (lakh) grouping.")


class CatalogProfile(BaseModel):
    """Everything Aisle learned about one catalog at ingest."""

    model_config = ConfigDict(extra="forbid")

    version: int = PROFILE_VERSION
    products: int = Field(0, ge=0)
    currency: str = Field("USD", description="ISO 4217 code of the catalog's prices.")
    locale: str = Field("en_US", description="Babel locale for reading and printing numbers.")
    currency_source: Origin = Field(
        "default", description="Where the currency came from: settings, the catalog, default."
    )
    locale_source: Origin = "default"
    rating_scale: float | None = Field(None, description="Top of the rating scale, e.g. 5.")
    fields: list[FieldProfile] = Field(default_factory=list)
    attributes: list[AttributeProfile] = Field(default_factory=list)
    brands: dict[str, int] = Field(default_factory=dict, description="Brand -> products.")
    categories: list[CategoryProfile] = Field(default_factory=list)
    units: list[str] = Field(
        default_factory=list,
        description="Unit words that follow numbers in this catalog ('ml', 'seater', 'pack'): "
        "a number carrying one is never a price.",
    )
    sources: list[SourceProfile] = Field(default_factory=list)

    def attribute(self, key: str) -> AttributeProfile | None:
        return next((item for item in self.attributes if item.key == key), None)

    def field_for(self, role: FieldRole) -> FieldProfile | None:
        return next((item for item in self.fields if item.role is role), None)

    # -- storage ----------------------------------------------------------------------------
    def save(self, meta: StoreMeta) -> None:
        meta.put(PROFILE_KEY, self.model_dump(mode="json"))

    @classmethod
    def load(cls, meta: StoreMeta) -> CatalogProfile | None:
        """The stored profile; None when the collection has none (or an older version)."""
        raw: dict[str, Any] | None = meta.get(PROFILE_KEY)
        if not raw or raw.get("version") != PROFILE_VERSION:
            return None
        try:
            return cls.model_validate(raw)
        except ValueError as exc:
            raise StoreError(f"the stored catalog profile is unreadable: {exc}") from exc

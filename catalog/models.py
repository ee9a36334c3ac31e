"""The shapes both sides of Aisle share: products, chunks, filters and search hits."""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Types Chroma accepts as metadata values (non-empty lists of strings too: category paths).
MetadataValue = str | int | float | bool | list[str]


def lookup(row: dict[str, Any], name: str) -> Any:
    """A field's value; dotted names reach into nested objects ("pricing.amount")."""
    if name in row:
        return row[name]
    current: Any = row
    for part in name.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def facet_key(value: str) -> str:
    """Brands and categories compare case- and space-insensitively (stored as ``*_key``)."""
    return " ".join(value.lower().split())


class Product(BaseModel):
    """One catalog product, normalised from any source schema."""

    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = ""
    price: float | None = Field(None, ge=0)
    brand: str | None = None
    category: str | None = Field(None, description="The narrowest category (path's last).")
    category_path: list[str] = Field(
        default_factory=list, description="Categories broad to narrow; [category] at least."
    )
    currency: str | None = Field(None, description="ISO 4217 code the row's price carried.")
    stock: int | None = None
    availability: str | None = Field(None, description="e.g. 'In Stock', 'Low Stock'.")
    rating: float | None = Field(None, ge=0)
    # Everything else the source row had (warranty, shipping, reviews, snippets...), kept as-is.
    attributes: dict[str, Any] = Field(default_factory=dict)
    source: str = ""

    @model_validator(mode="after")
    def _path_ends_with_category(self) -> Product:
        if self.category and not self.category_path:
            self.category_path = [self.category]
        elif self.category_path and not self.category:
            self.category = self.category_path[-1]
        return self

    @property
    def in_stock(self) -> bool | None:
        if self.stock is not None:
            return self.stock > 0
        if self.availability:
            return "out" not in self.availability.lower()
        return None


class ChunkKind(StrEnum):
    CORE = "core"
    DESCRIPTION = "description"
    SPECS = "specs"
    REVIEWS = "reviews"
    SNIPPET = "snippet"
    DOCUMENT = "document"


class Chunk(BaseModel):
    """A piece of product text with the metadata Chroma filters on."""

    chunk_id: str
    product_id: str
    kind: ChunkKind
    text: str
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)
    content_hash: str = Field(description="Hash of the embedded text: a change means re-embed.")
    meta_hash: str = Field(description="Hash of the metadata: a change means update in place.")


class Filters(BaseModel):
    """Shopping constraints; every field optional, all must hold. Numbers are finite and
    bounded (a store query never sees 1e400)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    min_price: float | None = Field(None, ge=0, le=1e12)
    max_price: float | None = Field(None, ge=0, le=1e12)
    brand: str | None = Field(None, min_length=1, max_length=200)
    category: str | None = Field(None, min_length=1, max_length=200)
    in_stock: bool | None = None
    min_rating: float | None = Field(None, ge=0, le=5)

    @model_validator(mode="after")
    def _check_range(self) -> Filters:
        if (
            self.min_price is not None
            and self.max_price is not None
            and self.min_price > self.max_price
        ):
            raise ValueError("min_price must not exceed max_price")
        return self

    def is_empty(self) -> bool:
        return not self.model_dump(exclude_none=True)

    def matches(self, metadata: dict[str, Any]) -> bool:
        """The same test Chroma's ``where`` applies, for candidates from other retrievers."""
        price = metadata.get("price")
        if self.min_price is not None and (price is None or price < self.min_price):
            return False
        if self.max_price is not None and (price is None or price > self.max_price):
            return False
        if self.brand is not None and metadata.get("brand_key") != facet_key(self.brand):
            return False
        if self.category is not None and not category_matches(metadata, self.category):
            return False
        if self.in_stock is not None and metadata.get("in_stock") != self.in_stock:
            return False
        rating = metadata.get("rating")
        return self.min_rating is None or (rating is not None and rating >= self.min_rating)


def category_matches(metadata: dict[str, Any], category: str) -> bool:
    """A category filter holds at any level of the product's path ("Cell Phones" matches a
    case in "Cell Phones > Cases"); metadata written before paths existed has the key only."""
    key = facet_key(category)
    levels = metadata.get("category_keys")
    return metadata.get("category_key") == key or (isinstance(levels, list) and key in levels)


class ScoredChunk(BaseModel):
    """A retrieved chunk with its score (higher is better)."""

    chunk_id: str
    product_id: str
    text: str
    metadata: dict[str, Any]
    score: float


class ProductHit(BaseModel):
    """One product found by hybrid search: its core metadata and best chunks."""

    product_id: str
    title: str
    score: float
    metadata: dict[str, Any] = Field(description="The core chunk's metadata (price, brand...).")
    chunks: list[ScoredChunk] = Field(description="Matching chunks, best first.")
    similarity: float | None = Field(
        default=None,
        description="Best cosine similarity of the product's chunks to the query (absolute, "
        "unlike the rank-fused score); None when the dense retriever did not find it.",
    )

    @property
    def snippet(self) -> str:
        return self.chunks[0].text if self.chunks else ""

    @cached_property
    def record(self) -> dict[str, Any]:
        """The full product record kept (as JSON) on the core chunk; {} when absent."""
        raw = self.metadata.get("record")
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                return {}
        return raw if isinstance(raw, dict) else {}

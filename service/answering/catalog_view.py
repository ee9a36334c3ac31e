"""The catalog as the planner sees it: the stored profile plus lookups built from every
product's core metadata, once per collection generation.

- product entries (title, brand, category, price, rating, stock) for a filtered scan of the
  whole catalog (superlatives, sorts) without a store round trip;
- an inverted index of title words with their IDF, for finding products a shopper names;
- brand and category vocabularies with the loose terms the profile learned at ingest;
- embeddings of the askable attributes' labels and example values, for matching asked
  attributes by meaning.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.embeddings import Embeddings

from catalog.models import facet_key
from catalog.profile import AttributeProfile, CatalogProfile, CategoryProfile, FieldRole
from catalog.text import content_words, has_digit, words
from service.answering.attribute_index import AttributeIndex, build_index

_FOR = re.compile(r"\s+for\s+", re.IGNORECASE)  # "Case for Apple iPhone 7"

# Asked about in a catalog that has no reviews field: always missing from the record.
_NO_REVIEWS = AttributeProfile(
    key="reviews", label="Customer reviews", role=FieldRole.REVIEWS, type="text", coverage=0.0
)
# Product fields every profile can answer from, even one computed before attributes existed.
_BUILTIN_ATTRIBUTES: tuple[tuple[str, str, FieldRole], ...] = (
    ("price", "Price", FieldRole.PRICE),
    ("brand", "Brand", FieldRole.BRAND),
    ("category", "Category", FieldRole.CATEGORY),
    ("rating", "Rating", FieldRole.RATING),
    ("availability", "Availability", FieldRole.AVAILABILITY),
)


@dataclass(frozen=True)
class ProductEntry:
    product_id: str
    title: str
    brand: str | None
    category: str | None
    category_path: tuple[str, ...]
    price: float | None
    rating: float | None
    in_stock: bool | None
    title_words: frozenset[str]  # the title's words, stemmed, stopwords kept
    first_word: str  # the title's first word, stemmed
    name_words: frozenset[str]  # the title's and the brand's words (what may name it)
    # The words naming the thing itself: "Case for Pixel XL" is a case (the title before "for").
    subject_words: frozenset[str] = frozenset()


@dataclass
class CatalogView:
    profile: CatalogProfile
    products: dict[str, ProductEntry]
    records: dict[str, str]  # product id -> stored record JSON (parsed on demand)
    title_index: dict[str, set[str]]
    idf: dict[str, float]
    brand_keys: dict[str, str]  # facet key -> brand as the catalog writes it
    brand_words: dict[str, tuple[str, ...]]  # facet key -> its stemmed words
    category_terms: dict[str, set[str]]  # stemmed term -> category names it reaches
    categories: dict[str, CategoryProfile]
    # Stemmed word -> products whose tags (fields of the TAGS role) hold it: like a title, a
    # tag says what the product is ("clothing" for a shirt), so such a word is not foreign.
    tag_index: dict[str, set[str]] = field(default_factory=dict)
    knows: Callable[[str], bool] | None = None  # any catalog text holds the word
    # (word, number) pairs some title holds side by side: "iPhone 7", "Honor 8", "Moto 360".
    model_pairs: frozenset[tuple[str, str]] = frozenset()
    attributes: AttributeIndex | None = None
    # Attribute key -> {stemmed words of a value: the value as written} (conditions.py).
    condition_values: dict[str, dict[tuple[str, ...], str]] | None = None
    # Attributes whose values are amounts, in profile order (scales.ordered_attributes).
    ordered: list[AttributeProfile] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        profile: CatalogProfile | None,
        metadatas: Iterable[dict[str, Any]],
        knows: Callable[[str], bool] | None = None,
    ) -> CatalogView:
        """``knows(word)``: whether any text of the catalog holds the word (default: titles)."""
        metas = [meta for meta in metadatas if meta.get("product_id")]
        profile = profile or _fallback_profile(metas)
        products: dict[str, ProductEntry] = {}
        records: dict[str, str] = {}
        title_index: dict[str, set[str]] = defaultdict(set)
        pairs: set[tuple[str, str]] = set()
        for meta in metas:
            entry = _entry(meta)
            products[entry.product_id] = entry
            said = words(entry.title)
            pairs |= {(a, b) for a, b in itertools.pairwise(said) if has_digit(b)}
            if isinstance(meta.get("record"), str):
                records[entry.product_id] = meta["record"]
            for word in entry.name_words:
                title_index[word].add(entry.product_id)
        tag_index = _tag_index(profile, records)
        total = max(len(products), 1)
        idf = {word: math.log((total + 1) / (len(ids) + 0.5)) for word, ids in title_index.items()}
        brand_keys: dict[str, str] = {}
        for name in profile.brands or {e.brand for e in products.values() if e.brand}:
            brand_keys[facet_key(name)] = name
        brand_words = {key: tuple(words(name)) for key, name in brand_keys.items()}
        category_terms: dict[str, set[str]] = defaultdict(set)
        categories = {category.name: category for category in profile.categories}
        for category in profile.categories:
            for term in {*category.terms, category.name.replace("-", " ")}:
                for stemmed in _term_words(term):
                    category_terms[stemmed].add(category.name)
        return cls(
            profile=profile,
            products=products,
            records=records,
            title_index=dict(title_index),
            idf=idf,
            brand_keys=brand_keys,
            brand_words=brand_words,
            category_terms=dict(category_terms),
            categories=categories,
            tag_index=tag_index,
            knows=knows,
            model_pairs=frozenset(pairs),
        )

    # -- lookups ----------------------------------------------------------------------------
    def record(self, product_id: str) -> dict[str, Any]:
        raw = self.records.get(product_id)
        if raw is None:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def word_idf(self, word: str) -> float:
        """IDF over product titles; a word no title holds gets the rarest weight."""
        return self.idf.get(word, math.log(len(self.products) + 1.0) + 1.0)

    def knows_word(self, word: str) -> bool:
        """Whether the catalog's text (any chunk; titles when no index is known) holds it."""
        return word in self.title_index or (self.knows is not None and self.knows(word))

    def word_idf_at_share(self, share: float) -> float:
        """The IDF of a word that this share of the titles hold (a catalog-relative scale)."""
        total = max(len(self.products), 1)
        return math.log((total + 1) / (max(1.0, share * total) + 0.5))

    def askable(self) -> list[AttributeProfile]:
        """The profile's askable attributes plus the built-in product fields."""
        found = list(self.profile.attributes)
        known = {attribute.key for attribute in found}
        for key, label, role in _BUILTIN_ATTRIBUTES:
            if key not in known:
                found.append(
                    AttributeProfile(key=key, label=label, role=role, type="text", coverage=1.0)
                )
        # What customers said is asked about as well ("what do people say about it?"); a
        # catalog without reviews then says it has none, rather than that nothing answers.
        reviews = [
            AttributeProfile(
                key=item.name, label=item.label, role=item.role, type="text", coverage=item.coverage
            )
            for item in self.profile.fields
            if item.role is FieldRole.REVIEWS and item.coverage > 0 and item.name not in known
        ]
        if not reviews and _NO_REVIEWS.key not in known:
            reviews = [_NO_REVIEWS]
        return found + reviews

    def attribute_index(self, embeddings: Embeddings) -> AttributeIndex:
        """Embedded attribute descriptions, computed once per view."""
        if self.attributes is None:
            with self._lock:
                if self.attributes is None:
                    self.attributes = build_index(self.askable(), embeddings)
        return self.attributes

    def format_price(self, value: float) -> str:
        from catalog.money import format_price

        return format_price(value, self.profile.currency, self.profile.locale)


def _term_words(term: str) -> list[str]:
    """A category term's words: its content words, and its last word (the head noun: "tops",
    "Tank Tops") even when it is also a stopword."""
    found = content_words(term)
    last = words(term)[-1:] if words(term) else []
    return list(dict.fromkeys(found + last))


def _entry(meta: dict[str, Any]) -> ProductEntry:
    title = str(meta.get("title") or meta["product_id"])
    brand = str(meta["brand"]) if meta.get("brand") else None
    path = meta.get("category_path")
    return ProductEntry(
        product_id=str(meta["product_id"]),
        title=title,
        brand=brand,
        category=str(meta["category"]) if meta.get("category") else None,
        category_path=tuple(str(part) for part in path) if isinstance(path, list) else (),
        price=_number(meta.get("price")),
        rating=_number(meta.get("rating")),
        in_stock=meta["in_stock"] if isinstance(meta.get("in_stock"), bool) else None,
        title_words=frozenset(words(title)),
        first_word=(words(title) or [""])[0],
        name_words=frozenset(words(f"{title} {brand or ''}")),
        subject_words=frozenset(words(_FOR.split(title, maxsplit=1)[0])),
    )


def _tag_index(profile: CatalogProfile, records: dict[str, str]) -> dict[str, set[str]]:
    names = [item.name for item in profile.fields if item.role is FieldRole.TAGS]
    index: dict[str, set[str]] = defaultdict(set)
    if not names:
        return {}
    for product_id, raw in records.items():
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        attributes = record.get("attributes") if isinstance(record, dict) else None
        if not isinstance(attributes, dict):
            continue
        for name in names:
            value = attributes.get(name)
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, str):
                    for word in words(item):
                        index[word].add(product_id)
    return dict(index)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _fallback_profile(metas: list[dict[str, Any]]) -> CatalogProfile:
    """A collection ingested before profiles existed: brands and categories from metadata."""
    brands: dict[str, int] = defaultdict(int)
    categories: dict[str, int] = defaultdict(int)
    for meta in metas:
        if meta.get("brand"):
            brands[str(meta["brand"])] += 1
        if meta.get("category"):
            categories[str(meta["category"])] += 1
    return CatalogProfile(
        products=len(metas),
        brands=dict(brands),
        categories=[CategoryProfile(name=name, count=count) for name, count in categories.items()],
    )

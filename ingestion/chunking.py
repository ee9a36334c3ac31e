"""Product-aware chunks: one ``core`` chunk per product, plus description, specs, reviews,
snippet and document chunks for the longer parts.

Embedded text never holds price, stock or rating: those change often and live in the
metadata, so a price change re-embeds nothing. Chunk ids are ``{product_id}::{kind}::{n}``.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from typing import Any

from catalog.models import Chunk, ChunkKind, MetadataValue, Product, facet_key
from catalog.profile import FieldRole
from catalog.reviews import review_comments
from ingestion.loaders.base import LoadedProduct

CHUNK_CHARS = 700  # MiniLM reads 256 word pieces (~1000 characters); the title prefix fits too
CHUNK_OVERLAP = 80
CORE_DESCRIPTION_CHARS = 600  # longer descriptions get their own chunks
# Short policies that answer the most common questions go in the core chunk: fields the
# schema found policy-like, or (a product rebuilt from the store, no schema) these words.
_KEY_FACTS = ("warranty", "return", "shipping", "guarantee")
# Attributes never embedded: volatile (price, stock, rating), or noise (images, timestamps).
_NOT_EMBEDDED = (
    "price",
    "stock",
    "rating",
    "discount",
    "inventory",
    "availability",
    "image",
    "thumbnail",
    "url",
)
_NOT_EMBEDDED_EXACT = frozenset({"meta", "n_snippets", "in_stock", "qa_pair_ids"})
# Fields chunked their own way, found by their role; a product rebuilt from the store (no
# schema) falls back to these names.
_SPECIAL_ROLES = {
    FieldRole.TAGS: "tags",
    FieldRole.REVIEWS: "reviews",
    FieldRole.SNIPPETS: "snippets",
}


def chunk_product(item: LoadedProduct) -> list[Chunk]:
    """All chunks of one product, in a stable order with stable ids."""
    product = item.product
    base = base_metadata(product)
    hidden = item.text_exclude
    roles = _roles(item)
    texts: list[tuple[ChunkKind, str, str]] = [
        (ChunkKind.CORE, core_text(product, hidden, roles), "")
    ]
    description = product.description.strip()
    if len(description) > CORE_DESCRIPTION_CHARS:
        texts += [(ChunkKind.DESCRIPTION, part, "") for part in _split(description)]
    specs = specs_text(product, hidden, roles)
    if specs:
        texts += [(ChunkKind.SPECS, part, "") for part in _split(specs)]
    for name in _special(roles, FieldRole.REVIEWS):
        reviews = _reviews_text(product.attributes.get(name))
        if reviews and name not in hidden:
            texts += [(ChunkKind.REVIEWS, part, "") for part in _split(reviews)]
    for name in _special(roles, FieldRole.SNIPPETS):
        snippets = _snippets_text(product.attributes.get(name))
        if snippets and name not in hidden:
            texts += [(ChunkKind.SNIPPET, part, "") for part in _split(snippets)]
    for document in item.documents:
        texts += [(ChunkKind.DOCUMENT, part, document.source) for part in _split(document.text)]

    chunks: list[Chunk] = []
    counters: dict[ChunkKind, int] = {}
    for kind, body, source in texts:
        n = counters.get(kind, 0)
        counters[kind] = n + 1
        text = body if kind is ChunkKind.CORE else f"{product.title} ({kind.value}): {body}"
        metadata = dict(base)
        if source:
            metadata["source"] = source
        if kind is ChunkKind.CORE:
            metadata["record"] = product_record(product)
        chunks.append(
            Chunk(
                chunk_id=f"{product.product_id}::{kind.value}::{n}",
                product_id=product.product_id,
                kind=kind,
                text=text,
                metadata=metadata,
                content_hash=_digest(text),
                meta_hash=_digest(json.dumps({"kind": kind.value, **metadata}, sort_keys=True)),
            )
        )
    return chunks


def base_metadata(product: Product) -> dict[str, MetadataValue]:
    """Filterable metadata every chunk of the product carries (unknown values omitted)."""
    meta: dict[str, MetadataValue] = {
        "product_id": product.product_id,
        "source": product.source,
        "title": product.title,
    }
    if product.price is not None:
        meta["price"] = float(product.price)
    if product.brand:
        meta["brand"] = product.brand
        meta["brand_key"] = facet_key(product.brand)
    if product.category:
        meta["category"] = product.category
        meta["category_key"] = facet_key(product.category)
    if product.category_path:  # a category filter matches any level (catalog.models)
        meta["category_path"] = list(product.category_path)
        meta["category_keys"] = list(dict.fromkeys(map(facet_key, product.category_path)))
    in_stock = product.in_stock
    if in_stock is not None:
        meta["in_stock"] = in_stock
    if product.stock is not None:
        meta["stock"] = int(product.stock)
    if product.rating is not None:
        meta["rating"] = float(product.rating)
    return meta


def product_record(product: Product) -> str:
    """The full product as JSON, kept on the core chunk (``GET /v1/products/{id}`` serves it)."""
    record = product.model_dump()
    record["in_stock"] = product.in_stock
    # Key order kept: attribute order shapes the chunk texts rebuilt from a stored record.
    return json.dumps(record, ensure_ascii=False, default=str)


def core_text(
    product: Product,
    hidden: frozenset[str] = frozenset(),
    roles: dict[str, FieldRole] | None = None,
) -> str:
    """What the product is: title, brand, category, tags, description and key policies."""
    lines = [product.title]
    if product.brand:
        lines.append(f"Brand: {product.brand}")
    if len(product.category_path) > 1:
        lines.append(f"Category: {' > '.join(product.category_path)}")
    elif product.category:
        lines.append(f"Category: {product.category}")
    for name in _special(roles, FieldRole.TAGS):
        tags = product.attributes.get(name)
        if tags and name not in hidden:
            lines.append(f"Tags: {readable(tags)}")
    description = product.description.strip()
    if description:
        if len(description) > CORE_DESCRIPTION_CHARS:
            description = description[:CORE_DESCRIPTION_CHARS].rsplit(" ", 1)[0] + " ..."
        lines.append(description)
    facts = [
        f"{label(key)}: {readable(value)}"
        for key, value in product.attributes.items()
        if _is_key_fact(key, roles) and _embeddable(key, value, hidden, roles)
    ]
    if facts:
        lines.append(". ".join(facts) + ".")
    return "\n".join(lines)


def specs_text(
    product: Product,
    hidden: frozenset[str] = frozenset(),
    roles: dict[str, FieldRole] | None = None,
) -> str:
    """Every other stable attribute, as ``Label: value`` lines (nested values made readable)."""
    special = {name for role in _SPECIAL_ROLES for name in _special(roles, role)}
    lines = [
        f"{label(key)}: {readable(value)}"
        for key, value in product.attributes.items()
        if key not in special
        and not _is_key_fact(key, roles)
        and _embeddable(key, value, hidden, roles)
    ]
    return "\n".join(line for line in lines if not line.endswith(": "))


def label(key: str) -> str:
    """``warrantyInformation`` -> ``Warranty information`` (snake_case too)."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").replace("-", " ")
    words = " ".join(words.split()).lower()
    return words[:1].upper() + words[1:]


def readable(value: Any) -> str:
    """Nested values as plain text: ``{"width": 2}`` -> ``width 2``; lists joined by commas."""
    if isinstance(value, dict):
        return ", ".join(
            f"{label(str(key)).lower()} {readable(item)}"
            for key, item in value.items()
            if item not in (None, "", [], {})
        )
    if isinstance(value, list):
        separator = "; " if any(isinstance(item, dict) for item in value) else ", "
        return separator.join(readable(item) for item in value if item not in (None, ""))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _reviews_text(reviews: Any) -> str:
    lines = [
        f'"{comment}"' + (f" ({name})" if name else "")
        for comment, name in review_comments(reviews)
    ]
    return "Customer reviews:\n" + "\n".join(lines) if lines else ""


def _snippets_text(snippets: Any) -> str:
    if not isinstance(snippets, list):
        return ""
    lines = []
    for snippet in snippets:
        text = snippet.get("text") if isinstance(snippet, dict) else snippet
        if isinstance(text, str) and text.strip():
            lines.append(" ".join(text.split()))
    return "\n".join(lines)


def _roles(item: LoadedProduct) -> dict[str, FieldRole] | None:
    if item.schema is None:
        return None
    return {name: field.role for name, field in item.schema.fields.items()}


def _special(roles: dict[str, FieldRole] | None, role: FieldRole) -> list[str]:
    """The fields of ``role`` (by the file's schema), else the usual name."""
    if roles is None:
        return [_SPECIAL_ROLES[role]]
    return [name for name, found in roles.items() if found is role]


def _is_key_fact(key: str, roles: dict[str, FieldRole] | None) -> bool:
    if roles is not None and key in roles:
        return roles[key] is FieldRole.POLICY
    lowered = key.lower()
    return any(word in lowered for word in _KEY_FACTS)


def _embeddable(
    key: str, value: Any, hidden: frozenset[str], roles: dict[str, FieldRole] | None = None
) -> bool:
    lowered = key.lower()
    if key in hidden or lowered in _NOT_EMBEDDED_EXACT:
        return False
    if roles is not None and roles.get(key) is FieldRole.MEDIA:
        return False
    if any(word in lowered for word in _NOT_EMBEDDED):
        return False
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return False
    return value not in (None, "", [], {})


@lru_cache(maxsize=1)
def _splitter() -> Any:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_CHARS,
        chunk_overlap=CHUNK_OVERLAP,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
        keep_separator="end",
    )


def _split(text: str) -> list[str]:
    text = text.strip()
    if len(text) <= CHUNK_CHARS:
        return [text] if text else []
    return [part.strip() for part in _splitter().split_text(text) if part.strip()]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]

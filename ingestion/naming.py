"""What a field's name means: its embedding (the catalog's own MiniLM model) compared with a
one-line description of each role, so "Product Name", "Brand Name", "manufacturer" or
"availabilityStatus" need no word list; and its display label.

The descriptions were chosen on the demo, Best Buy and rupee-shop schemas and checked on
held-out ones (``evaluation/schema_eval.py``, ``docs/notes/issue-9.md``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from catalog.profile import FieldRole

Embed = Callable[[list[str]], list[list[float]]]

# Short descriptions a field name is compared with (cosine similarity of embeddings).
ROLE_DESCRIPTIONS: dict[FieldRole, str] = {
    FieldRole.IDENTIFIER: "id",
    FieldRole.TITLE: "name",
    FieldRole.DESCRIPTION: "product description, details",
    FieldRole.PRICE: "price, selling price, cost",
    FieldRole.CURRENCY: "currency",
    FieldRole.BRAND: "brand, manufacturer",
    FieldRole.CATEGORY: "category, department, product type",
    FieldRole.STOCK: "stock, inventory, quantity on hand",
    FieldRole.AVAILABILITY: "availability, in stock status",
    FieldRole.RATING: "rating, average customer stars",
    FieldRole.TAGS: "tags, keywords, labels",
    FieldRole.REVIEWS: "customer reviews",
    FieldRole.SNIPPETS: "questions and answers, bullet points, snippets",
    FieldRole.POLICY: "warranty, return policy, shipping information, guarantee",
    FieldRole.QUANTITY: "pack size, net weight, volume",
    FieldRole.MEDIA: "image, picture, thumbnail, link, url",
}


# Minimum name similarity for a field to take a role on its name's meaning.
def humanise(name: str) -> str:
    """``warrantyInformation`` -> ``warranty information``; ``Body (HTML)`` -> ``body html``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return " ".join(re.sub(r"[^\w]+|_", " ", spaced).lower().split())


def label(name: str) -> str:
    """Display label: ``warrantyInformation`` -> ``Warranty information``, ``MRP`` stays."""
    last = name.rsplit(".", 1)[-1]
    acronyms = {word.lower(): word for word in re.findall(r"\b[A-Z]{2,}\b", last)}
    spoken = [acronyms.get(word, word) for word in humanise(last).split()] or [name]
    text = " ".join(spoken)
    return text[:1].upper() + text[1:]


class FieldNamer:
    """Similarity of field names to each role description, cached per name."""

    def __init__(self, embed: Embed) -> None:
        self._embed = embed
        self._lock = threading.Lock()
        self._roles = list(ROLE_DESCRIPTIONS)
        self._role_vectors: np.ndarray | None = None
        self._cache: dict[str, dict[FieldRole, float]] = {}

    def similarities(self, names: Sequence[str]) -> dict[str, dict[FieldRole, float]]:
        with self._lock:
            if self._role_vectors is None:
                described = [f"{r.value}: {d}" for r, d in ROLE_DESCRIPTIONS.items()]
                self._role_vectors = np.asarray(self._embed(described))
            missing = [name for name in dict.fromkeys(names) if name not in self._cache]
            if missing:
                vectors = np.asarray(self._embed([humanise(n) or n for n in missing]))
                for name, row in zip(missing, vectors @ self._role_vectors.T, strict=True):
                    self._cache[name] = dict(zip(self._roles, map(float, row), strict=True))
            return {name: self._cache[name] for name in names}

    def value_similarity(self, texts: list[str], role: FieldRole) -> float:
        """Mean similarity of some values to a role's description (policy-like text is
        recognised by what it says, whatever its column is called)."""
        if not texts:
            return 0.0
        self.similarities([])  # the role vectors
        with self._lock:
            assert self._role_vectors is not None
            role_vector = self._role_vectors[self._roles.index(role)]
            vectors = np.asarray(self._embed(texts))
        return float(np.mean(vectors @ role_vector))


@lru_cache(maxsize=1)
def default_namer() -> FieldNamer:
    """The namer over the project's embedding model (loaded once per process, on first use)."""
    from catalog.embeddings import LocalEmbeddings

    return FieldNamer(LocalEmbeddings().embed_documents)

"""Shopping constraints from the shopper's words: price ranges, brands, categories, stock,
ratings and sort order, turned into :class:`Filters`.

Brands and categories come from the catalog itself (:class:`Vocabulary`); a loose word
("perfume", "laptops", "phone") only becomes a category filter when it points at exactly one
catalog category, so "watch" filters nothing in a catalog with men's and women's watches,
while "women's watch" does.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from catalog.models import Filters, facet_key

Sort = Literal["price_asc", "price_desc", "rating_desc"]

_TOKEN = re.compile(r"[a-z0-9]+")

# Loose shopper words -> the word a catalog category name contains ("perfume" -> fragrances).
CATEGORY_SYNONYMS: dict[str, str] = {
    "perfume": "fragrances",
    "perfumes": "fragrances",
    "fragrance": "fragrances",
    "cologne": "fragrances",
    "colognes": "fragrances",
    "scent": "fragrances",
    "scents": "fragrances",
    "phone": "smartphones",
    "phones": "smartphones",
    "smartphone": "smartphones",
    "cellphone": "smartphones",
    "cellphones": "smartphones",
    "laptop": "laptops",
    "notebook": "laptops",
    "notebooks": "laptops",
    "tablet": "tablets",
    "ipad": "tablets",
    "ipads": "tablets",
    "makeup": "beauty",
    "cosmetics": "beauty",
    "jewelry": "jewellery",
    "jewellery": "jewellery",
    "earring": "jewellery",
    "earrings": "jewellery",
    "dress": "dresses",
    "gown": "dresses",
    "gowns": "dresses",
    "frock": "dresses",
    "frocks": "dresses",
    "shirt": "shirts",
    "bag": "bags",
    "handbag": "bags",
    "handbags": "bags",
    "purse": "bags",
    "purses": "bags",
    "backpack": "bags",
    "backpacks": "bags",
    "motorcycles": "motorcycle",
    "motorbike": "motorcycle",
    "motorbikes": "motorcycle",
    "car": "vehicle",
    "cars": "vehicle",
    "vehicles": "vehicle",
    "suv": "vehicle",
    "suvs": "vehicle",
    "skincare": "skin",
    "grocery": "groceries",
    "food": "groceries",
    "cookware": "kitchen",
    "utensils": "kitchen",
    "decor": "decoration",
    "shoe": "shoes",
    "sneakers": "shoes",
    "sneaker": "shoes",
    "trainers": "shoes",
    "heels": "shoes",
    "watch": "watches",
    "wristwatch": "watches",
    "wristwatches": "watches",
    "shades": "sunglasses",
}
# "phone case", "watch strap": the loose word names what the accessory is for, not the item.
_ACCESSORY_NOUNS = frozenset(
    [
        "case",
        "cases",
        "cover",
        "covers",
        "charger",
        "chargers",
        "accessory",
        "accessories",
        "stand",
        "holder",
        "cable",
        "lamp",
        "stick",
        "strap",
        "straps",
        "band",
        "bands",
        "box",
    ]
)
_GENDER = {
    "men": "mens",
    "mens": "mens",
    "man": "mens",
    "male": "mens",
    "women": "womens",
    "womens": "womens",
    "woman": "womens",
    "ladies": "womens",
    "lady": "womens",
    "female": "womens",
}
# Words that make an ambiguous brand ("Apple" is also a fruit) mean the brand.
_BRAND_CUES = frozenset(
    ["products", "product", "brand", "brands", "devices", "device", "gadgets", "items", "made"]
)
# Category words too generic to filter on by themselves.
_WEAK_CATEGORY_WORDS = frozenset(
    ["accessories", "home", "mens", "womens", "top", "skin", "sports", "mobile"]
)

_NUM = r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
_MONEY = rf"(?:\$|usd\s*)?\s*{_NUM}\s*(?:dollars?|usd|bucks|\$)?"
_THOUSANDS = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*k\b")
_UNIT_AFTER = re.compile(
    r"\s*(?:\+\s*)?(?:stars?|rating|%|percent|days?|weeks?|months?|years?|units?|pieces?|"
    r"items?|kg|g|lbs?|inch(?:es)?|cm|mm|gb|tb|mah|w|hours?|minutes?)\b"
)
_MAX_WORDS = (
    r"under|below|beneath|less\s+than|cheaper\s+than|up\s+to|at\s+most|no\s+more\s+than|"
    r"not\s+more\s+than|max(?:imum)?(?:\s+of)?|within|budget(?:\s+of|\s+is)?|<=?"
)
_MIN_WORDS = (
    r"over|above|more\s+than|greater\s+than|at\s+least|no\s+less\s+than|starting\s+at|"
    r"min(?:imum)?(?:\s+of)?|>=?"
)
_RANGE = re.compile(
    rf"(?:between|from)\s+{_MONEY}\s*(?:and|to|-|\u2013)\s*{_MONEY}"
    rf"|(?<![\w.]){_MONEY}\s*(?:-|\u2013|to)\s*{_MONEY}"
)
_MAX = re.compile(rf"(?:{_MAX_WORDS})\s*{_MONEY}")
_MIN = re.compile(rf"(?:{_MIN_WORDS})\s*{_MONEY}")
_RATING = re.compile(
    r"(?:(?:rated|rating|ratings|reviews?)\s*(?:of\s*)?(?:at\s+least|above|over|>=?|of)?\s*"
    r"(\d(?:\.\d+)?)(?![\d])\s*(?:\+|stars?|or\s+(?:more|higher|better|above)|and\s+(?:up|above))*)"
    r"|(?:(?:at\s+least|over|above|min(?:imum)?)\s*(?<!\d)(\d(?:\.\d+)?)\s*stars?)"
    r"|(?:(?<![\d.])(\d(?:\.\d+)?)\s*(?:\+\s*)?stars?\s*(?:and\s+(?:up|above)|or\s+(?:more|higher|better)|"
    r"\+|plus)?)"
)
_HIGHLY_RATED = re.compile(r"\b(?:highly|well)[\s-]rated\b|\bgood\s+reviews\b")
_SORTS: list[tuple[re.Pattern[str], Sort]] = [
    (
        re.compile(
            r"\b(?:the\s+)?(?:most\s+expensive|priciest|highest[\s-]priced?|most\s+premium)\b"
        ),
        "price_desc",
    ),
    (
        re.compile(
            r"\b(?:the\s+)?(?:cheapest|least\s+expensive|lowest[\s-]priced?|most\s+affordable|"
            r"cheap|inexpensive|budget)\b"
        ),
        "price_asc",
    ),
    (
        re.compile(
            r"\b(?:the\s+)?(?:best|highest|top)[\s-](?:rated|reviewed)\b|\bbest\s+reviews\b"
            r"|\b(?:the\s+)?(?:best|highest|top)\s+(?:customer\s+)?(?:ratings?|reviews?|stars)\b"
        ),
        "rating_desc",
    ),
]
_IN_STOCK = re.compile(r"\b(?:in[\s-]stock|available\s+now|currently\s+available)\b")
# "Is the X in stock?" asks about stock; it is not a filter.
_STOCK_QUESTION = re.compile(
    r"^\s*(?:is|are|was|were|does|do)\s+(?:the|it|this|that|they|these|those|its|their)\b"
    r"|^\s*(?:is|are)\s+\w+(?:\s+\w+){0,6}\s+(?:still\s+)?in[\s-]stock\s*\??\s*$"
    r"|\bhow\s+many\b|\bstill\s+in[\s-]stock\b"
)


@dataclass(frozen=True)
class CatalogEntry:
    product_id: str
    title: str
    tokens: tuple[str, ...]
    brand_key: str | None


@dataclass
class Vocabulary:
    """Brands, categories and titles the catalog holds (from the core chunks' metadata)."""

    brands: dict[str, str] = field(default_factory=dict)  # brand_key -> display name
    categories: dict[str, str] = field(default_factory=dict)  # category_key -> display name
    products: list[CatalogEntry] = field(default_factory=list)
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)  # product_id -> price, rating
    _category_words: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_metadatas(cls, metadatas: Iterable[dict[str, Any]]) -> Vocabulary:
        vocabulary = cls()
        for meta in metadatas:
            brand, category = meta.get("brand"), meta.get("category")
            if isinstance(brand, str) and brand.strip():
                vocabulary.brands.setdefault(facet_key(brand), brand)
            if isinstance(category, str) and category.strip():
                vocabulary.categories.setdefault(facet_key(category), category)
            title = str(meta.get("title") or "")
            if meta.get("product_id") is not None:
                vocabulary.facts[str(meta["product_id"])] = {
                    "price": meta.get("price"),
                    "rating": meta.get("rating"),
                }
            if title and meta.get("product_id") is not None:
                vocabulary.products.append(
                    CatalogEntry(
                        product_id=str(meta["product_id"]),
                        title=title,
                        tokens=tuple(_tokens(title)),
                        brand_key=facet_key(brand) if isinstance(brand, str) else None,
                    )
                )
        # Which categories each word of a category name points at ("watches" -> 2 of them).
        for key in vocabulary.categories:
            for word in _tokens(key):
                vocabulary._category_words.setdefault(word, []).append(key)
                if word.endswith("s") and len(word) > 3:
                    vocabulary._category_words.setdefault(word[:-1], []).append(key)
        return vocabulary

    @classmethod
    def from_store(cls, store: Any) -> Vocabulary:
        return cls.from_metadatas(store.core_metadatas())

    def titles_in(self, tokens: list[str]) -> list[tuple[CatalogEntry, int, int]]:
        """Products whose whole title (two words or more) appears in ``tokens``, longest first,
        as (entry, start, end) token spans that do not overlap."""
        found: list[tuple[CatalogEntry, int, int]] = []
        taken: set[int] = set()
        for entry in sorted(self.products, key=lambda entry: -len(entry.tokens)):
            size = len(entry.tokens)
            if size < 2 or size > len(tokens):
                continue
            for start in range(len(tokens) - size + 1):
                if tuple(tokens[start : start + size]) == entry.tokens and not taken.intersection(
                    range(start, start + size)
                ):
                    found.append((entry, start, start + size))
                    taken.update(range(start, start + size))
                    break
        return found

    def category_for(self, word: str, gender: str | None) -> str | None:
        """The one category a loose word points at, or None when it is ambiguous or unknown."""
        target = CATEGORY_SYNONYMS.get(word, word)
        keys = self._category_words.get(target) or self._category_words.get(word) or []
        keys = list(dict.fromkeys(keys))
        if gender is not None and len(keys) > 1:
            keys = [key for key in keys if gender in _tokens(key)]
        if len(keys) == 1:
            if word in _WEAK_CATEGORY_WORDS and gender is None:
                return None
            return keys[0]
        return None


class VocabularyCache:
    """A ``vocabulary_provider`` for :class:`Retriever`: the vocabulary is rebuilt from the
    store only when the keyword index (rebuilt by every ingestion) changed generation."""

    def __init__(self, store: Any, keyword: Any) -> None:
        self._store = store
        self._keyword = keyword  # catalog.search.KeywordIndexHandle
        self._generation: str | None = None
        self._vocabulary: Vocabulary | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Vocabulary:
        generation = self._keyword.get().generation
        with self._lock:
            if self._vocabulary is None or generation != self._generation:
                self._vocabulary = Vocabulary.from_store(self._store)
                self._generation = generation
            return self._vocabulary


@dataclass
class ParsedConstraints:
    filters: Filters
    sort: Sort | None
    query: str  # the message without its constraint words
    mentioned: list[str] = field(default_factory=list)  # product ids named by full title


def parse_constraints(message: str, vocabulary: Vocabulary) -> ParsedConstraints:
    """Filters, sort order and the remaining search words of one shopper message."""
    text = " " + message.lower().replace("\u2019", "'") + " "
    text = _THOUSANDS.sub(lambda m: f"{float(m.group(1)) * 1000:g}", text)
    found: dict[str, Any] = {}
    spans: list[tuple[int, int]] = []

    for match in _RATING.finditer(text):
        value = next(group for group in match.groups() if group is not None)
        rating = float(value)
        if 0 < rating <= 5:
            found["min_rating"] = rating
            spans.append(match.span())
    if "min_rating" not in found and _HIGHLY_RATED.search(text):
        found["min_rating"] = 4.0
    text = _blank(text, spans)

    spans = []
    for match in _RANGE.finditer(text):
        groups = match.groups()[:4] if match.group(1) is not None else match.groups()[4:]
        low, high = _money(groups[0], groups[1]), _money(groups[2], groups[3])
        if match.group(0).lstrip().startswith(("between", "from")) or _is_money(match.group(0)):
            found["min_price"], found["max_price"] = min(low, high), max(low, high)
            spans.append(match.span())
    text = _blank(text, spans)
    spans = []
    for pattern, key in ((_MAX, "max_price"), (_MIN, "min_price")):
        for match in pattern.finditer(text):
            if _UNIT_AFTER.match(text, match.end()):
                continue
            found[key] = _money(match.group(1), match.group(2))
            spans.append(match.span())
    text = _blank(text, spans)

    sort: Sort | None = None
    spans = []
    for pattern, order in _SORTS:
        sort_match = pattern.search(text)
        if sort_match and sort is None:
            sort = order
            spans.append(sort_match.span())
    text = _blank(text, spans)

    stock = _IN_STOCK.search(text)
    if stock and not _STOCK_QUESTION.search(message.lower()):
        found["in_stock"] = True
        text = _blank(text, [stock.span()])

    tokens = _tokens(text)
    titles = vocabulary.titles_in(tokens)
    outside = [
        token if not any(start <= i < end for _, start, end in titles) else ""
        for i, token in enumerate(tokens)
    ]
    brand = _find_brand(outside, vocabulary)
    category = _find_category(outside, vocabulary)
    if brand is not None:
        found["brand"] = vocabulary.brands[brand]
    if category is not None:
        found["category"] = vocabulary.categories[category]

    if found.get("min_price", 0.0) > found.get("max_price", float("inf")):
        found.pop("min_price")
    query = " ".join(re.sub(r"[$]", " ", text).split()).strip(" ,.;:-")
    return ParsedConstraints(
        filters=Filters(**found),
        sort=sort,
        query=query,
        mentioned=[entry.product_id for entry, _, _ in titles],
    )


def merge_filters(parsed: Filters, explicit: Filters | None) -> Filters:
    """Explicit request filters win field by field; a parsed bound that contradicts an explicit
    one is dropped."""
    if explicit is None:
        return parsed
    merged = parsed.model_dump(exclude_none=True)
    merged.update(explicit.model_dump(exclude_none=True))
    low, high = merged.get("min_price"), merged.get("max_price")
    if low is not None and high is not None and low > high:
        for key in ("min_price", "max_price"):
            if getattr(explicit, key) is None:
                merged.pop(key)
    return Filters(**merged)


# -- helpers -------------------------------------------------------------------------------
def category_words(category: str) -> set[str]:
    """Words a shopper may use for ``category``: its own words and the loose forms above."""
    own = set(_tokens(category))
    singular = {word[:-1] for word in own if word.endswith("s") and len(word) > 3}
    loose = {word for word, target in CATEGORY_SYNONYMS.items() if target in own | singular}
    return own | singular | loose


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("'", ""))


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _money(whole: str, fraction: str | None) -> float:
    value = float(whole.replace(",", ""))
    if fraction:
        value += float("0." + fraction)
    return value


def _is_money(fragment: str) -> bool:
    return bool(re.search(r"\$|dollar|usd|bucks", fragment))


def _find_brand(tokens: list[str], vocabulary: Vocabulary) -> str | None:
    cue = any(token in _BRAND_CUES for token in tokens)
    for key in sorted(vocabulary.brands, key=lambda key: -len(key)):
        words = _tokens(key)
        if not words:
            continue
        for start in range(len(tokens) - len(words) + 1):
            if tokens[start : start + len(words)] != words:
                continue
            if _brand_is_ambiguous(key, words, vocabulary) and not (
                cue or _category_nearby(tokens, vocabulary)
            ):
                continue
            return key
    return None


def _brand_is_ambiguous(key: str, words: list[str], vocabulary: Vocabulary) -> bool:
    # A brand that is also the whole name of another brand's product ("Apple" the fruit).
    return any(
        list(entry.tokens) == words and entry.brand_key != key for entry in vocabulary.products
    )


def _category_nearby(tokens: list[str], vocabulary: Vocabulary) -> bool:
    return _find_category(tokens, vocabulary) is not None


def _find_category(tokens: list[str], vocabulary: Vocabulary) -> str | None:
    for i, token in enumerate(tokens):
        if not token:
            continue
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if following in _ACCESSORY_NOUNS:
            continue
        nearby = tokens[max(0, i - 3) : i] + tokens[i + 1 : i + 4]
        gender = next((_GENDER[word] for word in nearby if word in _GENDER), None)
        key = vocabulary.category_for(token, gender)
        if key is not None:
            return key
    # Whole category names written out ("kitchen accessories", "home decoration").
    joined = " ".join(token for token in tokens if token)
    for key in vocabulary.categories:
        if " ".join(_tokens(key)) in joined and len(_tokens(key)) > 1:
            return key
    return None

"""From one shopper message (and the conversation so far) to the products to answer from.

Steps: parse constraints from the words -> resolve follow-ups against earlier turns (rewrite
the query, carry referenced products over) -> merge with explicit filters (explicit win) ->
hybrid search -> relax constraints when nothing matches -> sort when asked.

Relaxation order, least important first: ``min_rating``, ``in_stock``, the price bounds,
``brand``, ``category``. A shopper asking for "laptops under $5" wants to learn that no laptop
is that cheap and see the cheapest laptops, not cheap mugs; so the price goes before the kind of
product, and when a price bound is dropped the remaining hits are ordered by how close they come
to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from catalog.models import Filters, ProductHit
from service.answering.constraints import (
    ParsedConstraints,
    Sort,
    Vocabulary,
    merge_filters,
    parse_constraints,
)
from service.answering.guard import parse_citations
from service.answering.types import RetrievedContext, Turn

# Dropped one after another until something matches (see the module docstring).
RELAX_ORDER: tuple[tuple[str, ...], ...] = (
    ("min_rating",),
    ("in_stock",),
    ("min_price", "max_price"),
    ("brand",),
    ("category",),
)
# A sorted answer ranks this many candidates (enough to hold the largest demo category).
_SORT_POOL = 40

_ORDINALS = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
    "fifth": 4,
    "5th": 4,
    "last": -1,
}
_ORDINAL = re.compile(
    r"\bthe (first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\b"
    r"|\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last) (?:one|item|product|option)\b"
)
_SINGULAR_REF = re.compile(r"\b(it|its|it's|this|that|this one|that one|the one|same)\b")
_PLURAL_REF = re.compile(r"\b(they|them|their|these|those|both|either|each of them|all of them)\b")
_CHEAPER = re.compile(r"\b(cheaper|cheapest|less expensive|least expensive|lower[- ]priced)\b")
_PRICIER = re.compile(r"\b(pricier|priciest|more expensive|most expensive|higher[- ]priced)\b")
_BETTER = re.compile(r"\b(better|best|higher|highest)[- ]rated\b|\bbetter reviews\b")
# "the cheaper one", "cheapest of them": a comparison among products already shown.
_COMPARATIVE_REF = re.compile(
    r"\b(?:one|ones|option|of them|of those|of these|of the two|of the three)\b"
    r"|\bthe (?:cheaper|cheapest|pricier|priciest|more expensive|most expensive|better|best)\b"
)
_REFINE = re.compile(r"^\s*(what about|how about|and|any|only|just|what if|show me only)\b")
# Words that carry no product meaning: a message made only of them is a follow-up.
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "could",
        "do",
        "does",
        "did",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "their",
        "them",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "much",
        "many",
        "long",
        "one",
        "ones",
        "please",
        "tell",
        "about",
        "also",
        "same",
        "then",
        "else",
        "other",
        "does",
        "doesnt",
        "dont",
        "is",
        "isnt",
        "come",
        "comes",
        "get",
        "ship",
        "shipping",
        "price",
        "cost",
        "costs",
        "warranty",
        "return",
        "returns",
        "policy",
        "stock",
        "available",
        "availability",
        "brand",
        "rating",
        "rated",
        "stars",
        "weight",
        "weigh",
        "heavy",
        "dimensions",
        "size",
        "big",
        "minimum",
        "order",
        "quantity",
        "delivery",
        "deliver",
        "arrive",
        "make",
        "makes",
        "made",
        "by",
        "more",
        "less",
        "cheaper",
        "pricier",
        "better",
        "good",
        "ok",
        "okay",
        "ok?",
        "yes",
        "no",
        "thanks",
        "thank",
        "really",
        "would",
        "should",
        "need",
        "want",
        "buy",
        "order",
        "s",
    ]
)
_WORD = re.compile(r"[a-z0-9]+")


class Searcher(Protocol):
    def search(self, query: str, k: int, filters: Filters | None = None) -> list[ProductHit]: ...

    def products(self, product_ids: Sequence[str]) -> list[ProductHit]: ...


@dataclass
class _FollowUp:
    referenced: list[str]  # product ids this message is about, most relevant first
    query: str
    inherited: Filters | None  # constraints of the earlier question this one refines


class Retriever:
    def __init__(self, searcher: Searcher, vocabulary_provider: Callable[[], Vocabulary]) -> None:
        self.searcher = searcher
        self.vocabulary_provider = vocabulary_provider

    def retrieve(
        self, message: str, history: list[Turn], explicit: Filters | None, k: int
    ) -> RetrievedContext:
        vocabulary = self.vocabulary_provider()
        parsed = parse_constraints(message, vocabulary)
        follow = _resolve_follow_up(message, parsed, history, vocabulary)
        filters = parsed.filters
        if follow.inherited is not None:
            filters = merge_filters(follow.inherited, filters)
        filters = merge_filters(filters, explicit)

        sort = parsed.sort
        pool = max(k, _SORT_POOL) if sort else k
        hits, relaxed = self._search_relaxing(follow.query or message, pool, filters)
        if sort is not None:
            hits = _sorted(hits, sort)

        named = list(dict.fromkeys(follow.referenced + parsed.mentioned))
        if named:
            hits = self._put_first(named, hits)
        applied = filters
        if relaxed:
            dropped = {name for group in relaxed for name in [group.split(" ", 1)[0]]}
            applied = Filters(
                **{
                    key: value
                    for key, value in filters.model_dump(exclude_none=True).items()
                    if key not in dropped
                }
            )
        return RetrievedContext(
            message=message,
            query=follow.query or message,
            filters=applied,
            relaxed=relaxed or None,
            hits=hits[:k],
            carried_over=follow.referenced,
        )

    # -- internals --------------------------------------------------------------------------
    def _search_relaxing(
        self, query: str, k: int, filters: Filters
    ) -> tuple[list[ProductHit], list[str]]:
        hits = self.searcher.search(query, k, filters)
        if hits or filters.is_empty():
            return hits, []
        current = filters.model_dump(exclude_none=True)
        relaxed: list[str] = []
        price_bounds: dict[str, float] = {}
        for group in RELAX_ORDER:
            present = [name for name in group if name in current]
            if not present:
                continue
            for name in present:
                value = current.pop(name)
                if name in ("min_price", "max_price"):
                    price_bounds[name] = value
                relaxed.append(f"{name} {_describe(value)}")
            hits = self.searcher.search(query, k, Filters(**current) if current else None)
            if hits:
                break
        if price_bounds:
            hits = _nearest_to_price(hits, price_bounds)
        return hits, relaxed

    def _put_first(self, product_ids: list[str], hits: list[ProductHit]) -> list[ProductHit]:
        found = {hit.product_id: hit for hit in hits}
        missing = [pid for pid in product_ids if pid not in found]
        if missing:
            for hit in self.searcher.products(missing):
                found[hit.product_id] = hit
        first = [found[pid] for pid in product_ids if pid in found]
        rest = [hit for hit in hits if hit.product_id not in set(product_ids)]
        return first + rest


def _resolve_follow_up(
    message: str, parsed: ParsedConstraints, history: list[Turn], vocabulary: Vocabulary
) -> _FollowUp:
    """Which earlier products (if any) the message refers to, and the query to search with."""
    query = parsed.query or message
    if not history or parsed.mentioned:
        return _FollowUp([], query, None)
    lowered = message.lower().replace("\u2019", "'")
    words = _WORD.findall(lowered.replace("'", ""))
    content = [word for word in words if word not in _FUNCTION_WORDS and not word.isdigit()]
    own_subject = bool(parsed.filters.brand or parsed.filters.category)
    ordinal = _ORDINAL.search(lowered)
    comparative = _COMPARATIVE_REF.search(lowered)
    # "the second one", "the cheaper one", "them": the latest list shown, not a single answer.
    several = bool(ordinal or comparative or _PLURAL_REF.search(lowered))
    earlier = _earlier_products(history, vocabulary, several=several)

    referenced: list[str] = []
    if earlier:
        if ordinal:
            position = _ORDINALS[ordinal.group(1) or ordinal.group(2)]
            if -len(earlier) <= position < len(earlier):
                referenced = [earlier[position]]
        elif comparative and _CHEAPER.search(lowered):
            referenced = [_extreme(earlier, vocabulary, "price", lowest=True)]
        elif comparative and _PRICIER.search(lowered):
            referenced = [_extreme(earlier, vocabulary, "price", lowest=False)]
        elif comparative and _BETTER.search(lowered):
            referenced = [_extreme(earlier, vocabulary, "rating", lowest=False)]
        elif own_subject:
            referenced = []  # "is it possible to get laptops under 500?" is a new search
        elif _PLURAL_REF.search(lowered):
            referenced = list(earlier)
        elif _SINGULAR_REF.search(lowered) or not content:
            referenced = [earlier[0]]
    if referenced:
        titles = " ".join(_title(vocabulary, pid) for pid in referenced[:3])
        return _FollowUp(referenced, f"{titles} {query}".strip(), None)

    # "what about under $500?": the earlier question, refined by new constraints.
    previous = next((turn.content for turn in reversed(history) if turn.role == "user"), None)
    if previous and not own_subject and (_REFINE.search(lowered) or not content):
        earlier_parsed = parse_constraints(previous, vocabulary)
        base = earlier_parsed.query or previous
        extra = " ".join(
            word
            for word in _WORD.findall(parsed.query.lower())
            if word not in _FUNCTION_WORDS and not _REFINE.match(word)
        )
        return _FollowUp([], f"{base} {extra}".strip(), earlier_parsed.filters)
    return _FollowUp([], query, None)


def _earlier_products(
    history: list[Turn], vocabulary: Vocabulary, *, several: bool = False
) -> list[str]:
    """Products of the latest turn that named any (with ``several``: at least two, falling
    back to any): cited ids, else full titles, in order of mention."""
    known = {entry.product_id for entry in vocabulary.products}
    fallback: list[str] = []
    for turn in reversed(history):
        products = [pid for pid in parse_citations(turn.content) if not known or pid in known]
        if not products:
            tokens = _WORD.findall(turn.content.lower().replace("'", ""))
            named = sorted(vocabulary.titles_in(tokens), key=lambda item: item[1])
            products = [entry.product_id for entry, _, _ in named]
        products = list(dict.fromkeys(products))
        if products and (not several or len(products) > 1):
            return products
        fallback = fallback or products
    return fallback


def _title(vocabulary: Vocabulary, product_id: str) -> str:
    for entry in vocabulary.products:
        if entry.product_id == product_id:
            return entry.title
    return ""


def _extreme(product_ids: list[str], vocabulary: Vocabulary, field: str, *, lowest: bool) -> str:
    values = {pid: vocabulary.facts.get(pid, {}).get(field) for pid in product_ids}
    known = [(value, pid) for pid, value in values.items() if isinstance(value, int | float)]
    if not known:
        return product_ids[0]
    return (min(known) if lowest else max(known))[1]


def _sorted(hits: list[ProductHit], sort: Sort) -> list[ProductHit]:
    field = "rating" if sort == "rating_desc" else "price"
    descending = sort != "price_asc"

    def key(hit: ProductHit) -> tuple[int, float]:
        value = hit.metadata.get(field)
        if not isinstance(value, int | float):
            return (1, 0.0)  # unknown values last
        return (0, -value if descending else value)

    return sorted(hits, key=key)


def _nearest_to_price(hits: list[ProductHit], bounds: dict[str, float]) -> list[ProductHit]:
    low, high = bounds.get("min_price"), bounds.get("max_price")

    def distance(hit: ProductHit) -> float:
        price = hit.metadata.get("price")
        if not isinstance(price, int | float):
            return float("inf")
        if high is not None and price > high:
            return price - high
        if low is not None and price < low:
            return low - price
        return 0.0

    return sorted(hits, key=distance)


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

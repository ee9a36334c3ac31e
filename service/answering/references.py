"""Which products a message names: by full or partial title, or by pointing back at earlier
turns (ordinals, pronouns).

Names are matched on title words weighted by IDF over the catalog's titles, so "iPhone X"
finds the iPhone X and not the iPhone 9, "Beats Flex" finds "Beats Flex Wireless Earphones",
and "watch" names no product (it is a word of many titles). A product explains the message
words it matched; several products are picked greedily, each needing distinctive words the
earlier picks did not explain ("compare the AirPods and the Beats Flex" names two).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from catalog.text import tokens
from service.answering.catalog_view import CatalogView
from service.answering.mentions import (
    begins_another,
    best_cluster,
    contradicted,
    is_stop,
    name_end,
    strange_neighbour,
)

How = Literal["name", "partial", "ordinal", "pronoun"]

# A product is named when its title words cover this share of its own IDF mass...
FULL_TITLE = 0.999
TITLE_SHARE = 0.5
# ...or when the matched words are rare enough on their own (a model number, a product line):
# at least this many times the IDF of a word held by one title in a hundred.
DISTINCTIVE = 1.6
MAX_PRODUCTS = 4
MAX_LISTED = 10  # products of an earlier list a follow-up superlative ranks

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
_ORDINAL = re.compile(r"\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\b")
# "the first two", "the last 3": several listed products at once.
_FIRST_N = re.compile(r"\b(first|last|top)\s+(two|three|four|2|3|4)\b")
_SMALL = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}
_SINGULAR = re.compile(r"\b(it|its|it's|this|that|this one|that one|the one|same one)\b")
_ONE = re.compile(r"\b(?:one|ones)\b")
_PLURAL = re.compile(r"\b(they|them|their|these|those|the ones|both|either|each|all of them)\b")


@dataclass(frozen=True)
class ProductRef:
    product_id: str
    title: str
    how: How
    matched: tuple[str, ...] = ()  # message words that named it
    span: tuple[int, int] | None = None  # characters of the message that named it
    # Every word that named it is also a brand or category word ("Apple" the fruit or the
    # brand): a product only when the question is about one thing.
    ambiguous: bool = False


# The ranks a tie is read on: mass, said subject, whole title, own subject words (not the
# title's share or the retrieval rank, which only pick among equals).
_TIE_RANKS = 4


def definite(message: str, ref: ProductRef) -> bool:
    """The name follows "the" ("What does the Apple sell for?")."""
    if ref.span is None:
        return False
    before = message[: ref.span[0]].split()
    return bool(before) and before[-1].lower() == "the"


def _tied(scored: list[tuple[Any, ...]], mine: tuple[Any, ...]) -> bool:
    """Another candidate matches the same words and ranks the same on everything but its
    title's length and retrieval rank (a candidate: ranks, then product id and cluster)."""
    *_, product_id, cluster = mine
    stems = {token.stem for token in cluster}
    return any(
        other[-2] != product_id
        and other[:_TIE_RANKS] == mine[:_TIE_RANKS]
        and {token.stem for token in other[-1]} == stems
        for other in scored
    )


def named_products(
    message: str, view: CatalogView, order: list[str] | None = None
) -> list[ProductRef]:
    """Products the message names, most specific first; ``order`` (retrieval rank) breaks ties."""
    every = [t for t in tokens(message) if t.text not in _POINTERS]
    content = [t for t in every if not is_stop(t.stem)]
    if not content or not view.products:
        return []
    rank = {product_id: position for position, product_id in enumerate(order or [])}
    candidates: set[str] = set()
    for token in content:
        if not token.stem.isdigit():  # a bare number names nothing by itself
            candidates |= view.title_index.get(token.stem, set())
    unit = view.word_idf_at_share(0.01)
    unique = view.word_idf_at_share(0.002)
    scored = []
    for product_id in candidates:
        entry = view.products[product_id]
        cluster = best_cluster(every, entry.name_words, view)
        if not any(not t.stem.isdigit() for t in cluster):
            continue
        if contradicted(message, every, cluster, entry.name_words):
            continue
        matched = tuple(dict.fromkeys(token.stem for token in cluster))
        mass = sum(view.word_idf(word) for word in matched if not is_stop(word))
        total = sum(view.word_idf(word) for word in entry.title_words if not is_stop(word))
        title_mass = sum(
            view.word_idf(word)
            for word in matched
            if word in entry.title_words and not is_stop(word)
        )
        share = title_mass / total if total else 0.0
        # Ties: words of the name said elsewhere in the message, first those naming the thing
        # itself ("a case for the Pixel XL": "case"); then the product the matched words name
        # rather than one made for it ("Google Pixel XL": the phone, not the "Case for Google
        # Pixel XL", whose words after "for" say what it fits); then other words ("in Mint").
        starts = {c.start for c in cluster}
        others = [t.stem for t in content if t.stem in entry.name_words and t.start not in starts]
        said_subject = sum(view.word_idf(w) for w in others if w in entry.subject_words)
        own = sum(view.word_idf(word) for word in matched if word in entry.subject_words)
        elsewhere = sum(view.word_idf(word) for word in others)
        partial_one_word = len(cluster) == 1 and share < FULL_TITLE
        if partial_one_word and strange_neighbour(every, cluster[0], view):
            continue  # "Brimtax Air Fryer" names no "Air Jordan": its other words are foreign
        if len(cluster) == 1 and strange_neighbour(every, cluster[0], view, before_only=True):
            continue  # "basmati rice" is not the catalog's "Rice": a kind it never mentions
        ranked = -rank.get(product_id, len(rank))
        whole = share >= FULL_TITLE  # a title written out in full is what the message names
        ranks = (mass, said_subject, whole, own, elsewhere, share, ranked)
        scored.append((*ranks, product_id, cluster))
    scored.sort(key=lambda item: item[:7], reverse=True)
    chosen: list[ProductRef] = []
    explained: set[int] = set()
    for candidate in scored:
        mass, _, _, _, _, share, _, product_id, cluster = candidate
        fresh = [token for token in cluster if token.start not in explained]
        fresh_mass = sum(view.word_idf(token.stem) for token in fresh)
        if not fresh or fresh_mass < 0.5 * mass:
            continue
        full = share >= FULL_TITLE
        rare = max(view.word_idf(token.stem) for token in fresh) >= unique
        if not (full or share >= TITLE_SHARE or mass >= DISTINCTIVE * unit or rare):
            continue
        entry = view.products[product_id]
        vocabulary_only = only_vocabulary([token.stem for token in fresh], view)
        if vocabulary_only and not full:
            continue  # "watch for women", "Apple": a category or a brand, not one product
        ambiguous = vocabulary_only and len(fresh) == 1
        if ambiguous and begins_another(every, cluster[0], product_id, view):
            continue  # "the Apple Watch": the brand's watch, not the fruit "Apple"
        # Words several titles hold alike, told apart only by title length or retrieval
        # rank ("screen protector for Galaxy S7" with seven of them), name a set, not one.
        ambiguous = ambiguous or (not full and _tied(scored, candidate))
        how: How = "name" if full else "partial"
        if chosen and not full and len(cluster) < 2:
            continue  # a second product needs more than one word of its name ("camera")
        span = (cluster[0].start, name_end(every, cluster, entry.name_words))
        matched = tuple(token.stem for token in cluster)
        chosen.append(ProductRef(product_id, entry.title, how, matched, span, ambiguous))
        explained |= {token.start for token in cluster}
        if len(chosen) >= MAX_PRODUCTS:
            break
    return chosen


def referenced_from_history(
    message: str, earlier: list[str], view: CatalogView
) -> list[ProductRef]:
    """Products of earlier turns the message points at: "the second one", "it", "both"."""
    if not earlier:
        return []
    lowered = message.lower().replace("\u2019", "'")
    ordinal = _ORDINAL.search(lowered)
    several = _FIRST_N.search(lowered)
    picked: list[tuple[str, How]] = []
    if several is not None:
        n = _SMALL[several.group(2)]
        chosen = earlier[-n:] if several.group(1) == "last" else earlier[:n]
        picked = [(product_id, "ordinal") for product_id in chosen]
    elif len(ordinals := _ORDINAL.findall(lowered)) >= 2:
        # "compare the first and third": each one named.
        positions = [_ORDINALS[word] for word in dict.fromkeys(ordinals)]
        in_list = [p for p in positions if -len(earlier) <= p < len(earlier)]
        picked = [(earlier[p], "ordinal") for p in in_list]
    elif ordinal is not None:
        position = _ORDINALS[ordinal.group(1)]
        if -len(earlier) <= position < len(earlier):
            picked = [(earlier[position], "ordinal")]
    elif _PLURAL.search(lowered):
        picked = [(product_id, "pronoun") for product_id in earlier[:MAX_PRODUCTS]]
    elif _SINGULAR.search(lowered):
        picked = [(earlier[0], "pronoun")]
    return [
        ProductRef(product_id, view.products[product_id].title, how)
        for product_id, how in picked
        if product_id in view.products
    ]


def listed_earlier(earlier: list[str], view: CatalogView) -> list[ProductRef]:
    """Every product of the latest answer (up to a list's length), as pointed-at products."""
    return [
        ProductRef(product_id, view.products[product_id].title, "pronoun")
        for product_id in earlier[:MAX_LISTED]
        if product_id in view.products
    ]


def pointer_spans(message: str) -> list[tuple[int, int]]:
    """Where the message points back ("the second one", "it"): words that name no attribute."""
    lowered = message.lower().replace("\u2019", "'")
    spans = [m.span() for m in _ORDINAL.finditer(lowered)]
    spans += [m.span() for m in _ONE.finditer(lowered)]
    return spans


def points_back(message: str) -> bool:
    """The message refers to something said before (a pronoun or an ordinal)."""
    lowered = message.lower().replace("\u2019", "'")
    return bool(_ORDINAL.search(lowered) or _PLURAL.search(lowered) or _SINGULAR.search(lowered))


_POINTERS = frozenset(_ORDINALS)


def only_vocabulary(fresh: list[str], view: CatalogView) -> bool:
    brand_words = {word for key in view.brand_words for word in view.brand_words[key]}
    return all(word in view.category_terms or word in brand_words for word in fresh)

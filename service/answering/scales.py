"""Superlatives and comparatives over any numeric attribute: "the lightest laptop", "which has
the longest warranty?", "is the X bigger than the Y?".

The words are English grammar: a graded adjective, the dimension it measures and whether more
comes first ("lightest": weight, least first). Which attribute they order by comes from the
catalog: the noun after the word when one numeric attribute's label holds it ("longest
warranty", "biggest discount"); else the dimension itself, by a label word, then by meaning
(the attribute whose label is closest to "weight" in embedding space, when it is close enough
and clearly closest). Open quantifiers ("most", "highest", "fewest") order only by an attribute
the following words name ("the most stock"). A graded word this catalog has nothing to order
by is still reported (``key`` None), so the answer can say its list is not in that order.
Price and rating have their own words (constraints.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from catalog.profile import AttributeProfile, FieldRole
from catalog.text import content_words, fold, has_digit, tokens
from service.answering.attribute_index import AttributeIndex
from service.answering.attributes import ASKED_SIMILARITY, MARGIN, named_by_word
from service.answering.catalog_view import CatalogView
from service.answering.measures import measure

# (superlative, comparative, dimension measured, more first). A dimension of None: an open
# quantifier, meaningful only with the attribute it is followed by.
_GRADES: tuple[tuple[str, str | None, str | None, bool], ...] = (
    ("heaviest", "heavier", "weight", True),
    ("lightest", "lighter", "weight", False),
    ("biggest", "bigger", "size", True),
    ("largest", "larger", "size", True),
    ("smallest", "smaller", "size", False),
    ("longest", "longer", "length", True),
    ("shortest", "shorter", "length", False),
    ("tallest", "taller", "height", True),
    ("widest", "wider", "width", True),
    ("narrowest", "narrower", "width", False),
    ("deepest", "deeper", "depth", True),
    ("shallowest", "shallower", "depth", False),
    ("thickest", "thicker", "thickness", True),
    ("thinnest", "thinner", "thickness", False),
    ("newest", "newer", "date", True),
    ("latest", None, "date", True),
    ("oldest", "older", "date", False),
    ("most", "more", None, True),
    ("highest", "higher", None, True),
    ("greatest", "greater", None, True),
    ("maximum", None, None, True),
    ("least", "less", None, False),
    ("fewest", "fewer", None, False),
    ("lowest", "lower", None, False),
    ("minimum", None, None, False),
)
_WORDS = {
    word: (superlative, comparative or superlative, dimension, more_first, word == superlative)
    for superlative, comparative, dimension, more_first in _GRADES
    for word in (superlative, comparative)
    if word is not None
}
_HEAD_WORDS = 3  # the noun a graded word applies to follows within three words
_DERIVED_CHARS = 5  # "popular" -> "popularity"; "cat" is no stem of "category"
# How answers say the price and rating orders: (of two, of several).
PRICE_RATING_WORDS = {
    ("price", False): ("cheaper", "cheapest"),
    ("price", True): ("more expensive", "most expensive"),
    ("rating", True): ("better rated", "best rated"),
}
_BOUND = re.compile(r"^\s*than\s+\d")  # "more than 2": a bound, not an order
_BREAK = re.compile(r"[,;:?!.]")
_IDIOM = re.compile(r"\b(?:no|any)\s+$")  # "no longer available", "any more"
# "lasts longest" is time, "the longest sofa" space: only a label naming it decides.
_TIME_OR_SPACE = frozenset({"length"})
_HOW_ADJECTIVES = {
    "heavy": "weight",
    "big": "size",
    "large": "size",
    "small": "size",
    "long": "length",
    "tall": "height",
    "high": "height",
    "wide": "width",
    "deep": "depth",
    "thick": "thickness",
}
_HOW = re.compile(r"\bhow\s+(" + "|".join(_HOW_ADJECTIVES) + r")\b")
_ROLES = {
    FieldRole.STOCK,
    FieldRole.POLICY,
    FieldRole.QUANTITY,
    FieldRole.NUMBER,
    FieldRole.TEXT,
    FieldRole.OTHER,
}
_ORDERED_TYPES = ("number", "quantity", "date")


@dataclass(frozen=True)
class Scale:
    word: str  # as the shopper wrote it
    superlative: bool
    descending: bool  # more first
    key: str | None  # the attribute ordered by; None: nothing in this catalog measures it
    label: str | None
    component: str | None  # the dimension, for objects of several numbers ("width")
    span: tuple[int, int]
    forms: tuple[str, str]  # (comparative, superlative) as answers say them
    noun: str | None = None  # the words that named the attribute ("warranty"), if any
    adjective: bool = False  # those words describe the product ("more popular")

    @property
    def order(self) -> str | None:
        if self.key is None:
            return None
        return f"{self.key}_{'desc' if self.descending else 'asc'}"


def first_words(order: str, scale: Scale | None) -> str | None:
    """What the first product of a list in this order is ("lightest", "cheapest")."""
    if scale is not None and scale.order == order:
        return scale.forms[1]
    found = PRICE_RATING_WORDS.get(split_order(order))
    return found[1] if found else None


def winning_words(compare_on: str, scale: Scale | None) -> tuple[str, ...]:
    """How an answer names a comparison's winner: "cheaper", "cheapest", "lighter", "more
    popular", "more stock"."""
    if scale is not None and scale.order == compare_on:
        if scale.noun:
            return tuple(f"{form} {scale.noun}" for form in scale.forms)
        return scale.forms
    return PRICE_RATING_WORDS.get(split_order(compare_on), ())


def split_order(order: str) -> tuple[str, bool]:
    """``"weight_asc"`` -> ``("weight", False)``: the key (which may hold "_") and descending."""
    key, _, direction = order.rpartition("_")
    return key, direction == "desc"


def find_scale(
    text: str, view: CatalogView, index: AttributeIndex, embed: Callable[[str], np.ndarray]
) -> Scale | None:
    """The first graded word of ``text`` (folded) and the attribute it orders by."""
    title_words = view.idf
    candidates = ordered_attributes(view)
    for token in tokens(text):
        grade = _WORDS.get(token.text)
        if grade is None:
            continue
        superlative, comparative, dimension, more_first, is_superlative = grade
        after = text[token.end :]
        if _BOUND.match(after) or (not is_superlative and _IDIOM.search(text[: token.start])):
            continue
        head, head_end = _head(after)
        attribute, adjective = _named_by_head(head, candidates)
        if attribute is not None and token.text in _label_words(attribute):
            continue  # "the minimum order quantity": the label, not an order
        named = attribute is not None
        if attribute is not None:
            head, head_end = _naming(after, head_end, attribute)
        if attribute is None and token.stem in title_words:
            continue  # a catalog selling lighters: "lighter" names them, unless it grades one
        if attribute is None and dimension is not None:
            attribute = dimension_attribute(dimension, view, index, embed)
        if attribute is None and dimension is None:
            continue  # "tell me more": an open quantifier orders only by what it names
        forms = _forms(superlative, comparative, more_first)
        return Scale(
            word=token.text,
            superlative=is_superlative,
            descending=more_first,
            key=attribute.key if attribute else None,
            label=attribute.label if attribute else None,
            component=dimension,
            span=(token.start, token.end + head_end if named else token.end),
            forms=forms,
            noun=head if named else None,
            adjective=adjective,
        )
    return None


def unranked(words: str, span: tuple[int, int]) -> Scale:
    """A superlative this catalog has nothing to order by ("best rated" with no ratings)."""
    return Scale(words, True, True, None, None, None, span, (words, words))


def how_dimension(text: str) -> str | None:
    """The dimension a "how <adjective>" question asks ("how heavy is it?": weight)."""
    match = _HOW.search(fold(text))
    return _HOW_ADJECTIVES[match.group(1)] if match else None


def dimension_attribute(
    dimension: str, view: CatalogView, index: AttributeIndex, embed: Callable[[str], np.ndarray]
) -> AttributeProfile | None:
    """The numeric attribute that measures ``dimension``: by a label word, else by meaning
    (not for length, which may be time or space)."""
    candidates = ordered_attributes(view)
    found = named_by_word(dimension, candidates)
    if found is None and dimension not in _TIME_OR_SPACE:
        found = _closest(dimension, candidates, index, embed)
    return found


def ordered_attributes(view: CatalogView) -> list[AttributeProfile]:
    """Attributes whose values are amounts: numbers, quantities, dates, objects of numbers,
    or texts that mostly state a number ("1 year warranty", "No warranty"). Read once per view
    (measuring the examples loads pint)."""
    if view.ordered is not None:
        return view.ordered
    found = []
    for attribute in view.profile.attributes:
        if attribute.role not in _ROLES:
            continue
        if attribute.type in _ORDERED_TYPES:
            found.append(attribute)
        elif attribute.type == "object" and attribute.examples:
            if sum(map(has_digit, attribute.examples)) * 2 > len(attribute.examples):
                found.append(attribute)
        elif attribute.type == "text" and attribute.examples:
            # A number with a unit or "No ...": an amount; "BEA-ESS-001" is a code.
            amounts = [m for m in map(measure, attribute.examples) if m is not None and m.kind]
            if len(amounts) * 2 > len(attribute.examples):
                found.append(attribute)
    view.ordered = found
    return found


def _head(after: str) -> tuple[str, int]:
    """The words following a graded word, up to a clause break or "than" (and where they end)."""
    words = []
    end = 0
    for token in tokens(after)[:_HEAD_WORDS]:
        if token.text in ("than", "or", "and") or _BREAK.search(after[end : token.start]):
            break
        words.append(token.text)
        end = token.end
    return " ".join(words), end


def _named_by_head(
    head: str, candidates: list[AttributeProfile]
) -> tuple[AttributeProfile | None, bool]:
    """The attribute the words after a graded word name, and whether they name it by an
    adjective derived from its label ("more popular": "Popularity")."""
    if not head:
        return None, False
    attribute = named_by_word(head, candidates)
    if attribute is not None:
        return attribute, False
    derived = _derived(head, candidates)
    return derived, derived is not None


def _derived(head: str, candidates: list[AttributeProfile]) -> AttributeProfile | None:
    """The one attribute whose label holds a word the head's word derives from or into
    ("most popular": "Popularity"; "most discounted": "Discount"): one word begins the other,
    and the shorter has at least _DERIVED_CHARS letters."""
    said = content_words(head)
    found = {
        attribute.key: attribute
        for attribute in candidates
        for word in content_words(attribute.label)
        if any(_derives(word, other) for other in said)
    }
    return next(iter(found.values())) if len(found) == 1 else None


def _derives(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    return len(short) >= _DERIVED_CHARS and long.startswith(short) and short.isalpha()


def _naming(after: str, head_end: int, attribute: AttributeProfile) -> tuple[str, int]:
    """The head words up to the last one the attribute's label holds ("discount", not
    "discount on phones"), and where they end."""
    label = {token.stem for token in tokens(attribute.label)}
    words = tokens(after[:head_end])
    last = max(
        i
        for i, token in enumerate(words)
        if token.stem in label or any(_derives(token.stem, word) for word in label)
    )
    return " ".join(token.text for token in words[: last + 1]), words[last].end


def _closest(
    dimension: str,
    candidates: list[AttributeProfile],
    index: AttributeIndex,
    embed: Callable[[str], np.ndarray],
) -> AttributeProfile | None:
    rows = [i for i, a in enumerate(index.attributes) if any(a.key == c.key for c in candidates)]
    if not rows:
        return None
    scores = index.label_vectors[rows] @ embed(dimension)
    order = np.argsort(-scores)
    best = float(scores[order[0]])
    runner_up = float(scores[order[1]]) if len(order) > 1 else -1.0
    if best < ASKED_SIMILARITY or best - runner_up < MARGIN:
        return None
    return index.attributes[rows[int(order[0])]]


def _label_words(attribute: AttributeProfile) -> set[str]:
    return {token.text for token in tokens(attribute.label)}


def _forms(superlative: str, comparative: str, more_first: bool) -> tuple[str, str]:
    if comparative != superlative:
        return comparative, superlative
    return ("higher", "highest") if more_first else ("lower", "lowest")  # "maximum"

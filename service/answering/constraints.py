"""Shopping constraints in the shopper's words, read against the catalog's own vocabulary.

- Prices: amounts in the catalog's currency and number locale (``catalog.money.find_money``:
  symbols, codes, the currency's names, lakh grouping, "2k"), bounded by the comparison words
  around them ("under", "between ... and ..."); numbers carrying a unit ("200 ml", "5 seater")
  are never prices, and a bare number is a price only next to a comparison word.
- Ratings: a number with "stars" or next to "rated" on the catalog's rating scale.
- Brands and categories: the profile's brand names and the loose terms it learned for each
  category; a word reaching several categories filters only when other words pick one.
- Attribute conditions: a phrase of the message that is one of an attribute's own values
  ("with a 3 year warranty").
- Sort and comparison dimension: price and rating superlatives and comparatives.

The comparison and superlative words are English grammar about the two universal roles,
price and rating, not vocabulary of any catalog.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from catalog.models import Filters, facet_key
from catalog.money_text import MoneyMention, find_money
from catalog.text import fold, tokens, words
from service.answering.catalog_view import CatalogView
from service.answering.conditions import find_conditions

_MAX_CUE = re.compile(
    r"(?:under|below|beneath|less\s+than|cheaper\s+than|up\s+to|at\s+most|"
    r"max(?:imum)?(?:\s+of)?|within|budget(?:\s+of|\s+is)?|<=?|upto)\s*$"
)
_MIN_CUE = re.compile(
    r"(?:over|above|more\s+than|at\s+least|from|starting\s+at|min(?:imum)?(?:\s+of)?|>=?|"
    r"higher\s+than|pricier\s+than)\s*$"
)
# A negated bound turns around: "nothing over $30" is a ceiling, "not under 500" a floor. The
# negation may sit a few words before the cue ("don't want to spend more than").
_NEGATION = (
    r"(?:\b(?:nothing|none|no)\s+"
    r"|(?:\b(?:not|never|cannot)|n'?t)(?:\s+(?!but\b|and\b|or\b|though\b)\w+){0,3}?\s+)"
)
_NEGATED_MIN = re.compile(
    _NEGATION + r"(?:over|above|more\s+than|higher\s+than|pricier\s+than|exceeding)\s*$"
)
_NEGATED_MAX = re.compile(
    _NEGATION + r"(?:under|below|less\s+than|cheaper\s+than|lower\s+than)\s*$"
)
_NEGATION_WINDOW = 48  # characters before a number searched for a negated cue
_ABOUT_CUE = re.compile(r"(?:around|about|approximately|roughly|near|close\s+to|~)\s*$")
_RANGE_JOIN = re.compile("^\\s*(?:-|\u2013|to|and)\\s*$")  # hyphen, en dash
_BETWEEN = re.compile(r"between\s*$")
_RATING_CUE = re.compile(r"(?:rated|rating(?:\s+of)?|score(?:\s+of)?)\s*(?:at\s+least\s+)?$")
_RATING_UNIT = re.compile(r"^\s*(?:\+\s*)?(?:stars?|/\s*\d+)")
_IN_STOCK = re.compile(r"\b(?:in[\s-]stock|available\s+now|currently\s+available|ships?\s+now)\b")
_PRICE_ASC = re.compile(
    r"\b(?:cheapest|least\s+expensive|lowest[\s-]priced|lowest\s+price|most\s+affordable|"
    r"cheapest\s+one)\b"
)
_PRICE_DESC = re.compile(
    r"\b(?:most\s+expensive|priciest|highest[\s-]priced|highest\s+price|most\s+premium)\b"
)
_RATING_DESC = re.compile(
    r"\b(?:best|top|highest)[\s-]rated\b|\bbest\s+reviewed\b|\bhighest\s+rating\b|"
    r"\bbest\s+rating\b|\bmost\s+popular\b|\bhighest\s+customer\s+reviews?\b"
)
_CHEAPER = re.compile(r"\b(?:cheaper|less\s+expensive|lower[\s-]priced|costs?\s+less)\b")
_PRICIER = re.compile(r"\b(?:pricier|more\s+expensive|higher[\s-]priced|costs?\s+more)\b")
_BETTER_RATED = re.compile(r"\b(?:better|higher)[\s-]rated\b|\bbetter\s+reviews?\b")
_ABOUT_SPREAD = 0.2  # "around 500" reads as 400-600
_CUE_WINDOW = 24  # characters before a number searched for its comparison word


@dataclass
class Constraints:
    filters: Filters = field(default_factory=Filters)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    sort: str | None = None
    compare_on: str | None = None  # "price_asc" / "price_desc" / "rating_desc"
    spans: list[tuple[int, int]] = field(default_factory=list)  # characters they came from

    @property
    def any(self) -> bool:
        return not self.filters.is_empty() or bool(self.conditions or self.sort)


def parse_constraints(message: str, view: CatalogView) -> Constraints:
    text = fold(message)
    found = Constraints()
    values: dict[str, Any] = {}
    profile = view.profile
    mentions = find_money(text, profile.currency, profile.locale, profile.units)
    _read_prices(text, mentions, values, found.spans)
    _read_rating(text, mentions, values, found.spans, profile.rating_scale)
    stock = _IN_STOCK.search(text)
    if stock is not None:
        values["in_stock"] = True
        found.spans.append(stock.span())
    for pattern, sort in (
        (_PRICE_ASC, "price_asc"),
        (_PRICE_DESC, "price_desc"),
        (_RATING_DESC, "rating_desc"),
    ):
        match = pattern.search(text)
        if match is not None:
            found.spans.append(match.span())
            if sort != "rating_desc" or view.profile.rating_scale is not None:
                found.sort = sort
    for pattern, dimension in (
        (_CHEAPER, "price_asc"),
        (_PRICIER, "price_desc"),
        (_BETTER_RATED, "rating_desc"),
    ):
        match = pattern.search(text)
        if match is not None:
            found.compare_on = dimension
            found.spans.append(match.span())
    blanked = _blank(text, found.spans)
    brand = _find_brand(blanked, view)
    category = _find_category(blanked, view)
    if category is not None:
        values["category"] = category
    if brand is not None and not _inside_category_name(brand, category, view):
        values["brand"] = brand  # "Samsung Galaxy Accessories" names a category, not Samsung
    found.filters = _filters(values)
    found.conditions = find_conditions(text, view)
    return found


def _filters(values: dict[str, Any]) -> Filters:
    """Filters from what was read; a value Filters refuses (absurd, inverted) is dropped, never
    an error: the shopper's words are not a malformed request."""
    try:
        return Filters(**values)
    except ValueError:
        kept: dict[str, Any] = {}
        for name, value in values.items():
            try:
                Filters(**kept, **{name: value})
            except ValueError:
                continue
            kept[name] = value
        return Filters(**kept)


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def merge_filters(parsed: Filters, explicit: Filters | None) -> Filters:
    """Explicit filters win field by field; a range left inverted drops the parsed bound."""
    if explicit is None:
        return parsed
    merged = {**parsed.model_dump(exclude_none=True), **explicit.model_dump(exclude_none=True)}
    low, high = merged.get("min_price"), merged.get("max_price")
    if low is not None and high is not None and low > high:
        if explicit.min_price is None:
            merged.pop("min_price")
        else:
            merged.pop("max_price")
    return Filters(**merged)


# -- prices and ratings ------------------------------------------------------------------------
def _read_prices(
    text: str, mentions: list[MoneyMention], values: dict[str, Any], spans: list[tuple[int, int]]
) -> None:
    usable = [m for m in mentions if m.unit is None and math.isfinite(m.value)]
    for i, mention in enumerate(usable):
        before = text[max(0, mention.start - _CUE_WINDOW) : mention.start]
        following = usable[i + 1] if i + 1 < len(usable) else None
        joined = following is not None and _RANGE_JOIN.match(text[mention.end : following.start])
        marked = mention.has_currency_marker or (following and following.has_currency_marker)
        if joined and following is not None and (marked or _BETWEEN.search(before)):
            low, high = sorted((mention.value, following.value))
            values.setdefault("min_price", low)
            values.setdefault("max_price", high)
            spans.append((mention.start, following.end))
            continue
        context = text[max(0, mention.start - _NEGATION_WINDOW) : mention.start]
        if _NEGATED_MAX.search(context):
            values.setdefault("min_price", mention.value)
        elif _NEGATED_MIN.search(context) or _MAX_CUE.search(before):
            values.setdefault("max_price", mention.value)
        elif _MIN_CUE.search(before) and not _RANGE_JOIN.match(before[-4:]):
            values.setdefault("min_price", mention.value)
        elif _ABOUT_CUE.search(before) and mention.has_currency_marker:
            values.setdefault("min_price", round(mention.value * (1 - _ABOUT_SPREAD), 2))
            values.setdefault("max_price", round(mention.value * (1 + _ABOUT_SPREAD), 2))
        elif mention.has_currency_marker and not _is_range_end(text, usable, i):
            values.setdefault("max_price", mention.value)  # "a phone for $300": a budget
        else:
            continue
        spans.append((max(0, mention.start - len(before) + len(before.rstrip())), mention.end))
    if values.get("min_price", 0) > values.get("max_price", math.inf):
        values["min_price"], values["max_price"] = values["max_price"], values["min_price"]


def _is_range_end(text: str, mentions: list[MoneyMention], i: int) -> bool:
    return i > 0 and bool(_RANGE_JOIN.match(text[mentions[i - 1].end : mentions[i].start]))


def _read_rating(
    text: str,
    mentions: list[MoneyMention],
    values: dict[str, Any],
    spans: list[tuple[int, int]],
    scale: float | None,
) -> None:
    if scale is None:
        return
    for mention in mentions:
        after = text[mention.end : mention.end + 12]
        before = text[max(0, mention.start - 20) : mention.start]
        if mention.has_currency_marker or not 0 <= mention.value <= scale:
            continue
        if _RATING_UNIT.match(after) or _RATING_CUE.search(before):
            values["min_rating"] = mention.value
            spans.append((mention.start, mention.end + len(after)))
            return


# -- brands and categories ---------------------------------------------------------------------
def _find_brand(text: str, view: CatalogView) -> str | None:
    """The longest brand whose words appear in order, unless its word is mostly something else
    in this catalog ("apple" in a catalog of fruit and one Apple phone). A long brand may be
    said by its first two words ("kate spade" for "kate spade new york"); a brand written out
    in full wins over one only begun."""
    message = [token.stem for token in tokens(text)]
    joined = f" {' '.join(message)} "
    best: tuple[int, bool, str] | None = None
    for key, brand_words in view.brand_words.items():
        said = _said_words(brand_words, joined)
        if not said or not _mostly_brand(key, brand_words, view):
            continue
        rank = (len(said), len(said) == len(brand_words), view.brand_keys[key])
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


def _said_words(brand_words: tuple[str, ...], joined: str) -> tuple[str, ...]:
    """The brand's words the message holds in order: all, or the first two of three or more."""
    if brand_words and f" {' '.join(brand_words)} " in joined:
        return brand_words
    if len(brand_words) >= 3 and f" {' '.join(brand_words[:2])} " in joined:
        return brand_words[:2]
    return ()


def _mostly_brand(key: str, brand_words: tuple[str, ...], view: CatalogView) -> bool:
    """Of the products whose title starts with the brand's word, at least half are the
    brand's own (the Apple fruit is not; "Case for Apple iPhone" does not start with it)."""
    if len(brand_words) > 1:
        return True
    word = brand_words[0]
    holders = (view.products[product_id] for product_id in view.title_index.get(word, set()))
    leading = [entry for entry in holders if entry.first_word == word]
    if not leading:
        return True
    of_brand = sum(1 for entry in leading if facet_key(entry.brand or "") == key)
    return of_brand * 2 >= len(leading)


def _inside_category_name(brand: str, category: str | None, view: CatalogView) -> bool:
    """Every word of the brand is a word of the category's own name."""
    if category is None:
        return False
    brand_words = view.brand_words.get(facet_key(brand), ())
    return bool(brand_words) and set(brand_words) <= set(words(category.replace("-", " ")))


def _find_category(text: str, view: CatalogView) -> str | None:
    """The category whose terms the message holds most of; among equals, the one whose name
    has fewest words the message lacks ("Unlocked Cell Phones" over "All Unlocked Cell
    Phones"); None while a tie remains."""
    message = {token.stem for token in tokens(text)}
    counts: dict[str, int] = {}
    for word in message:
        for category in view.category_terms.get(word, ()):
            counts[category] = counts.get(category, 0) + 1
    if not counts:
        return None

    def rank(category: str) -> tuple[int, int]:
        unmatched = [w for w in words(category.replace("-", " ")) if w not in message]
        return counts[category], -len(unmatched)

    best = max(rank(category) for category in counts)
    top = [category for category in counts if rank(category) == best]
    if len(top) > 1:
        # "All Prepaid Phones" against "Prepaid Phones": the longest name written out wins.
        joined = f" {' '.join(token.stem for token in tokens(text))} "
        written = [c for c in top if f" {' '.join(words(c.replace('-', ' ')))} " in joined]
        top = sorted(written, key=lambda c: -len(words(c)))[:1] if written else top
    return top[0] if len(top) == 1 else None

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

from catalog.models import Filters
from catalog.money_text import MoneyMention, find_money
from catalog.text import blank, fold
from service.answering.catalog_terms import find_brand, find_category, inside_category_name
from service.answering.catalog_view import CatalogView
from service.answering.conditions import find_conditions
from service.answering.interests import interest_spans

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
    r"|(?:\b(?:not|never|cannot|dont|doesnt|didnt|wont|cant|wouldnt)|\w+n't)\b"
    r"(?:\s+(?!but\b|and\b|or\b|though\b)\w+){0,3}?\s+)"
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
# The positive degree: "a cheap phone" wants low prices first, without a superlative's claim
# to the one cheapest (a named product stays named: "is the X affordable?" asks its price).
_LOW_PRICE = re.compile(r"\b(?:cheap|inexpensive|affordable|budget|low[\s-]cost)\b")
# Likewise "well reviewed", "with good ratings": the best rated first, no claim to the best.
_WELL_RATED = re.compile(
    r"\b(?:highly|well|top)[\s-](?:rated|reviewed|liked)\b|"
    r"\b(?:good|great|positive|excellent|high|strong)\s+(?:reviews?|ratings?)\b"
)
_PRICE_DESC = re.compile(
    r"\b(?:most\s+expensive|priciest|highest[\s-]priced|highest\s+price|most\s+premium)\b"
)
_RATING_DESC = re.compile(
    r"\b(?:best|top|highest)(?:\s+\d{1,2})?[\s-]rated\b|\bbest\s+reviewed\b|\bhighest\s+rating\b|"
    r"\bbest\s+rating\b|\bmost\s+popular\b|\bhighest\s+customer\s+reviews?\b"
)
# How many to show: "top 3", "the 2 cheapest", "show me 5 best". The count follows a
# determiner: "iPhone 7 cheapest case" and "cheapest 5 inch phone" hold a model and a size.
_COUNT = re.compile(
    r"\btop\s+(\d{1,2})\b(?!\s*[.,]\d)|"
    r"(?:^|\b(?:the|me|us|your)\s+)(\d{1,2})\s+(?:cheapest|best|top|highest|most|least|lowest)\b"
)
MAX_COUNT = 10
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
    count: int | None = None  # how many the shopper asked to see ("top 3")
    foreign_currency: str | None = None  # a price given in another currency (not applied)
    unrated: str | None = None  # a rating superlative in a catalog without ratings
    # The order a positive degree leans to: "cheap" low prices first, "well reviewed" the
    # best rated first (a search sorts by it; of a named product it asks that attribute).
    leaning: str | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)  # characters they came from

    @property
    def any(self) -> bool:
        return not self.filters.is_empty() or bool(self.conditions or self.sort or self.leaning)


def parse_constraints(message: str, view: CatalogView) -> Constraints:
    text = fold(message)
    found = Constraints()
    values: dict[str, Any] = {}
    profile = view.profile
    mentions = find_money(text, profile.currency, profile.locale, profile.units, spelled=True)
    # An amount in another currency cannot be converted here: it filters nothing, and the
    # answer says so ("laptops under 1000 euros" in a dollar catalog).
    foreign = [m for m in mentions if m.currency not in (None, profile.currency) and m.is_money]
    found.foreign_currency = foreign[0].currency if foreign else None
    found.spans += [(m.start, m.end) for m in foreign]
    mentions = [m for m in mentions if m not in foreign]
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
        if match is None:
            continue
        found.spans.append(match.span())
        if sort == "rating_desc" and view.profile.rating_scale is None:
            found.unrated = match.group()  # no ratings: "most popular" may name another field
        else:
            found.sort = sort
    for pattern, leaning in ((_LOW_PRICE, "price_asc"), (_WELL_RATED, "rating_desc")):
        degree = pattern.search(text)
        if degree is None or found.sort is not None:
            continue
        found.spans.append(degree.span())  # a phrase of the order, never a word to look for
        if leaning == "rating_desc" and view.profile.rating_scale is None:
            found.unrated = found.unrated or degree.group()  # the answer says it has no ratings
        else:
            found.leaning = found.leaning or leaning
    count = _COUNT.search(text)
    if count is not None:
        found.count = min(MAX_COUNT, int(next(g for g in count.groups() if g)))
        found.spans.append(count.span())
    for pattern, dimension in (
        (_CHEAPER, "price_asc"),
        (_PRICIER, "price_desc"),
        (_BETTER_RATED, "rating_desc"),
    ):
        match = pattern.search(text)
        if match is not None:
            found.compare_on = dimension
            found.spans.append(match.span())
    blanked = blank(text, found.spans)
    brand = find_brand(blanked, view)
    category = find_category(blanked, view)
    if category is not None:
        values["category"] = category
    if brand is not None and not inside_category_name(brand, category, view):
        values["brand"] = brand  # "Samsung Galaxy Accessories" names a category, not Samsung
    found.filters = _filters(values)
    found.conditions = find_conditions(text, view)
    found.spans += interest_spans(text, view)  # "a gift for my sister who likes ..."
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

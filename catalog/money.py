"""Money in a catalog's currency and number locale: read from catalog values and shopper text,
printed for shoppers.

Everything currency- or locale-specific comes from maintained data, not from tables written
here: babel (CLDR: symbols, names and their plurals, number formats, lakh grouping, "thousand"
/ "lakh" / "crore" words) and price-parser (price strings, symbol abbreviations such as "Rs").

- :func:`parse_price` reads one catalog value ("₹1,50,000", "Rs. 300", "1.299,00 €", 12.5).
- :func:`find_money` (from ``catalog.money_text``) finds the amounts in shopper text with their
  character spans, whether a currency marker goes with them and whether a unit follows ("200 ml"
  is not a price).
- :func:`format_price` prints an amount (``₹1,50,000.00`` for INR/en_IN, ``$1,299.00``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from catalog.currencies import (
    DEFAULT_CURRENCY,
    DEFAULT_LOCALE,
    currency_code,
    currency_words,
    is_currency,
    locale_for,
    multiplier_words,
)
from catalog.money_text import MAX_AMOUNT, MoneyMention, find_money

__all__ = [
    "DEFAULT_CURRENCY",
    "DEFAULT_LOCALE",
    "MAX_AMOUNT",
    "MoneyMention",
    "ParsedPrice",
    "currency_code",
    "currency_words",
    "decimal_separator_of",
    "find_money",
    "format_price",
    "is_currency",
    "locale_for",
    "multiplier_words",
    "parse_price",
    "uses_lakh_grouping",
]


class HasCurrency(Protocol):
    currency: str
    locale: str


@dataclass(frozen=True)
class ParsedPrice:
    amount: float
    currency: str | None  # ISO 4217 code when the value carried a currency marker


# -- catalog values ----------------------------------------------------------------------------
def parse_price(
    value: Any, *, decimal_separator: str | None = None, currency_hint: str | None = None
) -> ParsedPrice | None:
    """One catalog price; None when empty; ValueError when it is not a price (words, a
    measure such as "500 ml", negative, not finite, absurdly large)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a price")
    if isinstance(value, int | float):
        return ParsedPrice(_checked(float(value), value), None)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a price")
    from price_parser import Price

    text = value.strip()
    if not any(char.isdigit() for char in text):
        raise ValueError(f"{value!r} is not a price")  # price-parser reads "Free" as 0
    for mention in find_money(text, currency_hint or DEFAULT_CURRENCY):
        if mention.unit is not None and not mention.has_currency_marker:
            raise ValueError(f"{value!r} is a measure ({mention.unit}), not a price")
    parsed = Price.fromstring(text, decimal_separator=decimal_separator)
    if parsed.amount is None or text.lstrip().startswith("-"):
        raise ValueError(f"{value!r} is not a price")
    amount = _checked(float(parsed.amount), value)
    return ParsedPrice(amount, currency_code(parsed.currency, currency_hint))


def decimal_separator_of(values: Iterable[str]) -> str | None:
    """The decimal separator a column of price strings uses: the last separator of values
    that hold both, or a separator followed by 1-2 final digits; None when nothing says."""
    votes = {".": 0, ",": 0}
    for value in values:
        digits = re.sub(r"[^\d.,]", "", value)
        if "." in digits and "," in digits:
            votes[max(".,", key=digits.rfind)] += 1
        elif match := re.search(r"[.,](\d{1,2})$", digits):
            votes[match.group(0)[0]] += 1
    best = max(votes, key=lambda symbol: votes[symbol])
    return best if votes[best] else None


def uses_lakh_grouping(values: Iterable[str]) -> bool:
    """Indian grouping ("1,50,000"): a group of two digits before the last group of three."""
    return any(re.search(r"\d,\d\d,\d{3}(?!\d)", value) for value in values)


def _checked(amount: float, original: Any) -> float:
    if not math.isfinite(amount) or amount > MAX_AMOUNT:
        raise ValueError(f"{original!r} is not a finite price")
    if amount < 0:
        raise ValueError(f"{original!r} is negative")
    return amount


# -- printing ----------------------------------------------------------------------------------
def format_price(
    value: float, currency: str | HasCurrency = DEFAULT_CURRENCY, locale: str | None = None
) -> str:
    """``150000, "INR", "en_IN"`` -> ``₹1,50,000.00``; pass a profile for its currency and
    locale. Not a finite amount -> empty string."""
    if not isinstance(currency, str):
        profile = currency
        currency, locale = profile.currency, locale or profile.locale
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return ""
    return _formatted(float(value), currency, locale or locale_for(currency))


@lru_cache(maxsize=8192)
def _formatted(value: float, currency: str, locale: str) -> str:
    # Babel builds a pattern per call (~0.2 ms); a catalog repeats few prices.
    from babel.numbers import format_currency

    return str(format_currency(value, currency, locale=locale))

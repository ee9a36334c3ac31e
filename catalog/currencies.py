"""Currencies as CLDR (babel) and price-parser know them: which ISO code a sign stands for,
how a shopper may write the catalog's currency, which words scale a number ("lakh", "k"), and
which English locale writes numbers the way a catalog does.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

from catalog.units import GENERAL_UNITS

DEFAULT_CURRENCY = "USD"
DEFAULT_LOCALE = "en_US"


def is_currency(code: str) -> bool:
    from babel.numbers import is_currency as known

    return bool(code) and known(code.upper())


def currency_code(marker: str | None, hint: str | None = None) -> str | None:
    """The ISO code a currency marker stands for: a code itself, or a symbol ("₹", "Rs", "$",
    "€"). An ambiguous symbol ("$", "kr") means ``hint`` when ``hint`` uses it, else the currency
    whose English symbol it is ("$" -> USD, "£" -> GBP); None when it stays ambiguous."""
    if not marker:
        return None
    marker = marker.strip().rstrip(".")
    if len(marker) == 3 and marker.isalpha() and is_currency(marker):
        return marker.upper()
    candidates = _symbol_codes().get(marker.lower(), ())
    if hint and hint.upper() in candidates:
        return hint.upper()
    english = [code for code in candidates if _english_symbol(code) == marker]
    if len(english) == 1:
        return english[0]
    return candidates[0] if len(candidates) == 1 else None


@lru_cache(maxsize=1)
def _symbol_codes() -> dict[str, tuple[str, ...]]:
    from price_parser._currencies import CURRENCIES

    found: dict[str, list[str]] = {}
    for code, info in CURRENCIES.items():
        for symbol in {info["s"], info["sn"], *info.get("sn2", [])}:
            found.setdefault(symbol.lower().rstrip("."), []).append(code)
    return {symbol: tuple(dict.fromkeys(codes)) for symbol, codes in found.items()}


def _english_symbol(code: str) -> str:
    from babel.numbers import get_currency_symbol

    return str(get_currency_symbol(code, "en"))


@lru_cache(maxsize=256)
def locale_for(currency: str, *, decimal: str | None = None, lakh: bool | None = None) -> str:
    """An English locale of a territory that uses ``currency`` and writes numbers as seen in
    the catalog (decimal symbol, lakh grouping); ISO 4217's own country first (INR -> en_IN)."""
    from babel import Locale
    from babel.core import get_global
    from babel.localedata import locale_identifiers
    from babel.numbers import get_decimal_symbol

    code = currency.upper()
    known = set(locale_identifiers())
    territories = sorted(
        territory
        for territory, spans in get_global("territory_currencies").items()
        if any(span[0] == code and span[2] is None and span[3] for span in spans)
    )
    territories.sort(key=lambda territory: territory != code[:2])
    candidates = [f"en_{territory}" for territory in territories if f"en_{territory}" in known]
    if not candidates:
        return DEFAULT_LOCALE

    def fits(locale: str) -> bool:
        grouping = Locale.parse(locale).decimal_formats[None].grouping
        if decimal is not None and get_decimal_symbol(locale) != decimal:
            return False
        return lakh is None or (grouping[0] != grouping[1]) == lakh

    return next((locale for locale in candidates if fits(locale)), candidates[0])


def currency_words(currency: str, locale: str) -> set[str]:
    """How a shopper may write the catalog's currency: code, symbols, names, plural names and
    their last word ("Indian rupees" -> "rupees")."""
    from babel.numbers import get_currency_name, get_currency_symbol
    from price_parser._currencies import CURRENCIES

    found = {currency}
    for where in dict.fromkeys([locale, "en"]):
        found.add(str(get_currency_symbol(currency, where)))
        for count in (1, 2):
            found.add(str(get_currency_name(currency, count=count, locale=where)))
    info = CURRENCIES.get(currency)
    if info is not None:
        found |= {info["s"], info["sn"], info["n"], info["np"], *info.get("sn2", [])}
    names = [name for name in found if " " in name]
    found |= {name.rsplit(" ", 1)[1] for name in names}
    lowered = {name.lower() for name in found}
    for name, slang in _SLANG.items():
        if name in lowered:
            found |= set(slang)
    return {word for word in found if word and not word.isdigit()}


# English slang for a currency's English name: "fifty bucks" (any dollar), "ten quid".
_SLANG = {"dollars": ("buck", "bucks"), "pounds": ("quid",)}


@lru_cache(maxsize=1)
def all_codes() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


@lru_cache(maxsize=1)
def foreign_symbols() -> frozenset[str]:
    """Symbols of any currency, matched as written: signs ("$", "€", "₹") and abbreviations
    of two letters or more that are no unit or English word ("Rs", "Rp", "kr"; not "Ft")."""
    from catalog.text import letter_words as words

    found = set()
    for code, info in _currency_info().items():
        for symbol in {info["s"], info["sn"], *info.get("sn2", [])}:
            letters = [char for char in symbol if char.isalpha()]
            signed = any(unicodedata.category(char) == "Sc" for char in symbol)
            spelled = len(letters) >= 2 and symbol != code and not _is_word(words(symbol))
            if (signed and not letters) or spelled:
                found.add(symbol)
    return frozenset(found)


def _is_word(parts: list[str]) -> bool:
    from catalog.text import stopwords

    return any(part in GENERAL_UNITS or part in stopwords() for part in parts)


def _currency_info() -> dict[str, Any]:
    from price_parser._currencies import CURRENCIES

    return dict(CURRENCIES)


@lru_cache(maxsize=32)
def multiplier_words(locale: str) -> dict[str, float]:
    """Words that scale a number, from CLDR's compact formats ("2k", "1.5 lakh", "3 crore",
    "2 million"); plurals too ("2 lakhs")."""
    from babel import Locale

    found: dict[str, float] = {}
    for where in dict.fromkeys([locale, "en"]):
        formats = Locale.parse(where).compact_decimal_formats
        for kind in ("short", "long"):
            for magnitude, pattern in formats[kind].get("other", {}).items():
                word = pattern.pattern.replace("0", "").replace("'", "").replace(".", "")
                word = word.replace("\u202f", " ").replace("\xa0", " ").strip().lower()
                if not word or " " in word or (len(word) == 1 and word != "k"):
                    continue
                zeros = pattern.pattern.count("0")
                factor = float(magnitude) / 10 ** (zeros - 1)
                found.setdefault(word, factor)
                if len(word) > 2:
                    found.setdefault(word + "s", factor)
    return found

"""Amounts in shopper text (find_money), apart from catalog.money's catalog values and printing."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from catalog.currencies import (
    DEFAULT_CURRENCY,
    all_codes,
    currency_code,
    currency_words,
    foreign_symbols,
    locale_for,
    multiplier_words,
)
from catalog.spelled_numbers import spelled_numbers
from catalog.units import COUNT_NOUNS, GENERAL_UNITS

MAX_AMOUNT = 1e12  # anything larger is a typo or an attack, never a price
_LETTER = r"[^\W\d_]"


@dataclass(frozen=True)
class MoneyMention:
    """A number in shopper text. ``unit`` set means a measure ("200 ml", "5 seater", "64GB"),
    never a price; a bare number (no marker, no unit) may be one: the caller decides."""

    value: float
    start: int
    end: int
    text: str
    has_currency_marker: bool
    currency: str | None = None  # ISO code of the marker
    unit: str | None = None
    scale: float = 1.0  # the multiplier written after it ("2 lakh", "3k")

    @property
    def is_money(self) -> bool:
        return self.has_currency_marker and self.unit is None


def find_money(
    text: str,
    currency: str = DEFAULT_CURRENCY,
    locale: str | None = None,
    units: Iterable[str] = (),
    *,
    spelled: bool = False,
) -> list[MoneyMention]:
    """Every number in ``text`` read in the catalog's locale, with its span, value (after
    "2k" / "1.5 lakh"), currency marker and unit. A range ("₹200-500", "20 to 40 dollars")
    shares its marker or unit between both ends. Numbers glued to a word ("S21") are skipped;
    values that are not finite or above 1e12 too. ``spelled``: English number words count too
    ("under fifty bucks"; shopper messages only: catalog values and answers keep digits)."""
    grammar = _grammar(currency.upper(), locale or locale_for(currency), frozenset(units))
    mentions: list[MoneyMention] = []
    for match in grammar.number.finditer(text):
        mention = grammar.read(text, match)
        if mention is not None:
            mentions.append(mention)
    words_at: set[int] = set()
    if spelled and grammar.locale.lower().startswith("en"):
        # "under fifty bucks": English number words, read like digits.
        for start, end, value in spelled_numbers(text):
            mention = grammar.mention(text, start, end, value)
            if mention is not None:
                mentions.append(mention)
                words_at.add(mention.start)
        mentions.sort(key=lambda mention: mention.start)
    shared = _share_across_ranges(text, mentions)
    # A number word is an amount only with its currency: "more than one computer" is a count.
    return [m for m in shared if m.start not in words_at or m.has_currency_marker]


class _Grammar:
    """Compiled patterns for one (currency, locale, units)."""

    def __init__(self, currency: str, locale: str, units: frozenset[str]) -> None:
        from babel.numbers import get_decimal_symbol, get_group_symbol

        self.currency = currency
        self.locale = locale
        group, decimal = get_group_symbol(locale), get_decimal_symbol(locale)
        separators = re.escape("".join(dict.fromkeys([",", ".", group, decimal])))
        # Not inside another number ("1.5", "1,299"); "Rs.100" is a marker, then a number.
        self.number = re.compile(rf"(?<![\d,])(?<!\d\.)\d+(?:[{separators}]\d+)*")
        self.own = currency_words(currency, locale)
        self.multipliers = {
            word: factor
            for word, factor in multiplier_words(locale).items()
            if word not in units and word not in GENERAL_UNITS
        }
        unit_words = {unit.lower() for unit in units} | GENERAL_UNITS
        unit_words -= {word.lower() for word in self.own}
        self.units = _alternatives(unit_words)
        foreign = {code for code in all_codes() if code != currency} | foreign_symbols()
        own, others = _alternatives(self.own), _alternatives(foreign)
        # (pattern before the number, pattern after it, is the catalog's own currency)
        self.markers = [
            (
                re.compile(rf"(?<!{_LETTER})({words})\.?\s*$", flags),
                re.compile(rf"\s*({words})(?!{_LETTER})", flags),
                is_own,
            )
            for words, flags, is_own in ((own, re.I, True), (others, 0, False))
            if words
        ]
        self.multiplier = re.compile(
            rf"\s?({_alternatives(set(self.multipliers))})(?!{_LETTER})", re.I
        )
        self.unit_after = re.compile(rf"\s*\+?\s*-?\s*({self.units})(?!{_LETTER})", re.I)
        self.unit_before = re.compile(
            rf"(?<!{_LETTER})({_alternatives(COUNT_NOUNS)})\s+of\s*$", re.I
        )

    def read(self, text: str, match: re.Match[str]) -> MoneyMention | None:
        start, end = match.span()
        return self.mention(text, start, end, self._value(match.group(0)))

    def mention(self, text: str, start: int, end: int, value: float | None) -> MoneyMention | None:
        """The number at ``text[start:end]`` (worth ``value``) with its marker, scale and unit."""
        before = text[max(0, start - 40) : start]
        marker_before = self._marker(before, before=True)
        if re.search(rf"{_LETTER}\.?$", before) and not marker_before:
            return None  # part of a model name or code: "S21", "PS5"
        after = text[end : end + 40]
        factor = 1.0
        if value is not None and self.multipliers and (scale := self.multiplier.match(after)):
            factor = self.multipliers[scale.group(1).lower()]
            value *= factor
            end += scale.end()
            after = text[end : end + 40]
        if value is None or not math.isfinite(value) or value > MAX_AMOUNT:
            return None
        marker_after = self._marker(after, before=False)
        unit = self._unit(after, before) if marker_after is None else None
        if marker_after is not None:
            end += marker_after[1]
        if marker_before is not None:
            start -= marker_before[1]
        marker = marker_before or marker_after
        return MoneyMention(
            value=float(value),
            start=start,
            end=end,
            text=text[start:end],
            has_currency_marker=marker is not None,
            currency=marker[0] if marker else None,
            unit=unit,
            scale=factor,
        )

    def _value(self, number: str) -> float | None:
        from babel.numbers import NumberFormatError, parse_decimal
        from price_parser import Price

        try:
            parsed: Decimal | None = parse_decimal(number, locale=self.locale, strict=True)
        except (NumberFormatError, InvalidOperation, ValueError):
            parsed = Price.fromstring(number).amount
        return None if parsed is None else float(parsed)

    def _marker(self, context: str, *, before: bool) -> tuple[str | None, int] | None:
        """(ISO code, or None for an ambiguous sign such as "kr"; length of the marker text)
        of a currency marker next to the number."""
        for pattern_before, pattern_after, is_own in self.markers:
            found = pattern_before.search(context) if before else pattern_after.match(context)
            if found is None:
                continue
            code = self.currency if is_own else currency_code(found.group(1), self.currency)
            return code, len(found.group(0)) if before else found.end()
        return None

    def _unit(self, after: str, before: str) -> str | None:
        if glued := re.match(rf"{_LETTER}+", after):
            return glued.group(0).lower()  # "64GB", "200ml", "5th": a measure or an ordinal
        if found := self.unit_after.match(after):
            return found.group(1).lower()
        found = self.unit_before.search(before)
        return found.group(1).lower() if found else None


@lru_cache(maxsize=32)
def _grammar(currency: str, locale: str, units: frozenset[str]) -> _Grammar:
    return _Grammar(currency, locale, units)


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(set(words), key=lambda w: (-len(w), w)))


def _share_across_ranges(text: str, mentions: list[MoneyMention]) -> list[MoneyMention]:
    """ "₹200-500", "20 to 40 dollars", "between 2 and 3 kg": both ends share a marker/unit."""
    shared = list(mentions)
    for i in range(len(shared) - 1):
        left, right = shared[i], shared[i + 1]
        between = text[left.end : right.start]
        opener = re.search(r"(?:between|from)\s*\S*\s*$", text[: left.start], re.I)
        dashes = "-\u2013\u2014"
        joiner = rf"\s*(?:[{dashes}]|to|till|until{'|and' if opener else ''})\s*"
        if not re.fullmatch(joiner, between, re.I):
            continue
        if left.scale == 1 and right.scale > 1 and left.value * right.scale <= right.value:
            # "1 and 2 lakh", "1-1.5k": the scale is said once for both ends.
            shared[i] = replace(left, value=left.value * right.scale, scale=right.scale)
        for one, other in ((i, i + 1), (i + 1, i)):
            mine, theirs = shared[one], shared[other]
            if not mine.has_currency_marker and theirs.is_money and mine.unit is None:
                shared[one] = replace(mine, has_currency_marker=True, currency=theirs.currency)
            elif mine.unit is None and theirs.unit is not None and not mine.has_currency_marker:
                shared[one] = replace(mine, unit=theirs.unit)
    return shared

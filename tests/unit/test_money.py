"""Money in the catalog's currency and locale: catalog price strings, amounts in shopper text
(symbols, codes, currency names, lakh grouping, "2k"), measures that are never prices, and
prices printed with babel."""

from __future__ import annotations

import math

import pytest

from catalog.money import (
    currency_code,
    decimal_separator_of,
    find_money,
    format_price,
    locale_for,
    parse_price,
    uses_lakh_grouping,
)
from catalog.profile import CatalogProfile


def test_prices_print_in_the_catalog_currency_and_locale() -> None:
    assert format_price(150000, "INR", "en_IN") == "₹1,50,000.00"
    assert format_price(1299, "USD", "en_US") == "$1,299.00"
    assert format_price(1299, "EUR", "de_DE") == "1.299,00\xa0€"
    profile = CatalogProfile(currency="INR", locale="en_IN")
    assert format_price(249.5, profile) == "₹249.50"
    assert format_price(9.99, "INR") == "₹9.99"  # locale derived from the currency
    assert format_price(math.inf, "USD") == "" and format_price(math.nan, "USD") == ""


# (text, currency, locale, [(value, has marker, unit)])
READINGS = [
    ("shampoo under ₹150", "INR", "en_IN", [(150, True, None)]),
    ("under Rs. 300 please", "INR", "en_IN", [(300, True, None)]),
    ("a TV under 1,50,000", "INR", "en_IN", [(150000, False, None)]),
    ("soap under 150 rupees", "INR", "en_IN", [(150, True, None)]),
    ("shampoo under 200 ml", "INR", "en_IN", [(200, False, "ml")]),
    ("5 seater sofa under 2 lakh", "INR", "en_IN", [(5, False, "seater"), (200000, False, None)]),
    ("64GB phone under $300", "USD", "en_US", [(64, False, "gb"), (300, True, None)]),
    ("between 20 and 40 dollars", "USD", "en_US", [(20, True, None), (40, True, None)]),
    ("₹200-500 range", "INR", "en_IN", [(200, True, None), (500, True, None)]),
    ("200-500 ml bottles", "INR", "en_IN", [(200, False, "ml"), (500, False, "ml")]),
    ("under 1.299,00 €", "EUR", "de_DE", [(1299, True, None)]),
    ("cheaper than 1,299", "USD", "en_US", [(1299, False, None)]),
    ("cheaper than 1,299", "EUR", "de_DE", [(1.299, False, None)]),
    ("Galaxy S21 under 800", "USD", "en_US", [(800, False, None)]),
    ("pack of 6 under 1.5k", "INR", "en_IN", [(6, False, "pack"), (1500, False, None)]),
    ("under 2k", "USD", "en_US", [(2000, False, None)]),
    ("rated 4.5 stars", "USD", "en_US", [(4.5, False, "stars")]),
    ("50% off", "USD", "en_US", [(50, False, "%")]),
    ("under 5 pounds", "GBP", "en_GB", [(5, True, None)]),  # money in a sterling shop
    ("under 5 pounds", "USD", "en_US", [(5, False, "pounds")]),  # a weight elsewhere
    ("INR 2,500 max", "INR", "en_IN", [(2500, True, None)]),
]


@pytest.mark.parametrize(("text", "currency", "locale", "expected"), READINGS)
def test_amounts_in_shopper_text(
    text: str, currency: str, locale: str, expected: list[tuple[float, bool, str | None]]
) -> None:
    found = find_money(text, currency, locale)
    assert [(m.value, m.has_currency_marker, m.unit) for m in found] == [
        (pytest.approx(value), marker, unit) for value, marker, unit in expected
    ]
    for mention in found:  # spans point at the text itself
        assert text[mention.start : mention.end] == mention.text


def test_spans_cover_the_marker_and_a_foreign_marker_is_named() -> None:
    (rupees,) = find_money("soap under Rs. 300", "INR", "en_IN")
    assert rupees.text == "Rs. 300" and rupees.currency == "INR" and rupees.is_money
    (dollars,) = find_money("a $50 phone case", "INR", "en_IN")
    assert dollars.has_currency_marker and dollars.currency == "USD"


def test_catalog_units_make_numbers_measures() -> None:
    (plain,) = find_money("10 tola gold chain", "INR", "en_IN")
    assert plain.unit is None
    (learned,) = find_money("10 tola gold chain", "INR", "en_IN", units=["tola"])
    assert learned.unit == "tola" and not learned.is_money


@pytest.mark.parametrize(
    "text",
    ["9" * 5000, "1," * 1000 + "5", "$1e308", "NaN dollars", "under $5.5.5", "₹", "", "١٢٣"],
)
def test_huge_or_malformed_numbers_never_raise(text: str) -> None:
    for mention in find_money(text, "INR", "en_IN"):
        assert math.isfinite(mention.value) and mention.value <= 1e12


def test_catalog_price_strings() -> None:
    def read(value: object) -> tuple[float, str | None] | None:
        parsed = parse_price(value)
        return None if parsed is None else (parsed.amount, parsed.currency)

    assert read("₹1,50,000") == (150000.0, "INR")
    assert read("Rs. 300") == (300.0, "INR")
    assert read("1.299,00 €") == (1299.0, "EUR")
    assert read("$1,299.00") == (1299.0, "USD")
    assert read("INR 2,499.00") == (2499.0, "INR")
    assert read(12.5) == (12.5, None) and read("") is None
    for bad in ("500 ml", "Pack of 6", "cheap", "Free", "-5", math.inf, True, "1" + "0" * 14):
        with pytest.raises(ValueError):
            parse_price(bad)


def test_number_format_and_currency_learned_from_values() -> None:
    assert decimal_separator_of(["1.299,00 €", "12,50 €"]) == ","
    assert decimal_separator_of(["₹1,299.00", "₹849.50"]) == "."
    assert decimal_separator_of(["1,299", "300"]) is None  # nothing says
    assert uses_lakh_grouping(["₹2,07,499.00"]) and not uses_lakh_grouping(["$207,499.00"])
    assert locale_for("INR") == "en_IN" and locale_for("USD") == "en_US"
    assert locale_for("GBP") == "en_GB"
    assert "1.299,00" in format_price(1299, "EUR", locale_for("EUR", decimal=","))
    assert currency_code("$") == "USD" and currency_code("$", hint="CAD") == "CAD"
    assert currency_code("Rs") == "INR" and currency_code("€") == "EUR"
    assert currency_code("kr") is None and currency_code("kr", hint="SEK") == "SEK"
    assert currency_code("inr") == "INR" and currency_code("XYZ") is None


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("under fifty bucks", [50.0]),
        ("two hundred and fifty dollars", [250.0]),
        ("twenty-five or a hundred", [25.0, 100.0]),
        ("one hundred thousand", [100000.0]),
        ("a cat and a dog", []),
    ],
)
def test_english_number_words(text: str, values: list[float]) -> None:
    from catalog.spelled_numbers import spelled_numbers

    assert [value for _, _, value in spelled_numbers(text)] == values


def test_number_words_are_read_only_when_asked() -> None:
    # Shopper messages read them; catalog values and answers (the fact guard) keep digits only.
    assert find_money("one size, fifty dollars", "USD", "en_US") == []
    spelled = find_money("one size, fifty dollars", "USD", "en_US", spelled=True)
    assert [(m.value, m.has_currency_marker) for m in spelled] == [(50.0, True)]
    # Without its currency a number word is a count, never an amount ("more than one computer").
    assert find_money("on more than one computer", "USD", "en_US", spelled=True) == []
    between = find_money("between twenty and thirty dollars", "USD", "en_US", spelled=True)
    assert [m.value for m in between] == [20.0, 30.0]
    assert find_money("fünfzig Euro", "EUR", "de_DE", spelled=True) == []  # English words only


@pytest.mark.parametrize(
    ("text", "currency", "locale", "values"),
    [
        ("sofas between 1 and 2 lakh", "INR", "en_IN", [100000.0, 200000.0]),
        ("phones for 1-1.5k", "USD", "en_US", [1000.0, 1500.0]),
        ("between 500 and 2k", "USD", "en_US", [500.0, 2000.0]),  # 500k > 2k: not shared
    ],
)
def test_a_scale_said_once_covers_both_ends_of_a_range(
    text: str, currency: str, locale: str, values: list[float]
) -> None:
    assert [m.value for m in find_money(text, currency, locale)] == values

"""What the shopper page shows: cards, notices and the filter panel (no browser, no Gradio)."""

from __future__ import annotations

import pytest

from ui.app import FilterProblem, panel_filters, parse_price
from ui.render import answer_notice, describe_relaxed, product_card, product_cards

RECORD = {
    "product_id": "1",
    "title": "Essence Mascara Lash Princess",
    "price": 9.99,
    "brand": "Essence",
    "category": "beauty",
    "stock": 99,
    "availability": "In Stock",
    "rating": 2.56,
    "in_stock": True,
}
SOURCE = {
    "product_id": "1",
    "title": "Essence Mascara Lash Princess",
    "snippet": "Essence Mascara Lash Princess\nBrand: Essence\nCategory: beauty\n"
    "Tags: beauty, mascara\nA popular mascara known for its volumizing effects.",
    "score": 1.0,
}


def test_card_shows_every_fact_and_the_cited_snippet() -> None:
    card = product_card(SOURCE, RECORD)
    for text in ("Essence Mascara Lash Princess", "$9.99", "Essence", "beauty", "2.6", "In Stock"):
        assert text in card
    assert 'data-product-id="1"' in card and 'data-price="9.99"' in card
    # The snippet starts after the header lines the card already shows.
    assert '<blockquote class="aisle-snippet">A popular mascara known' in card


def test_card_escapes_everything_from_the_catalog() -> None:
    evil = '<img src=x onerror="alert(1)">'
    record = {**RECORD, "title": evil, "brand": evil, "category": evil, "availability": evil}
    source = {**SOURCE, "product_id": '1" onclick="x', "snippet": f"<script>{evil}</script>"}
    card = product_card(source, record)
    assert "<img" not in card and "<script" not in card and 'onclick="x' not in card
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in card


def test_card_without_a_record_still_shows_the_source() -> None:
    card = product_card({"product_id": "9", "title": "Mystery", "snippet": "Only this."}, None)
    assert "Mystery" in card and "Only this." in card
    assert "Price n/a" in card and "Stock unknown" in card and "data-price" not in card


@pytest.mark.parametrize(
    ("extra", "badge"),
    [
        ({"in_stock": False, "stock": 0, "availability": "Out of Stock"}, "Out of stock"),
        ({"stock": 4, "availability": "Low Stock"}, "Only 4 left"),
        ({"in_stock": None, "stock": None, "availability": None}, "Stock unknown"),
    ],
)
def test_stock_badges(extra: dict, badge: str) -> None:
    assert badge in product_card(SOURCE, {**RECORD, **extra})


def test_cards_keep_the_answer_order_and_long_snippets_are_cut() -> None:
    long = {**SOURCE, "product_id": "2", "snippet": "word " * 200}
    html = product_cards([long, SOURCE], {"1": RECORD})
    assert html.index('data-product-id="2"') < html.index('data-product-id="1"')
    assert "2 products behind this answer" in html
    assert "word word…" in html and "word " * 60 not in html
    assert "No products were cited" in product_cards([], {})


def test_notices_for_refusals_and_relaxed_constraints() -> None:
    assert answer_notice({"refused": False, "relaxed": None}) == ""
    refused = answer_notice({"refused": True, "reason": "no <b>such</b> product"})
    assert "No grounded answer" in refused and "&lt;b&gt;such&lt;/b&gt;" in refused
    relaxed = answer_notice({"refused": False, "relaxed": ["max_price 5.0", "in_stock true"]})
    assert "maximum price $5.00, in stock only" in relaxed
    assert describe_relaxed("brand Chanel") == "brand “Chanel”"
    assert describe_relaxed("min_rating 4.0") == "rating at least 4.0"


def test_filter_panel_becomes_request_filters() -> None:
    assert panel_filters("", " ", "", "", False) == {
        "min_price": None,
        "max_price": None,
        "category": None,
        "brand": None,
        "in_stock": None,  # unticked is "don't care", never "out of stock only"
    }
    assert panel_filters("$5", "1,200.50", "beauty", "Essence", True) == {
        "min_price": 5.0,
        "max_price": 1200.5,
        "category": "beauty",
        "brand": "Essence",
        "in_stock": True,
    }


@pytest.mark.parametrize(
    ("low", "high", "problem"),
    [("ten", "", "not a number"), ("-1", "", "zero or more"), ("50", "10", "above the maximum")],
)
def test_filter_panel_problems_are_sentences(low: str, high: str, problem: str) -> None:
    with pytest.raises(FilterProblem, match=problem):
        panel_filters(low, high, "", "", False)


def test_parse_price_rejects_non_finite() -> None:
    with pytest.raises(FilterProblem):
        parse_price("inf", "maximum price")


def test_several_passages_of_one_product_make_one_card() -> None:
    from ui.render import distinct_products, product_cards

    sources = [
        {"product_id": "1", "title": "Mascara", "snippet": "first passage", "score": 0.9},
        {"product_id": "1", "title": "Mascara", "snippet": "second passage", "score": 0.8},
        {"product_id": "2", "title": "Lipstick", "snippet": "other", "score": 0.7},
    ]
    assert [s["snippet"] for s in distinct_products(sources)] == ["first passage", "other"]
    html = product_cards(sources, {})
    assert html.count('data-product-id="1"') == 1 and 'data-product-id="2"' in html
    assert "first passage" in html and "second passage" not in html


def test_prices_follow_the_catalog_currency_from_the_facets() -> None:
    from ui.render import Money

    rupees = Money.from_facets({"currency": "INR", "locale": "en_IN"})
    card = product_card(SOURCE, {**RECORD, "price": 150000}, rupees)
    assert "₹1,50,000.00" in card and "$" not in card
    assert describe_relaxed("max_price 300.0", rupees) == "maximum price ₹300.00"
    assert panel_filters("₹1,50,000", "2,00,000", "", "", False, rupees)["max_price"] == 200000
    euros = Money.from_facets({"currency": "EUR", "locale": "de_DE"})
    assert euros.format(1299) == "1.299,00\xa0€" and euros.parse("1.299,00 €") == 1299.0
    # Unknown values from a broken API fall back to dollars rather than failing the page.
    assert Money.from_facets({"currency": "???", "locale": "xx"}) == Money()

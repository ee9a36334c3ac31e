"""HTML for product cards and notices. Everything from the catalog is escaped here.

Pure functions of API data (no Gradio import), so the page's content is testable without a
browser.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from html import escape
from typing import Any

SNIPPET_CHARS = 240


def _text(value: Any) -> str:
    return escape(str(value), quote=True)


@dataclass(frozen=True)
class Money:
    """The catalog's currency and locale (from ``GET /v1/facets``), for printing and reading
    prices with babel: ``₹1,50,000.00`` in en_IN, ``$1,299.00`` in en_US."""

    currency: str = "USD"
    locale: str = "en_US"

    @classmethod
    def from_facets(cls, facets: dict[str, Any] | None) -> Money:
        from babel import Locale, UnknownLocaleError
        from babel.numbers import is_currency

        currency = str((facets or {}).get("currency") or cls.currency).upper()
        locale = str((facets or {}).get("locale") or cls.locale)
        try:
            Locale.parse(locale)
        except (UnknownLocaleError, ValueError):
            locale = cls.locale
        return cls(currency if is_currency(currency) else cls.currency, locale)

    def format(self, value: Any) -> str | None:
        from babel.numbers import format_currency

        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if not math.isfinite(value):
            return None
        return str(format_currency(value, self.currency, locale=self.locale))

    def parse(self, text: str) -> float:
        """A typed amount ("₹1,50,000", "1.299,00 €", "$5"); ValueError when it is none."""
        from babel.numbers import NumberFormatError, get_currency_symbol, parse_decimal

        cleaned = text.strip()
        for marker in (get_currency_symbol(self.currency, self.locale), self.currency):
            cleaned = cleaned.replace(marker, "")
        # Currency signs of any currency ($, €, ₹) and spaces are not part of the number.
        cleaned = "".join(c for c in cleaned if unicodedata.category(c) != "Sc" and not c.isspace())
        if not cleaned or not all(c.isdigit() or c in ".,'+-" for c in cleaned):
            raise ValueError(text)
        try:
            return float(parse_decimal(cleaned, locale=self.locale))
        except NumberFormatError:
            raise ValueError(text) from None


DEFAULT_MONEY = Money()


def format_price(price: Any, money: Money = DEFAULT_MONEY) -> str | None:
    return money.format(price)


def _stock_badge(record: dict[str, Any]) -> str:
    in_stock = record.get("in_stock")
    availability = record.get("availability")
    stock = record.get("stock")
    if in_stock is False:
        return '<span class="aisle-stock aisle-stock-out">Out of stock</span>'
    if in_stock is True:
        label = str(availability) if availability else "In stock"
        if isinstance(stock, int) and not isinstance(stock, bool) and 0 < stock < 10:
            label = f"Only {stock} left"
        low = "low" in label.lower() or label.startswith("Only")
        kind = "aisle-stock-low" if low else "aisle-stock-in"
        return f'<span class="aisle-stock {kind}">{_text(label)}</span>'
    return '<span class="aisle-stock aisle-stock-unknown">Stock unknown</span>'


def _rating(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    stars = max(0, min(5, round(value)))
    return (
        f'<span class="aisle-rating" title="Rated {value:.1f} out of 5">'
        f'<span class="aisle-stars" aria-hidden="true">{"★" * stars}{"☆" * (5 - stars)}</span>'
        f" {value:.1f}</span>"
    )


# Chunk texts start with the product's header lines; the card shows those facts already.
_HEADER_PREFIXES = ("brand:", "category:", "tags:")


def _snippet(text: Any, title: str) -> str:
    lines = [line.strip() for line in str(text or "").splitlines()]
    while lines and (
        not lines[0] or lines[0] == title or lines[0].lower().startswith(_HEADER_PREFIXES)
    ):
        lines.pop(0)
    value = " ".join(" ".join(lines).split())
    if len(value) > SNIPPET_CHARS:
        value = value[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return value


def product_card(
    source: dict[str, Any], record: dict[str, Any] | None, money: Money = DEFAULT_MONEY
) -> str:
    """One card: the source (title, cited snippet) completed by the product record."""
    record = record or {}
    product_id = str(source.get("product_id") or record.get("product_id") or "")
    title = record.get("title") or source.get("title") or product_id
    price = format_price(record.get("price"), money)
    facts = [str(value) for value in (record.get("brand"), record.get("category")) if value]
    price_attr = f' data-price="{_text(record["price"])}"' if price else ""
    parts = [
        f'<article class="aisle-card" data-product-id="{_text(product_id)}"{price_attr}>',
        '<div class="aisle-card-head">',
        f'<h4 class="aisle-card-title">{_text(title)}</h4>',
        f'<span class="aisle-price">{_text(price)}</span>'
        if price
        else '<span class="aisle-price aisle-price-unknown">Price n/a</span>',
        "</div>",
    ]
    if facts:
        parts.append(f'<div class="aisle-facts">{" · ".join(_text(f) for f in facts)}</div>')
    parts.append(
        f'<div class="aisle-badges">{_rating(record.get("rating"))}{_stock_badge(record)}</div>'
    )
    if snippet := _snippet(source.get("snippet"), str(title)):
        parts.append(f'<blockquote class="aisle-snippet">{_text(snippet)}</blockquote>')
    parts.append("</article>")
    return "".join(parts)


def distinct_products(sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An answer may list several passages of one product: keep its first (best) one."""
    firsts: dict[str, dict[str, Any]] = {}
    for source in sources:
        firsts.setdefault(str(source.get("product_id")), source)
    return list(firsts.values())


def product_cards(
    sources: list[dict[str, Any]],
    records: dict[str, dict[str, Any]],
    money: Money = DEFAULT_MONEY,
) -> str:
    """The cards for one answer's sources, in the answer's order."""
    if not sources:
        return '<div class="aisle-cards-empty">No products were cited for this answer.</div>'
    cards = [
        product_card(source, records.get(str(source.get("product_id"))), money)
        for source in distinct_products(sources)
    ]
    count = len(cards)
    heading = f"{count} product{'s' if count != 1 else ''} behind this answer"
    return (
        f'<section class="aisle-cards-wrap" aria-label="{heading}">'
        f'<h3 class="aisle-cards-heading">{heading}</h3>'
        f'<div class="aisle-cards">{"".join(cards)}</div></section>'
    )


CARDS_PLACEHOLDER = (
    '<div class="aisle-cards-empty">Ask a question: the products behind each answer '
    "show up here.</div>"
)


NO_PRODUCTS = '<div class="aisle-cards-empty">No products to show for this question.</div>'
SEARCHING = '<div class="aisle-cards-empty">Looking through the catalog…</div>'


def describe_relaxed(item: Any, money: Money = DEFAULT_MONEY) -> str:
    """``"max_price 5.0"`` (the API's ``relaxed`` entries) -> ``"maximum price $5.00"``."""
    name, _, value = str(item).partition(" ")
    if name in ("min_price", "max_price"):
        label = "minimum price" if name == "min_price" else "maximum price"
        try:
            return f"{label} {money.format(float(value)) or value}"
        except ValueError:
            return f"{label} {value}"
    if name == "in_stock":
        return "in stock only"
    if name == "min_rating":
        return f"rating at least {value}"
    if name in ("brand", "category"):
        return f"{name} “{value}”"
    return str(item).replace("_", " ")


def answer_notice(response: dict[str, Any], money: Money = DEFAULT_MONEY) -> str:
    """A calm notice for a refusal or relaxed constraints; empty when there is neither."""
    notes = []
    if response.get("refused"):
        reason = response.get("reason") or "the catalog does not say."
        notes.append(
            "<strong>No grounded answer.</strong> I could not answer that from the catalog: "
            f"{_text(reason)}"
        )
    relaxed = response.get("relaxed") or []
    if relaxed:
        dropped = ", ".join(_text(describe_relaxed(item, money)) for item in relaxed)
        notes.append(
            "<strong>Constraints relaxed.</strong> Nothing matched everything you asked for, "
            f"so these were loosened: {dropped}."
        )
    if not notes:
        return ""
    body = "".join(f"<p>{note}</p>" for note in notes)
    return f'<div class="aisle-notice aisle-notice-info" role="status">{body}</div>'


def status_notice(message: str) -> str:
    """A banner about the service itself (down, coming back)."""
    return f'<div class="aisle-notice aisle-notice-warn" role="status">{_text(message)}</div>'

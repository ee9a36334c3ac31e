"""The filter panel's data: facets from the API (cached) and the shopper's entries as filters."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from ui.client import ApiClient
from ui.render import DEFAULT_MONEY, Money

FACETS_TTL_S = 60.0  # new categories/brands after an ingest show up within a minute


class FacetsCache:
    """Facets fetched lazily and kept briefly: every page load needs them, they rarely change."""

    def __init__(self, client: ApiClient, ttl_s: float = FACETS_TTL_S) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._value: dict[str, Any] | None = None
        self._fetched_at = 0.0

    def get(self) -> dict[str, Any]:
        """The facets; raises ApiError when the API cannot give them."""
        with self._lock:
            if self._value is not None and time.monotonic() - self._fetched_at < self._ttl_s:
                return self._value
        value = self._client.facets()
        with self._lock:
            self._value, self._fetched_at = value, time.monotonic()
        return value

    def money(self) -> Money:
        """The catalog's currency and locale as last fetched (USD before any fetch)."""
        with self._lock:
            return Money.from_facets(self._value)


class FilterProblem(ValueError):
    """The filter panel holds something the shopper has to fix; the message says what."""


def parse_price(text: str | None, label: str, money: Money = DEFAULT_MONEY) -> float | None:
    """``"$1,200.50"`` -> 1200.5, ``"₹1,50,000"`` -> 150000 in en_IN; empty -> None."""
    if not (text or "").strip():
        return None
    try:
        value = money.parse(text or "")
    except ValueError:
        raise FilterProblem(f"The {label} “{text}” is not a number; please fix it.") from None
    if not math.isfinite(value) or value < 0:
        raise FilterProblem(f"The {label} must be zero or more; please fix it.")
    return value


def panel_filters(
    min_price: str | None,
    max_price: str | None,
    category: str | None,
    brand: str | None,
    in_stock: bool,
    money: Money = DEFAULT_MONEY,
) -> dict[str, Any]:
    """The filter panel as the API's ``filters`` (unset fields are left out by the client)."""
    low = parse_price(min_price, "minimum price", money)
    high = parse_price(max_price, "maximum price", money)
    if low is not None and high is not None and low > high:
        raise FilterProblem("The minimum price is above the maximum price; please fix it.")
    return {
        "min_price": low,
        "max_price": high,
        "category": category or None,
        "brand": brand or None,
        # Unticked means "don't care", not "out of stock only".
        "in_stock": True if in_stock else None,
    }


def facet_choices(facet: Any, any_label: str) -> list[tuple[str, str]]:
    """A facet's ``[{name, count}]`` as dropdown choices, after "any" (value "")."""
    options = [(any_label, "")]
    for item in facet if isinstance(facet, list) else []:
        if isinstance(item, dict) and item.get("name"):
            name = str(item["name"])
            count = item.get("count")
            options.append((f"{name} ({count})" if count is not None else name, name))
    return options
